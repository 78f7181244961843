package checker

import (
	"context"
	"fmt"
	"html"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/election-harness/harness/histories"
)

// RegisterInput is one register operation for porcupine.
type RegisterInput struct {
	Kind  string // "read", "write" or "cas"
	Value string // write: the value; cas: the new value
	From  string // cas: the expected value
}

// RegisterOutput is its result. Unknown accepts any outcome (an
// indeterminate operation, which porcupine places anywhere after its
// call).
type RegisterOutput struct {
	Value   string // read: the value, "" when absent
	OK      bool   // cas: whether it swapped
	Unknown bool
}

// RegisterModel is a single register whose initial value is "" (absent).
var RegisterModel = porcupine.Model{
	Init: func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		st, in, out := state.(string), input.(RegisterInput), output.(RegisterOutput)
		switch in.Kind {
		case "write":
			return true, in.Value
		case "cas":
			next := st
			if st == in.From {
				next = in.Value
			}
			return out.Unknown || out.OK == (st == in.From), next
		default:
			return out.Unknown || out.Value == st, st
		}
	},
	DescribeOperation: func(input, output any) string {
		// Porcupine's visualization may hand over what it could not
		// place (nil): it is described, never a panic.
		in, okIn := input.(RegisterInput)
		out, okOut := output.(RegisterOutput)
		if !okIn || !okOut {
			return fmt.Sprintf("(an operation the register model cannot describe: %v -> %v)", input, output)
		}
		switch in.Kind {
		case "write":
			return fmt.Sprintf("write(%q)", in.Value)
		case "cas":
			return fmt.Sprintf("cas(%q, %q) -> %v", in.From, in.Value, out.OK)
		}
		if out.Unknown {
			return "read() -> ?"
		}
		return fmt.Sprintf("read() -> %q", out.Value)
	},
	// Porcupine's visualization shows states as HTML (and operations as
	// text): a value from the history must not become markup.
	DescribeState: func(state any) string { return html.EscapeString(fmt.Sprintf("%q", state)) },
}

// registerOps turns the history's register operations on one key into
// porcupine operations: ok writes and reads with their real intervals;
// failed operations (which did not happen) and reads that did not
// complete, left out. A write of unknown outcome that the record shows
// landing took effect before the first event known to follow its
// revision; one a record of every change lacks never happened; any
// other returns at infinity.
func registerOps(h *history, key string, rec *record, rr *registerRecord, bounds *revisionTimes) ([]porcupine.Operation, []*op) {
	clients := map[string]int{}
	client := func(p string) int {
		if id, ok := clients[p]; ok {
			return id
		}
		clients[p] = len(clients)
		return clients[p]
	}
	var ops []porcupine.Operation
	var sources []*op
	pending := int64(0)
	for _, f := range []string{histories.FWrite, histories.FRead} {
		for _, o := range h.ops[f] {
			if o.invoke.Key != key {
				continue
			}
			p := porcupine.Operation{ClientId: client(o.process()), Call: o.invoke.Time, Return: o.done.Time}
			switch {
			case f == histories.FWrite:
				put, landed := rr.putOf[o]
				if o.done.Type == histories.Fail && !landed {
					continue
				}
				p.Input = RegisterInput{Kind: "write", Value: o.invoke.Value}
				p.Output = RegisterOutput{}
				switch {
				case o.done.Type == histories.OK:
				case landed:
					p.Return, _, _ = bounds.notAfter(put.Revision)
					// A put received before the write was invoked bounds
					// its return before its call; porcupine needs call ≤
					// return, and the write can take effect no earlier
					// than its call.
					p.Return = max(p.Return, p.Call)
				case rec.complete && rec.everyChange:
					continue
				default:
					// Distinct "infinite" returns keep porcupine's event order total.
					pending++
					p.Return = never - pending
				}
			case o.done.Type == histories.OK:
				p.Input = RegisterInput{Kind: "read"}
				p.Output = RegisterOutput{Value: o.done.Value}
			default:
				continue
			}
			ops = append(ops, p)
			sources = append(sources, o)
		}
	}
	return ops, sources
}

// RegisterOperations are the porcupine operations P4 checks, by register
// key: for porcupine's visualization, and for anyone re-checking.
func RegisterOperations(events []histories.Event, opts Options) map[string][]porcupine.Operation {
	h, err := index(events)
	if err != nil {
		return nil
	}
	rec := replayRecord(h, opts)
	rr := attributePuts(h, rec)
	bounds := newRevisionTimes(rec.ordered, rr.landed)
	out := map[string][]porcupine.Operation{}
	for _, key := range registerKeys(h) {
		out[key], _ = registerOps(h, key, rec, rr, bounds)
	}
	return out
}

// registerKeys lists the keys of register operations, sorted.
func registerKeys(h *history) []string {
	seen := map[string]bool{}
	var keys []string
	for _, f := range []string{histories.FWrite, histories.FRead} {
		for _, o := range h.ops[f] {
			if !seen[o.invoke.Key] {
				seen[o.invoke.Key] = true
				keys = append(keys, o.invoke.Key)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// crossCheckLimit bounds the operations on one key that porcupine
// re-checks after the store-order check has decided: beyond it the
// search costs more than it can add.
const crossCheckLimit = 20000

// checkRegister is P4: no leader's write lands outside its term's reign
// in the store's record, and the fenced register is linearizable.
// With a record of every change, linearizability is decided in the
// store's own order (exact, linear time), and porcupine re-checks small
// registers as an independent second opinion; otherwise porcupine
// decides, per key.
func checkRegister(ctx context.Context, h *history, rec *record, rr *registerRecord, bounds *revisionTimes, opts Options) CheckResult {
	c := newCheck("P4", "P4 fenced work is linearizable")
	for _, f := range []string{histories.FWrite, histories.FRead} {
		for _, o := range h.ops[f] {
			c.Counts[countRegisterOps(f, o.done.Type)]++
		}
	}
	mode := opts.ReadConsistency
	if mode == "" {
		mode = "linearizable"
	}
	var undecided []string
	for _, e := range storeRegressions(h) {
		c.failAs(blameRegressed, fmt.Sprintf("the store went back in time: a linearizable read answered at revision %d, below revision %s its record had already seen: changes it acknowledged were lost", e.Revision, e.Value), e)
	}
	for _, e := range h.events {
		if e.F == histories.FStoreState {
			checkStoreState(&c, rec, e)
		}
	}
	checkStoreHistory(&c, rec)
	if rec.present {
		checkFencing(&c, h, rec, rr)
		if c.Counts[CountPutsInTheirReign] == 0 && c.Verdict != Invalid {
			undecided = append(undecided, "no write's landing could be checked against its term's reign in the store's record")
		}
	} else {
		checkTermOrderInRealTime(&c, h)
		if c.Counts[CountWritesOrderedInRealTime] < 2 {
			undecided = append(undecided, "no store record, and fewer than two acknowledged writes to order by term")
		}
	}
	for _, key := range registerKeys(h) {
		if opts.ReadConsistency == "stale" {
			checkStaleModeReads(&c, h, key)
			continue
		}
		checkLinearizable(ctx, &c, h, key, rec, rr, bounds, opts)
	}
	if c.Counts[CountReadsChecked] == 0 {
		undecided = append(undecided, "no read completed against a write that took effect: linearizability had nothing to decide")
	}
	if len(undecided) > 0 && c.Verdict != Invalid {
		for _, u := range undecided {
			c.unknown(u)
		}
	}
	// After any reason for unknown: the summary quotes the first note.
	c.Notes = append(c.Notes, "reads were made in "+mode+" mode")
	if n := c.Counts[CountStaleReads]; n > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("%d stale reads, which %s mode allows", n, mode))
	}
	return c
}

// checkLinearizable checks one key's register in steps. The store-order
// check decides when the record holds every change; otherwise the zone
// check decides when every write is distinct. Porcupine then decides
// what neither could, and is a second opinion on what one did.
func checkLinearizable(ctx context.Context, c *CheckResult, h *history, key string, rec *record, rr *registerRecord, bounds *revisionTimes, opts Options) {
	modeNote := ""
	if opts.ReadConsistency != "" {
		modeNote = fmt.Sprintf(" (a read in %q consistency mode)", opts.ReadConsistency)
	}
	first := registerDecision{by: decidedByPorcupine}
	if rec.complete && rec.everyChange && !ambiguousKey(rr, key) {
		decided := decideInStoreOrder(c, h, key, rr, bounds, modeNote)
		if n := decided.reads + decided.writes; n > crossCheckLimit {
			c.Counts[CountOpsNotCrossChecked] += n
			return
		}
		first = registerDecision{by: decidedInStoreOrder, ok: decided.ok}
	}
	ops, sources := registerOps(h, key, rec, rr, bounds)
	if first.by == decidedByPorcupine {
		// Without the store's order, the zone check decides a register
		// whose writes are all distinct (exact, O(n log n)).
		zones := decideByZones(c, h, key, ops, sources, modeNote)
		if zones.applicable {
			if len(ops) > crossCheckLimit {
				c.Counts[CountOpsNotCrossChecked] += int64(len(ops))
				return
			}
			first = registerDecision{by: decidedByZones, ok: zones.ok}
		}
	}
	crossCheckWithPorcupine(c, h, key, ops, sources, first, opts.LinearizabilityTimeout, modeNote)
}

// registerDecider names the check that decided a register's
// linearizability before porcupine ran, as messages say it.
type registerDecider string

const (
	// decidedByPorcupine: no check applied, so porcupine decides alone.
	decidedByPorcupine  registerDecider = "porcupine"
	decidedInStoreOrder registerDecider = "the store-order check"
	decidedByZones      registerDecider = "the zone check"
)

// registerDecision is the check that decided a register and whether it
// found the register linearizable, for porcupine to second.
type registerDecision struct {
	by registerDecider
	ok bool
}

// decideInStoreOrder decides key's register in the store's own order
// (exact, linear time), counting what it checked and failing c where
// the order does not explain the reads.
func decideInStoreOrder(c *CheckResult, h *history, key string, rr *registerRecord, bounds *revisionTimes, modeNote string) storeOrderVerdict {
	decided := checkInStoreOrder(h, key, rr, bounds)
	c.Counts[CountOpsChecked] += decided.reads + decided.writes
	if decided.writes > 0 || decided.reads > 0 {
		c.Counts[CountReadsChecked] += decided.reads
	}
	if !decided.ok {
		failNotLinearizable(c, key, decided.message+modeNote, decided.events...)
	}
	return decided
}

// decideByZones decides key's register by its zones when its writes are
// all distinct, counting what it checked and failing c with the simplest
// witness it can find; otherwise it leaves c alone.
func decideByZones(c *CheckResult, h *history, key string, ops []porcupine.Operation, sources []*op, modeNote string) zoneVerdict {
	zones := checkZones(ops, func(i int) string { return describeRegisterOp(sources[i]) })
	if !zones.applicable {
		return zones
	}
	c.Counts[CountOpsChecked] += int64(len(ops))
	c.Counts[CountReadsChecked] += zones.reads
	if !zones.ok {
		msg, events, simple := simpleWitness(h, key)
		if !simple {
			msg = zones.message
			for _, i := range zones.ops {
				events = append(events, sources[i].invoke, sources[i].done)
			}
		}
		failNotLinearizable(c, key, msg+modeNote, events...)
	}
	return zones
}

// failNotLinearizable fails c for key's register, saying why.
func failNotLinearizable(c *CheckResult, key, why string, events ...histories.Event) {
	c.failAs(blameRead, fmt.Sprintf("register %s is not linearizable: %s", key, why), events...)
}

// crossCheckWithPorcupine runs porcupine on key's operations. Where
// first is porcupine itself, its answer is the verdict. Otherwise it is
// a second opinion: a disagreement is noted, or made unknown where it
// would put the checker itself in doubt.
func crossCheckWithPorcupine(c *CheckResult, h *history, key string, ops []porcupine.Operation, sources []*op, first registerDecision, timeout time.Duration, modeNote string) {
	res, info := porcupine.CheckOperationsVerbose(RegisterModel, ops, timeout)
	if first.by == decidedByPorcupine {
		c.Counts[CountOpsChecked] += int64(len(ops))
		for _, o := range ops {
			if o.Input.(RegisterInput).Kind == "read" {
				c.Counts[CountReadsChecked]++
			}
		}
		switch res {
		case porcupine.Illegal:
			msg, events := explainNonLinearizable(h, key, sources, info)
			failNotLinearizable(c, key, msg+modeNote, events...)
		case porcupine.Unknown:
			c.unknown(fmt.Sprintf("porcupine ran out of time (%v) on register %s (%d operations)", timeout, key, len(ops)))
		}
		return
	}
	c.Counts[CountOpsCrossChecked] += int64(len(ops))
	switch {
	case res == porcupine.Unknown:
		c.Notes = append(c.Notes, fmt.Sprintf("register %s: porcupine's second opinion ran out of time (%v); %s decided", key, timeout, first.by))
	case first.by == decidedByZones && (res == porcupine.Ok) != first.ok:
		c.unknown(fmt.Sprintf("register %s: porcupine and the zone check disagree (a checker disagreement: report it)", key))
	case first.by == decidedInStoreOrder && res == porcupine.Illegal && first.ok:
		c.unknown(fmt.Sprintf("register %s: porcupine finds no linearization where the store-order check found one (a checker disagreement: report it)", key))
	case first.by == decidedInStoreOrder && res == porcupine.Ok && !first.ok:
		// The store-order check is exact, so its verdict stands; porcupine
		// only searched orders the store did not take.
		c.Notes = append(c.Notes, fmt.Sprintf("register %s: porcupine finds an order of the writes that explains the reads, but not the store's own order", key))
	}
}

// describeRegisterOp names a register operation in a message.
func describeRegisterOp(o *op) string {
	if o.invoke.F == histories.FWrite {
		return fmt.Sprintf("%s's write of %q", o.process(), o.invoke.Value)
	}
	if o.done.Value == "" {
		return fmt.Sprintf("%s's read of nothing", o.process())
	}
	return fmt.Sprintf("%s's read of %q", o.process(), o.done.Value)
}

// ambiguousKey: some value was written to key more than once, so its
// puts cannot all be attributed.
func ambiguousKey(rr *registerRecord, key string) bool {
	for kv := range rr.ambiguous {
		if kv.key == key {
			return true
		}
	}
	return false
}

// checkStaleModeReads checks the reads of key made in stale mode, which may
// return any value the register once held. Each must be a value some write
// produced, or the initial absence. Reads of a value already overwritten
// when the read began are counted, as the mode allows them.
func checkStaleModeReads(c *CheckResult, h *history, key string) {
	writeOf := writesOf(h, key)
	for _, r := range h.ops[histories.FRead] {
		if r.invoke.Key != key || r.done.Type != histories.OK {
			continue
		}
		c.Counts[CountReadsChecked]++
		v := r.done.Value
		w := writeOf[v]
		if v != "" && w == nil {
			c.failAs(blameStore, fmt.Sprintf("%s read %q from register %s, which no write produced", r.process(), v, key), r.invoke, r.done)
			continue
		}
		if w != nil && w.invoke.Time > r.done.Time {
			c.failAs(blameStore, fmt.Sprintf("%s read %q from register %s before anyone wrote it", r.process(), v, key), r.invoke, r.done, w.invoke)
			continue
		}
		if overwriter(h, key, v, w, r.invoke.Time) != nil {
			c.Counts[CountStaleReads]++
		}
	}
}

// writesOf maps each value written to key by a write that may have
// happened (ok or indeterminate) to that write.
func writesOf(h *history, key string) map[string]*op {
	out := map[string]*op{}
	for _, o := range h.ops[histories.FWrite] {
		if o.invoke.Key == key && o.done.Type != histories.Fail {
			out[o.invoke.Value] = o
		}
	}
	return out
}

// overwriter is an ok write of key, completed before t, that overwrote
// value, written by w (nil: the initial absence); nil if none did.
func overwriter(h *history, key, value string, w *op, t int64) *op {
	for _, w2 := range h.ops[histories.FWrite] {
		if w2.invoke.Value == value || w2.invoke.Key != key || w2.done.Type != histories.OK || w2.done.Time >= t {
			continue
		}
		if w == nil || w.done.Time < w2.invoke.Time {
			return w2
		}
	}
	return nil
}

// explainNonLinearizable looks for the simplest witness of a
// non-linearizable register: a read of a value nobody wrote, or a read
// of a value overwritten before the read began; failing those, what
// porcupine's longest partial linearization could not be extended by.
func explainNonLinearizable(h *history, key string, sources []*op, info porcupine.LinearizationInfo) (string, []histories.Event) {
	if msg, ev, ok := simpleWitness(h, key); ok {
		return msg, ev
	}
	return explainPartial(sources, info)
}

// simpleWitness finds a read of a value nobody wrote, or of a value
// overwritten before the read began: each alone proves the register
// not linearizable.
func simpleWitness(h *history, key string) (string, []histories.Event, bool) {
	writeOf := writesOf(h, key)
	for _, r := range h.ops[histories.FRead] {
		if r.invoke.Key != key || r.done.Type != histories.OK {
			continue
		}
		v := r.done.Value
		w := writeOf[v]
		if v != "" && w == nil {
			return fmt.Sprintf("%s read %q, which no write produced", r.process(), v), []histories.Event{r.invoke, r.done}, true
		}
		if w2 := overwriter(h, key, v, w, r.invoke.Time); w2 != nil {
			read := "nothing"
			if v != "" {
				read = fmt.Sprintf("%q", v)
			}
			ev := []histories.Event{w2.invoke, w2.done, r.invoke, r.done}
			if w != nil {
				ev = append([]histories.Event{w.invoke, w.done}, ev...)
			}
			return fmt.Sprintf("stale read: %s read %s after %q had overwritten it", r.process(), read, w2.invoke.Value), ev, true
		}
	}
	return "", nil, false
}

// explainPartial names the operations at which porcupine's longest
// partial linearization stops: the last operation it could place (and
// the write whose value it left), and the unplaced operation that
// returned first, which every linearization must place next.
func explainPartial(sources []*op, info porcupine.LinearizationInfo) (string, []histories.Event) {
	var longest []int
	for _, partition := range info.PartialLinearizations() {
		for _, l := range partition {
			if len(l) > len(longest) {
				longest = l
			}
		}
	}
	placed := make([]bool, len(sources))
	state := ""
	var lastWrite, last *op
	for _, id := range longest {
		if id < 0 || id >= len(sources) {
			continue
		}
		placed[id] = true
		last = sources[id]
		if last.invoke.F == histories.FWrite {
			lastWrite, state = last, last.invoke.Value
		}
	}
	var stuck *op
	for id, o := range sources {
		if !placed[id] && (stuck == nil || o.done.Time < stuck.done.Time) {
			stuck = o
		}
	}
	if stuck == nil {
		return "porcupine found no linearization", nil
	}
	what := fmt.Sprintf("%s's write of %q", stuck.process(), stuck.invoke.Value)
	if stuck.invoke.F == histories.FRead {
		what = fmt.Sprintf("%s's read of %q", stuck.process(), stuck.done.Value)
	}
	var ev []histories.Event
	if lastWrite != nil {
		ev = append(ev, lastWrite.invoke, lastWrite.done)
	}
	if last != nil && last != lastWrite {
		ev = append(ev, last.invoke, last.done)
	}
	ev = append(ev, stuck.invoke, stuck.done)
	return fmt.Sprintf("no single stale read explains it; porcupine placed %d of %d operations, leaving the register at %q, and then %s cannot be placed",
		len(longest), len(sources), state, what), ev
}
