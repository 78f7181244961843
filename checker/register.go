package checker

import (
	"context"
	"fmt"
	"html"
	"sort"

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
		in, out := input.(RegisterInput), output.(RegisterOutput)
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
// writes of unknown outcome returning at infinity; failed operations
// (which did not happen) and reads that did not complete, left out.
func registerOps(h *history, key string) []porcupine.Operation {
	clients := map[string]int{}
	client := func(p string) int {
		if id, ok := clients[p]; ok {
			return id
		}
		clients[p] = len(clients)
		return clients[p]
	}
	var ops []porcupine.Operation
	pending := int64(0)
	for _, f := range []string{histories.FWrite, histories.FRead} {
		for _, o := range h.ops[f] {
			if o.invoke.Key != key {
				continue
			}
			p := porcupine.Operation{ClientId: client(o.process()), Call: o.invoke.Time, Return: o.done.Time}
			switch {
			case o.done.Type == histories.Fail:
				continue
			case f == histories.FWrite:
				p.Input = RegisterInput{Kind: "write", Value: o.invoke.Value}
				p.Output = RegisterOutput{}
				if o.done.Type != histories.OK {
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
		}
	}
	return ops
}

// RegisterOperations are the porcupine operations P4 checks, by register
// key: for porcupine's visualization, and for anyone re-checking.
func RegisterOperations(events []histories.Event) map[string][]porcupine.Operation {
	h := index(events)
	out := map[string][]porcupine.Operation{}
	for _, key := range registerKeys(h) {
		out[key] = registerOps(h, key)
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

// checkRegister is P4: the fenced register is linearizable (porcupine,
// per key), and no write of a term lands after a write of a later term.
func checkRegister(ctx context.Context, h *history, rec *record, opts Options) CheckResult {
	c := newCheck("P4", "P4 fenced work is linearizable")
	for _, f := range []string{histories.FWrite, histories.FRead} {
		for _, o := range h.ops[f] {
			c.Counts[f+"s-"+string(o.done.Type)]++
		}
	}
	mode := opts.ReadConsistency
	if mode == "" {
		mode = "linearizable"
	}
	for _, key := range registerKeys(h) {
		if opts.ReadConsistency == "stale" {
			checkStaleModeReads(&c, h, key)
			continue
		}
		ops := registerOps(h, key)
		c.Counts["ops-checked"] += int64(len(ops))
		res, _ := porcupine.CheckOperationsVerbose(RegisterModel, ops, opts.LinearizabilityTimeout)
		switch res {
		case porcupine.Illegal:
			msg, events := explainNonLinearizable(h, key)
			if opts.ReadConsistency != "" {
				msg += fmt.Sprintf(" (a read in %q consistency mode)", opts.ReadConsistency)
			}
			c.fail(fmt.Sprintf("register %s is not linearizable: %s", key, msg), events...)
		case porcupine.Unknown:
			c.unknown(fmt.Sprintf("porcupine ran out of time (%v) on register %s (%d operations)", opts.LinearizabilityTimeout, key, len(ops)))
		}
	}
	checkTermOrder(&c, h, rec)
	if c.Counts["ops-checked"] == 0 && c.Counts["reads-checked"] == 0 {
		c.unknown("no register operation completed")
	}
	// After any reason for unknown: the summary quotes the first note.
	c.Notes = append(c.Notes, "reads were made in "+mode+" mode")
	if n := c.Counts["stale-reads"]; n > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("%d stale reads, which %s mode allows", n, mode))
	}
	return c
}

// checkTermOrder finds stale-leader writes: in the store's order (or,
// without a record, in real time), a write of a term after a write of a
// later term.
func checkTermOrder(c *CheckResult, h *history, rec *record) {
	writes := map[string]*op{} // value -> write
	for _, o := range h.ops[histories.FWrite] {
		writes[o.invoke.Value] = o
	}
	if rec.present {
		var latest *op
		var latestPut histories.Event
		for _, put := range rec.registerPuts {
			c.Counts["store-puts-checked"]++
			w := writes[put.Value]
			if w == nil {
				c.fail(fmt.Sprintf("register %s holds %q at revision %d, which no write produced", put.Key, put.Value, put.Revision), put)
				continue
			}
			if w.invoke.Token == nil {
				continue
			}
			if latest != nil && w.invoke.Token.Seq < latest.invoke.Token.Seq {
				c.fail(fmt.Sprintf("stale-leader write: %s wrote %q with term %s, accepted at revision %d after %s's write of later term %s at revision %d",
					w.process(), w.invoke.Value, w.invoke.Token, put.Revision, latest.process(), latest.invoke.Token, latestPut.Revision),
					latest.invoke, latest.done, latestPut, w.invoke, w.done, put)
				continue
			}
			latest, latestPut = w, put
		}
		return
	}
	// No record: only ok writes, ordered in real time.
	var done []*op
	for _, o := range h.ops[histories.FWrite] {
		if o.done.Type == histories.OK && o.invoke.Token != nil {
			done = append(done, o)
		}
	}
	sort.Slice(done, func(i, j int) bool { return done[i].done.Time < done[j].done.Time })
	var best *op
	next := 0
	for _, w := range h.ops[histories.FWrite] {
		if w.done.Type != histories.OK || w.invoke.Token == nil {
			continue
		}
		for next < len(done) && done[next].done.Time < w.invoke.Time {
			if best == nil || done[next].invoke.Token.Seq > best.invoke.Token.Seq {
				best = done[next]
			}
			next++
		}
		if best != nil && w.invoke.Token.Seq < best.invoke.Token.Seq {
			c.fail(fmt.Sprintf("stale-leader write: %s wrote %q with term %s after %s's write of later term %s had completed",
				w.process(), w.invoke.Value, w.invoke.Token, best.process(), best.invoke.Token), best.invoke, best.done, w.invoke, w.done)
		}
	}
}

// checkStaleModeReads checks the reads of key made in stale mode, which
// may return any value the register once held: each must be a value
// some write produced (or the initial absence); reads of a value already
// overwritten when the read began are counted, as the mode allows them.
func checkStaleModeReads(c *CheckResult, h *history, key string) {
	writeOf := writesOf(h, key)
	for _, r := range h.ops[histories.FRead] {
		if r.invoke.Key != key || r.done.Type != histories.OK {
			continue
		}
		c.Counts["reads-checked"]++
		v := r.done.Value
		w := writeOf[v]
		if v != "" && w == nil {
			c.fail(fmt.Sprintf("%s read %q from register %s, which no write produced", r.process(), v, key), r.invoke, r.done)
			continue
		}
		if w != nil && w.invoke.Time > r.done.Time {
			c.fail(fmt.Sprintf("%s read %q from register %s before anyone wrote it", r.process(), v, key), r.invoke, r.done, w.invoke)
			continue
		}
		if overwriter(h, key, v, w, r.invoke.Time) != nil {
			c.Counts["stale-reads"]++
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
// of a value overwritten before the read began.
func explainNonLinearizable(h *history, key string) (string, []histories.Event) {
	writeOf := writesOf(h, key)
	for _, r := range h.ops[histories.FRead] {
		if r.invoke.Key != key || r.done.Type != histories.OK {
			continue
		}
		v := r.done.Value
		w := writeOf[v]
		if v != "" && w == nil {
			return fmt.Sprintf("%s read %q, which no write produced", r.process(), v), []histories.Event{r.invoke, r.done}
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
			return fmt.Sprintf("stale read: %s read %s after %q had overwritten it", r.process(), read, w2.invoke.Value), ev
		}
	}
	return "porcupine found no linearization (no single stale read explains it)", nil
}
