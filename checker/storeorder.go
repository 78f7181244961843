package checker

import (
	"fmt"
	"math"

	"github.com/election-harness/harness/histories"
)

// A register whose writes all carry distinct values, read back from a
// record of every change, has a known write order: the store's. Given
// it, linearizability is a question of placing each write's effect
// inside its call, in that order, so that every read falls between the
// write of the value it returned and the next write. Reads constrain
// only their neighbours' effects, so one pass over the writes decides
// it, in time linear in the operations: no search, no state explosion,
// no budget to run out of.

// orderedWrite is one write in the store's order, with the interval in
// which it took effect. The interval is its call, closed by its completion.
// A write whose outcome the client never learnt is closed instead by the
// first event known to follow its revision.
type orderedWrite struct {
	w        *op
	put      histories.Event
	from, to int64
	// readsOf: reads that returned this write's value.
	readsOf []*op
}

// storeOrderVerdict is what the store-order check found on one key.
type storeOrderVerdict struct {
	ok      bool
	message string
	events  []histories.Event
	// reads and writes checked.
	reads, writes int64
}

// checkInStoreOrder decides linearizability of key's register, given
// that the record holds every change. It returns ok=false with the
// smallest set of operations that cannot be placed.
func checkInStoreOrder(h *history, key string, rr *registerRecord, bounds *revisionTimes) storeOrderVerdict {
	var ws []*orderedWrite
	at := map[string]int{} // value -> index in ws
	for _, l := range rr.landed {
		if l.put.Key != key {
			continue
		}
		ow := &orderedWrite{w: l.write, put: l.put, from: l.write.invoke.Time, to: l.write.done.Time}
		if l.write.done.Type != histories.OK {
			ow.to, _, _ = bounds.notAfter(l.put.Revision)
		}
		at[l.write.invoke.Value] = len(ws)
		ws = append(ws, ow)
	}
	v := storeOrderVerdict{ok: true, writes: int64(len(ws))}
	var initialReads []*op // reads of the initial absence
	for _, r := range h.ops[histories.FRead] {
		if r.invoke.Key != key || r.done.Type != histories.OK {
			continue
		}
		v.reads++
		val := r.done.Value
		if val == "" {
			initialReads = append(initialReads, r)
			continue
		}
		i, ok := at[val]
		if !ok {
			v.ok = false
			v.message, v.events = readOfUnrecordedValue(h, rr, r)
			return v
		}
		ws[i].readsOf = append(ws[i].readsOf, r)
	}
	// The forward pass: the earliest each write can take effect, given
	// the writes before it, against the latest it must have.
	p := int64(math.MinInt64)
	var pCause *placement
	for k, ow := range ws {
		lo := &placement{t: ow.from, op: ow.w, isWrite: true, k: k}
		prevReads := initialReads
		if k > 0 {
			prevReads = ws[k-1].readsOf
		}
		for _, r := range prevReads {
			if r.invoke.Time > lo.t {
				lo = &placement{t: r.invoke.Time, op: r, k: k - 1}
			}
		}
		if lo.t > p {
			p, pCause = lo.t, lo
		}
		hi := &placement{t: ow.to, op: ow.w, isWrite: true, k: k}
		for _, r := range ow.readsOf {
			if r.done.Time < hi.t {
				hi = &placement{t: r.done.Time, op: r, k: k}
			}
		}
		if p > hi.t {
			v.ok = false
			v.message, v.events = explainOrder(ws, pCause, hi)
			return v
		}
	}
	return v
}

// placement is a bound on a write's effect and the operation behind it:
// a write's own call or completion, or a read of a neighbouring value.
type placement struct {
	t       int64
	op      *op
	isWrite bool
	k       int // the write (isWrite) or the write whose value was read (-1: none)
}

// explainOrder says why the writes from lo's to hi's cannot be placed:
// lo forces them after lo.t, hi needs the last of them before hi.t.
func explainOrder(ws []*orderedWrite, lo, hi *placement) (string, []histories.Event) {
	valueOf := func(k int) string {
		if k < 0 {
			return "nothing"
		}
		return fmt.Sprintf("%q", ws[k].w.invoke.Value)
	}
	at := func(t int64) string { return fmt.Sprintf("%.3fs", float64(t)/1e9) }
	ev := []histories.Event{lo.op.invoke, lo.op.done, hi.op.invoke, hi.op.done}
	switch {
	case !lo.isWrite && hi.isWrite:
		// A read began after a later write completed, and saw an older value.
		w := ws[hi.k]
		if lo.k >= 0 {
			ev = append([]histories.Event{ws[lo.k].w.invoke, ws[lo.k].w.done, ws[lo.k].put}, ev...)
		}
		return fmt.Sprintf("stale read: %s read %s after %q had overwritten it (%s's write, revision %d, completed at %s; the read began at %s)",
			lo.op.process(), valueOf(lo.k), w.w.invoke.Value, w.w.process(), w.put.Revision, at(hi.t), at(lo.t)), append(ev, w.put)
	case !lo.isWrite && !hi.isWrite:
		// Two reads: one saw a newer value, then a later one an older.
		return fmt.Sprintf("stale read: %s read %s at %s, after %s had already read the later %q (revision %d) by %s",
				lo.op.process(), valueOf(lo.k), at(lo.t), hi.op.process(), ws[hi.k].w.invoke.Value, ws[hi.k].put.Revision, at(hi.t)),
			append(ev, ws[hi.k].w.invoke, ws[hi.k].put)
	case lo.isWrite && !hi.isWrite:
		// A read returned a value before a write the store put earlier
		// had even begun.
		return fmt.Sprintf("read from the future: %s read %q by %s, but %s's write of %q, which the store put before it (revision %d), only began at %s",
				hi.op.process(), ws[hi.k].w.invoke.Value, at(hi.t), lo.op.process(), lo.op.invoke.Value, ws[lo.k].put.Revision, at(lo.t)),
			append(ev, ws[lo.k].put, ws[hi.k].put)
	default:
		return fmt.Sprintf("the store's order contradicts real time: it put %s's write of %q (revision %d) before %s's write of %q (revision %d), but the second completed at %s, before the first began at %s",
				lo.op.process(), lo.op.invoke.Value, ws[lo.k].put.Revision, hi.op.process(), hi.op.invoke.Value, ws[hi.k].put.Revision, at(hi.t), at(lo.t)),
			append(ev, ws[lo.k].put, ws[hi.k].put)
	}
}

// readOfUnrecordedValue explains a read of a value the complete record
// never held.
func readOfUnrecordedValue(h *history, rr *registerRecord, r *op) (string, []histories.Event) {
	w := rr.writeOf[keyValue{r.invoke.Key, r.done.Value}]
	if w == nil {
		return fmt.Sprintf("%s read %q, which no write produced", r.process(), r.done.Value), []histories.Event{r.invoke, r.done}
	}
	how := map[histories.Type]string{histories.OK: "acknowledged", histories.Fail: "reported failed", histories.Info: "of unknown outcome"}[w.done.Type]
	return fmt.Sprintf("%s read %q, which the store's complete record never held (%s's write of it was %s)", r.process(), r.done.Value, w.process(), how),
		[]histories.Event{w.invoke, w.done, r.invoke, r.done}
}
