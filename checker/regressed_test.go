package checker

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/election-harness/harness/histories"
)

// withEvents adds events to a built history at their times, keeping it
// in time order and re-indexed.
func withEvents(b *builder, extra ...histories.Event) []histories.Event {
	out := append(slices.Clone(b.events), extra...)
	slices.SortStableFunc(out, func(x, y histories.Event) int { return int(x.Time - y.Time) })
	for i := range out {
		out[i].Index = int64(i)
	}
	return out
}

// TestStoreRegressed: a store whose revision went back (it lost
// acknowledged changes) breaks P4, the database's; a recipe anomaly
// after the first kill is the loss's too, one before it stays the
// recipe's, and without the regression nothing is re-blamed.
func TestStoreRegressed(t *testing.T) {
	killAt := func(at float64) histories.Event {
		return histories.Event{Type: histories.Info, F: histories.FFaultStart, Process: histories.ProcessNemesis, Time: ms(at),
			Fault: &histories.Fault{ID: 1, Kind: histories.FaultKill, Targets: []string{"n1"}}}
	}
	kill := killAt(650)
	regressed := histories.Event{Type: histories.Info, F: histories.FStoreRegressed, Process: histories.ProcessStore, Time: ms(1250), Revision: 9, Value: "16"}
	// c2's write acknowledged failed that the store applied (revision
	// 16): the recipe's, an unknown outcome reported as failed.
	failedWrite := func() *builder {
		const at = 1150
		b := healthyRun()
		var evs []histories.Event
		t2 := token("c2", 12)
		b.nextOp++
		evs = append(evs,
			histories.Event{Type: histories.Invoke, Process: "c2", F: histories.FWrite, Op: b.nextOp, Key: testRegister, Value: "c2/12/x", Token: t2, Time: ms(at)},
			histories.Event{Type: histories.OK, Process: histories.ProcessStore, F: histories.FStorePut, Key: testRegister, Value: "c2/12/x", Revision: 16, CreateRevision: 11, Time: ms(at + 5)},
			histories.Event{Type: histories.Fail, Process: "c2", F: histories.FWrite, Op: b.nextOp, Key: testRegister, Value: "c2/12/x", Token: t2, Time: ms(at + 10)},
		)
		b.events = withEvents(b, evs...)
		return b
	}
	tests := []struct {
		name         string
		events       []histories.Event
		wantP4       Verdict
		wantParties  []Party // of P4's anomalies, in order
		wantRegessed bool
	}{
		{"regressed alone", withEvents(healthyRun(), kill, regressed), Invalid, []Party{PartyDatabase}, true},
		{"recipe anomaly after the kill, regressed", withEvents(failedWrite(), kill, regressed), Invalid, []Party{PartyDatabase, PartyDatabase}, true},
		{"recipe anomaly before the kill, regressed", withEvents(failedWrite(), killAt(1180), regressed), Invalid, []Party{PartyDatabase, PartyRecipe}, true},
		{"recipe anomaly after the kill, not regressed", withEvents(failedWrite(), kill), Invalid, []Party{PartyRecipe}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustCheck(t, tt.events, testOpts)
			var p4 *CheckResult
			for i := range res.Checks {
				if res.Checks[i].Property == "P4" {
					p4 = &res.Checks[i]
				}
			}
			if p4 == nil || p4.Verdict != tt.wantP4 {
				t.Fatalf("P4 = %+v, want %s", p4, tt.wantP4)
			}
			var parties []Party
			regressedSaid := false
			for _, ev := range p4.Evidence {
				parties = append(parties, ev.Blame.Party)
				regressedSaid = regressedSaid || strings.Contains(ev.Message, "went back in time")
			}
			if !slices.Equal(parties, tt.wantParties) {
				t.Errorf("P4's anomalies blamed %v, want %v (%+v)", parties, tt.wantParties, p4.Evidence)
			}
			if regressedSaid != tt.wantRegessed {
				t.Errorf("P4 says the store went back: %v, want %v", regressedSaid, tt.wantRegessed)
			}
		})
	}
}

// TestUnlistedAnomalies: past maxEvidence, anomalies are counted by
// whose and what kind they are, so that none goes unjudged by a gate.
func TestUnlistedAnomalies(t *testing.T) {
	c := newCheck("P11", "P11 watches keep their guarantees")
	for i := range maxEvidence + 5 {
		c.failAs(blameWatch, fmt.Sprintf("bookmarkable (P11): the watch of n1 delivered k at revision %d", i))
	}
	c.failAs(blameTerms, "term went back: c1 won term 3 after term 4")
	want := map[string]int64{"database: bookmarkable (P11)": 5, "recipe: term went back": 1}
	if len(c.Evidence) != maxEvidence || !maps.Equal(c.Unlisted, want) || c.Counts["anomalies"] != maxEvidence+6 {
		t.Errorf("listed %d, unlisted %v, counted %d; want %d, %v, %d", len(c.Evidence), c.Unlisted, c.Counts["anomalies"], maxEvidence, want, maxEvidence+6)
	}
}

// TestRevisionGivenTwice: a campaign granted a term at a revision where
// the store's record holds another change, and no trace of the term's
// key, is the store going back in time (P3, the database's), and what
// the recipe did after the first kill is the loss's too.
func TestRevisionGivenTwice(t *testing.T) {
	b := healthyRun()
	tok := token("c3", 13) // revision 13 is the delete of c1's key
	op := b.nextOp + 1
	b.nextOp++
	extra := []histories.Event{
		{Type: histories.Info, F: histories.FFaultStart, Process: histories.ProcessNemesis, Time: ms(650), Fault: &histories.Fault{ID: 1, Kind: histories.FaultLoseUnsynced, Targets: []string{"n1"}}},
		{Type: histories.Invoke, Process: "c3", F: histories.FCampaign, Op: op, Value: "c3", Time: ms(700)},
		{Type: histories.OK, Process: "c3", F: histories.FCampaign, Op: op, Value: "c3", Token: tok, Time: ms(710)},
	}
	res := mustCheck(t, withEvents(b, extra...), testOpts)
	for _, c := range res.Checks {
		if c.Property != "P3" {
			continue
		}
		if c.Verdict != Invalid || len(c.Evidence) == 0 {
			t.Fatalf("P3 = %s %+v, want invalid", c.Verdict, c.Evidence)
		}
		ev := c.Evidence[0]
		if ev.Blame.Party != PartyDatabase || !strings.Contains(ev.Message, "gave that revision out twice") {
			t.Errorf("P3 says %q, blamed on %s; want the revision given twice, the database's", ev.Message, ev.Blame.Party)
		}
		return
	}
	t.Fatal("no P3")
}

// TestStoreState: the state the store holds at the end of its record
// must be what the record's changes build; a key the record says is
// held but the store lost is the store going back in time.
func TestStoreState(t *testing.T) {
	stateAt := func(changes ...histories.Change) histories.Event {
		return histories.Event{Type: histories.OK, F: histories.FStoreState, Process: histories.ProcessStore, Time: ms(1350), Revision: 15, Changes: changes}
	}
	// healthyRun ends with the register at 15 and c2's key from 12.
	register := histories.Change{Key: testRegister, Value: "c2/12/2", Revision: 15, CreateRevision: 11}
	c2 := histories.Change{Key: testElection + "c2", Value: "c2", Revision: 12, CreateRevision: 12}
	for _, tc := range []struct {
		name  string
		state histories.Event
		want  Verdict
	}{
		{"the state the record builds", stateAt(register, c2), Valid},
		{"a key the store lost", stateAt(register), Invalid},
		{"a key changed at another revision", stateAt(histories.Change{Key: testRegister, Value: "x", Revision: 14, CreateRevision: 11}, c2), Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := mustCheck(t, withEvents(healthyRun(), tc.state), testOpts)
			for _, c := range res.Checks {
				if c.Property == "P4" {
					if c.Verdict != tc.want {
						t.Errorf("P4 = %s %+v, want %s", c.Verdict, c.Evidence, tc.want)
					}
					if tc.want == Invalid && (c.Evidence[0].Blame.Party != PartyDatabase || !strings.Contains(c.Evidence[0].Message, "is not what its record of changes builds")) {
						t.Errorf("P4 says %q (%s)", c.Evidence[0].Message, c.Evidence[0].Blame.Party)
					}
				}
			}
		})
	}
}

// TestStoreHistoryRewritten: a change whose previous one (etcd's
// previous key-value) is not the record's last change of the key is the
// store's history rewritten under the record: a store gone back in time.
func TestStoreHistoryRewritten(t *testing.T) {
	for _, tc := range []struct {
		name string
		prev int64
		want Verdict
	}{
		{"the previous change is the record's last", 14, Valid},
		{"the previous change is one the record never saw last", 11, Invalid},
		{"no previous revision: cannot say", 0, Valid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := healthyRun()
			for i := range b.events {
				if e := &b.events[i]; e.F == histories.FStorePut && e.Revision == 15 {
					e.PrevRevision = tc.prev
				}
			}
			res := mustCheck(t, b.events, testOpts)
			for _, c := range res.Checks {
				if c.Property == "P4" && c.Verdict != tc.want {
					t.Errorf("P4 = %s %+v, want %s", c.Verdict, c.Evidence, tc.want)
				}
			}
		})
	}
}
