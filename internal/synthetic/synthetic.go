// Package synthetic makes large, valid histories shaped like real runs,
// for benchmarks and for tests of what a long run does to the checker
// and the report. It never talks to a store.
package synthetic

import (
	"fmt"

	"github.com/election-harness/harness/histories"
)

// Prefixes of the keys a synthetic run uses.
const (
	ElectionPrefix = "/eh/synthetic/election/"
	RegisterPrefix = "/eh/synthetic/register/"
	RegisterKey    = RegisterPrefix + "r"
)

// Run returns a valid history of about n events. Five campaigners take
// turns to lead, and each leader writes the register while another reads
// it. Every member is probed, and observers follow each new leader. The
// store's record holds every put and delete, and a fault is injected and
// healed every 25 terms. Reads run across writes, and some writes time out
// (some of those never landing), as they do under faults.
func Run(n int) []histories.Event {
	var events []histories.Event
	now, op, rev := int64(0), int64(0), int64(1)
	add := func(dt int64, e histories.Event) {
		now += dt * 1e6 // milliseconds
		e.Index, e.Time = int64(len(events)), now
		events = append(events, e)
	}
	invoke := func(dt int64, p, f, key, value string, tok *histories.Token) histories.Event {
		op++
		e := histories.Event{Type: histories.Invoke, Process: p, F: f, Op: op, Key: key, Value: value, Token: tok}
		add(dt, e)
		return e
	}
	complete := func(dt int64, inv histories.Event, typ histories.Type, value string, tok *histories.Token) {
		inv.Type = typ
		if inv.F == histories.FRead {
			inv.Value = value
		}
		if tok != nil {
			inv.Token = tok
		}
		add(dt, inv)
	}
	store := func(dt int64, f, key, value string, create int64) {
		rev++
		if create == 0 {
			create = rev
		}
		add(dt, histories.Event{Type: histories.OK, Process: histories.ProcessStore, F: f, Key: key, Value: value, Revision: rev, CreateRevision: create})
	}
	phase := func(p string) {
		add(1, histories.Event{Type: histories.Info, Process: histories.ProcessHarness, F: histories.FPhase, Value: p})
	}
	add(0, histories.Event{Type: histories.Info, Process: histories.ProcessStore, F: histories.FStoreRecord, Value: histories.RecordEveryChange})
	phase(histories.PhaseStart)
	value, registerCreated := "", int64(0)
	for term := 0; len(events) < n; term++ {
		c := fmt.Sprintf("c%d", term%5+1)
		key := fmt.Sprintf("%s%s-%d", ElectionPrefix, c, term)
		if term%25 == 10 {
			add(1, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart,
				Fault: &histories.Fault{ID: int64(term), Kind: "pause", Targets: []string{"n2"}}})
		}
		camp := invoke(1, c, histories.FCampaign, "", c, nil)
		store(1, histories.FStorePut, key, c, 0)
		tok := &histories.Token{Key: key, Seq: rev}
		complete(1, camp, histories.OK, "", tok)
		for r := 1; r <= 5; r++ {
			add(0, histories.Event{Type: histories.Info, Process: fmt.Sprintf("c%d", r), F: histories.FObserved, Key: key, Value: c, Revision: tok.Seq, CreateRevision: tok.Seq})
		}
		for w := 1; w <= 20; w++ {
			v := fmt.Sprintf("%s/%d/%d", c, tok.Seq, w)
			// Every third write has a read running across it, which
			// returns the value from before it (legal: the read takes
			// effect first).
			concurrent := w%3 == 0
			var overlap histories.Event
			if concurrent {
				overlap = invoke(1, fmt.Sprintf("c%d:r", (term+w+2)%5+1), histories.FRead, RegisterKey, "", nil)
			}
			write := invoke(1, c, histories.FWrite, RegisterKey, v, tok)
			// Every seventh write times out (its outcome unknown to the
			// client); every fourteenth of those never lands.
			lands := w%14 != 0
			if lands {
				store(2, histories.FStorePut, RegisterKey, v, registerCreated)
				if registerCreated == 0 {
					registerCreated = rev
				}
			}
			typ := histories.OK
			if w%7 == 0 {
				typ = histories.Info
			}
			complete(1, write, typ, "", nil)
			if concurrent {
				complete(1, overlap, histories.OK, value, nil)
			}
			if lands {
				value = v
			}
			read := invoke(1, fmt.Sprintf("c%d:r", (term+w)%5+1), histories.FRead, RegisterKey, "", nil)
			complete(2, read, histories.OK, value, nil)
			if w%5 == 0 {
				for m := 1; m <= 3; m++ {
					add(0, histories.Event{Type: histories.OK, Process: fmt.Sprintf("probe:n%d", m), F: histories.FStatus,
						Member: &histories.MemberStatus{Name: fmt.Sprintf("n%d", m), ID: fmt.Sprintf("a%d", m), Term: 2, IsLeader: m == 1, Leader: "a1"}})
				}
			}
		}
		resign := invoke(1, c, histories.FResign, "", "", tok)
		store(1, histories.FStoreDelete, key, "", tok.Seq)
		complete(1, resign, histories.OK, "", nil)
		if term%25 == 20 {
			add(1, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStop,
				Fault: &histories.Fault{ID: int64(term - 10), Kind: "pause", Targets: []string{"n2"}}})
		}
	}
	phase(histories.PhaseHeal)
	camp := invoke(1, "c1", histories.FCampaign, "", "c1", nil)
	store(1, histories.FStorePut, ElectionPrefix+"c1-last", "c1", 0)
	complete(1, camp, histories.OK, "", &histories.Token{Key: ElectionPrefix + "c1-last", Seq: rev})
	phase(histories.PhaseEnd)
	phase(histories.PhaseRecord)
	return events
}
