package checker

import (
	"testing"

	"github.com/election-harness/harness/histories"
)

// Lease ends (keys deleted, not by their holder resigning) are counted
// in runs with stuck raft loops, and those the record received within a
// second after a stuck leader resumed are counted apart; a resigned key
// is neither. Counts, never anomalies.
// A raft leader's stalled disk (its WAL's syncs held) is a stuck raft
// loop too; a random member's is not.
func TestP7CountsLeaseEndsAsAStuckLeaderResumes(t *testing.T) {
	for _, tc := range []struct {
		stuck   histories.Fault
		resumed int64
	}{
		{histories.Fault{ID: 1, Kind: histories.FaultFailpoint, Targets: []string{"n1"}, Params: map[string]string{"rule": "raft-leader-stuck"}}, 1},
		{histories.Fault{ID: 1, Kind: histories.FaultStall, Targets: []string{"n1"}, Params: map[string]string{"rule": "raft-leader"}}, 1},
		{histories.Fault{ID: 1, Kind: histories.FaultStall, Targets: []string{"n1"}, Params: map[string]string{"rule": "random-member"}}, 0},
	} {
		t.Run(tc.stuck.Kind+":"+tc.stuck.Params["rule"], func(t *testing.T) { countsLeaseEnds(t, &tc.stuck, tc.resumed) })
	}
}

func countsLeaseEnds(t *testing.T, stuck *histories.Fault, resumed int64) {
	b := &builder{}
	b.recordKind(0, histories.RecordEveryChange)
	b.phase(0, histories.PhaseStart)
	b.elect(10, "c1", 10)
	b.elect(20, "c2", 11)
	b.elect(30, "c3", 12)
	tok := b.campaign(5, 40, "c1", 10)
	b.add(100, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart, Fault: stuck})
	b.invoke(150, "c1", histories.FResign, "", "", tok)
	b.storeDelete(160, testElection+"c1", 13, 10) // resigned: not a lease end
	b.complete(170, b.nextOp, histories.OK, "", nil)
	b.storeDelete(500, testElection+"c2", 14, 11) // during: a lease end
	b.add(1000, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStop, Fault: stuck})
	b.storeDelete(1400, testElection+"c3", 15, 12) // as it resumed
	b.phase(2000, histories.PhaseEnd)
	b.phase(2100, histories.PhaseRecord)
	hist, err := index(b.events)
	if err != nil {
		t.Fatal(err)
	}
	c := checkLeases(hist, replayRecord(hist, testOpts))
	if resumed == 0 {
		// No stuck raft loop: nothing is counted.
		if c.Counts["lease-ends"] != 0 || c.Counts["lease-ends-as-stuck-leader-resumed"] != 0 {
			t.Errorf("counts %v: want none without a stuck raft loop", c.Counts)
		}
	} else if c.Counts["lease-ends"] != 2 || c.Counts["lease-ends-as-stuck-leader-resumed"] != resumed {
		t.Errorf("counts %v: want 2 lease ends, %d as the stuck leader resumed", c.Counts, resumed)
	}
	if c.Verdict == Invalid || len(c.Evidence) > 0 {
		t.Errorf("counted lease ends made P7 invalid: %+v", c)
	}
}
