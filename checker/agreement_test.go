package checker

import (
	"context"
	"strings"
	"testing"

	"github.com/election-harness/harness/histories"
)

// withHashes is a healthy run whose members gave these digests (a hash
// "" is a member that could not say) at these revisions.
func withHashes(hashes map[string][2]any) func() *builder {
	return func() *builder {
		b := healthyRun()
		for _, m := range []string{"n1", "n2", "n3"} {
			h, ok := hashes[m]
			if !ok {
				continue
			}
			e := histories.Event{Type: histories.OK, Process: histories.ProcessHarness, F: histories.FMemberHash, Member: &histories.MemberStatus{Name: m}}
			if h[0].(string) == "" {
				e.Type, e.Error = histories.Fail, "context deadline exceeded"
			} else {
				e.Value, e.Revision = h[0].(string), int64(h[1].(int))
			}
			b.add(float64(b.events[len(b.events)-1].Time)/1e6+1, e)
		}
		return b
	}
}

func TestP9MembersAgree(t *testing.T) {
	runCases(t, "P9", []checkCase{
		{name: "every member holds the same data", want: Valid, wantCounts: map[string]int64{"members": 3, "members-compared": 3},
			build: withHashes(map[string][2]any{"n1": {"ab", 40}, "n2": {"ab", 40}, "n3": {"ab", 40}})},
		{name: "a member diverged", want: Invalid, wantMsg: "members disagree at revision 40: n1, n3 hold ab; n2 holds",
			build: withHashes(map[string][2]any{"n1": {"ab", 40}, "n2": {"cd", 40}, "n3": {"ab", 40}})},
		{name: "a member could not say", want: Unknown, wantMsg: "not every member gave its digest: n3",
			build: withHashes(map[string][2]any{"n1": {"ab", 40}, "n2": {"ab", 40}, "n3": {"", 0}})},
		{name: "a divergence is found though a member could not say", want: Invalid, wantMsg: "members disagree",
			build: withHashes(map[string][2]any{"n1": {"ab", 40}, "n2": {"cd", 40}, "n3": {"", 0}})},
		{name: "no common revision", want: Unknown, wantMsg: "no common revision",
			build: withHashes(map[string][2]any{"n1": {"ab", 40}, "n2": {"cd", 41}, "n3": {"ef", 42}})},
	})
	for _, c := range mustCheck(t, healthyRun().events, testOpts).Checks {
		if c.Property == "P9" {
			t.Errorf("P9 in a history without digests: %+v", c)
		}
	}
}

// TestDivergedMembersExplainAMismatchedObservation: an observation whose
// leader name differs from the record's is a history to refuse, unless
// the members' digests disagree: then the store diverged, the record
// read through one member need not match what another served, and P9
// reports it.
func TestDivergedMembersExplainAMismatchedObservation(t *testing.T) {
	mismatched := func(hashes map[string][2]any) []histories.Event {
		b := withHashes(hashes)()
		b.observe(float64(b.events[len(b.events)-1].Time)/1e6+1, "c3", "c1", 10)
		b.events[len(b.events)-1].Value = "diverged:c1"
		return b.events
	}
	if _, err := Check(context.Background(), mismatched(map[string][2]any{"n1": {"ab", 40}, "n2": {"ab", 40}, "n3": {"ab", 40}}), testOpts); err == nil || !strings.Contains(err.Error(), "does not match the store") {
		t.Errorf("members agree, an observation mismatched: err %v, want the history refused", err)
	}
	res, err := Check(context.Background(), mismatched(map[string][2]any{"n1": {"ab", 40}, "n2": {"cd", 40}, "n3": {"ab", 40}}), testOpts)
	if err != nil {
		t.Fatalf("members diverged: %v, want a verdict", err)
	}
	if p9 := find(t, res, "P9"); p9.Verdict != Invalid {
		t.Errorf("P9 %s, want invalid", p9.Verdict)
	}
}
