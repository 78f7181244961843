package main

import (
	"context"
	"slices"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/etcd"
	"github.com/election-harness/harness/nemesis"
)

// A stalled disk proven on a real member: with the raft leader's syncs
// held (a stock build), its raft loop waits in its WAL's fdatasync, a
// new raft leader is elected while the old process still answers
// probes, and once healed the gate is open, nothing is held, and the
// old member serves a linearizable read of the last write (it caught
// up).
func TestStallRaftLeaderOnRealNodes(t *testing.T) {
	needDocker(t)
	leaders := &probedLeaders{}
	fc := startFaultClusterFor(t, false, []string{nemesis.KindStall}, leaders)
	leaders.members = fc.members
	ctx := context.Background()
	for _, m := range fc.members {
		st, err := fc.byName[m.Name].Agent().Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !st.StallFS {
			t.Fatalf("%s's data directory is not on the stalling filesystem (a run with stall): %+v", m.Name, st)
		}
	}

	var old string
	var oldTerm uint64
	for deadline := time.Now().Add(10 * time.Second); old == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		old, oldTerm = leaders.RaftLeader()
	}
	if old == "" {
		t.Fatal("no raft leader within 10s")
	}

	// Writes all along, so that the leader has entries to save: a raft
	// loop with nothing to save syncs nothing. Through every member;
	// each write has its own short deadline.
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcd.DB{}.ClientEndpoints(fc.members), DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	writes := startCounterWriter(ctx, cli, "/eh/stall/k", 50*time.Millisecond)
	defer writes.Stop()
	time.Sleep(500 * time.Millisecond)

	const stall = 8 * time.Second
	start := time.Now()
	f, err := fc.exec.Start(ctx, nemesis.Step{Kind: nemesis.KindStall, Rule: nemesis.StallRaftLeader, Duration: stall, Pick: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Targets, []string{old}) {
		t.Fatalf("the fault struck %v, not the raft leader %s", f.Targets, old)
	}
	oldAgent := fc.byName[old].Agent()
	var elected time.Duration
	var newLeader string
	oldAnswers, oldAnswersAfter, polls := 0, 0, 0
	var held agent.Status
	for time.Since(start) < stall-time.Second {
		sts := probeAll(fc.members)
		polls++
		if _, ok := sts[old]; ok {
			oldAnswers++
			if newLeader != "" {
				oldAnswersAfter++
			}
		}
		for name, st := range sts {
			if newLeader == "" && name != old && st.IsLeader && st.Term > oldTerm {
				newLeader, elected = name, time.Since(start)
			}
		}
		if st, err := oldAgent.Status(ctx); err == nil && st.SyncsHeld > held.SyncsHeld {
			held = st
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("raft leader %s (term %d) stalled for %v: %s elected after %v; %s answered %d of %d probes, %d after the election; at most %d syncs held at once, %d held in all",
		old, oldTerm, stall, newLeader, elected.Round(time.Millisecond), old, oldAnswers, polls, oldAnswersAfter, held.SyncsHeld, held.SyncsStalled)
	if held.SyncsHeld == 0 || !held.DiskStalled {
		t.Errorf("%s's agent never held a sync while stalled (%+v): the stall caught nothing", old, held)
	}
	if newLeader == "" {
		t.Errorf("no new raft leader elected while %s's syncs were held", old)
	}
	if oldAnswersAfter == 0 {
		t.Errorf("the old leader %s's process did not answer once a new leader was elected", old)
	}

	if err := fc.exec.Stop(ctx, f.ID); err != nil {
		t.Fatalf("healing: %v", err)
	}
	st, err := oldAgent.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.DiskStalled || st.SyncsHeld != 0 || !st.Running {
		t.Errorf("after the heal %s's agent says %+v: want the gate open, nothing held, the process running", old, st)
	}
	// Caught up: a linearizable read through the old member alone finds
	// the last acknowledged write at its revision (it applies up to the
	// leader's commit index first).
	writes.Stop()
	want := writes.Last()
	got, readErr := readAcked(ctx, t, db.Member{Name: old, IP: fc.byName[old].IP()}, "/eh/stall/k", want, 15*time.Second)
	if want.Value == 0 || got != want {
		t.Errorf("after the heal %s reads %+v at the last acknowledged write's revision (%v), want %+v: it did not catch up", old, got, readErr, want)
	}
}
