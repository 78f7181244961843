package nemesis

import (
	"context"
	"slices"
	"testing"
	"time"
)

// The raft-leader-stalled loss waits for a held sync (a write in
// flight), holds it a moment more, then kills the leader losing what it
// had not synced, and opens the gate only after the kill; its heal
// restarts the member.
func TestRaftLeaderStalledLosesAWriteInFlight(t *testing.T) {
	fc := newFakeCluster(t, 3, 2)
	fc.nodes["n2"].agent.heldOnStall = 1
	ctx := context.Background()
	began := time.Now()
	f, err := fc.x.Start(ctx, Step{Kind: KindLoseUnsynced, Rule: RaftLeaderStalled, Duration: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < stallAfterCatch || took > stallCatchLimit/2 {
		t.Errorf("the loss came %v after the stall, want %v after the caught sync", took, stallAfterCatch)
	}
	if !slices.Equal(f.Targets, []string{"n2"}) {
		t.Fatalf("targets %v, want the raft leader n2", f.Targets)
	}
	if err := fc.x.Stop(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	acts := fc.j.acts()
	want := []string{"n2 stall", "n2 kill lose-unsynced", "n2 heal-stall", "n2 start"}
	if !slices.Equal(acts, want) {
		t.Errorf("acts %q, want %q", acts, want)
	}
	if st := fc.nodes["n2"].agent.status(); st.Losses != 1 || !st.Running {
		t.Errorf("n2 after the heal: %+v, want one loss and running", st)
	}
}

// A stall that catches no sync still ends in the loss when its context
// ends: catchSync gives up rather than hold the fault.
func TestCatchSyncGivesUpWithItsContext(t *testing.T) {
	fc := newFakeCluster(t, 3, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if catchSync(ctx, fc.nodes["n2"].agent) {
		t.Fatal("caught a sync on an agent that holds none")
	}
	fc.nodes["n1"].agent.heldOnStall = 1
	if err := fc.nodes["n1"].agent.Stall(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !catchSync(context.Background(), fc.nodes["n1"].agent) {
		t.Fatal("missed the held sync")
	}
}
