package main

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/election-harness/harness/db/etcd"
	"github.com/election-harness/harness/nemesis"
)

// A power loss proven on real members (a stock build): with writes
// going on and one member's syncs held (so that its WAL has a written,
// unsynced tail), every member is killed losing what it had not synced.
// The stalled member's agent undid bytes; every member played one loss;
// once restarted, each member serves a linearizable read of the last
// acknowledged write: stock etcd acknowledges only what a majority
// synced, so the loss of unsynced writes everywhere loses nothing
// acknowledged.
func TestLoseUnsyncedOnRealNodes(t *testing.T) {
	needDocker(t)
	fc := startFaultClusterFor(t, false, []string{nemesis.KindLoseUnsynced}, noLeaders{})
	ctx := context.Background()
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcd.DB{}.ClientEndpoints(fc.members), DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	writes := startCounterWriter(ctx, cli, "/eh/lose/k", 20*time.Millisecond)
	defer writes.Stop()
	time.Sleep(time.Second)

	// One member's syncs held: what it writes from now on stays unsynced.
	stalled := fc.members[0].Name
	sa := fc.byName[stalled].Agent()
	if err := sa.Stall(ctx); err != nil {
		t.Fatal(err)
	}
	if !eventually(func() bool { st, err := sa.Status(ctx); return err == nil && st.SyncsHeld > 0 }) {
		t.Fatalf("%s held no sync while stalled: nothing unsynced to lose", stalled)
	}
	ackedBefore := writes.Last()
	f, err := fc.exec.Start(ctx, nemesis.Step{Kind: nemesis.KindLoseUnsynced, Rule: nemesis.AllMembers, Duration: 2 * time.Second, Pick: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Targets) != len(fc.members) {
		t.Fatalf("the power loss struck %v, want every member", f.Targets)
	}
	for _, m := range fc.members {
		st, err := fc.byName[m.Name].Agent().Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s after the loss: running %v, losses %d, files %d, bytes undone %d", m.Name, st.Running, st.Losses, st.LostFiles, st.LostBytes)
		if st.Running || st.Losses != 1 {
			t.Errorf("%s: running %v after %d losses, want down after 1", m.Name, st.Running, st.Losses)
		}
		if m.Name == stalled && st.LostBytes == 0 {
			t.Errorf("the stalled member %s lost no unsynced bytes", m.Name)
		}
	}
	if err := sa.HealStall(ctx); err != nil {
		t.Fatal(err)
	}
	if err := fc.exec.Stop(ctx, f.ID); err != nil {
		t.Fatalf("healing: %v", err)
	}
	time.Sleep(2 * time.Second)
	writes.Stop()
	want := writes.Last()
	if want.Value <= ackedBefore.Value {
		t.Logf("no write was acknowledged after the restart (last %+v)", want)
	}
	for _, m := range fc.members {
		st, err := fc.byName[m.Name].Agent().Status(ctx)
		if err != nil || !st.Running {
			t.Fatalf("%s after the heal: %+v %v", m.Name, st, err)
		}
		if got, readErr := readAcked(ctx, t, m, "/eh/lose/k", want, 20*time.Second); got != want {
			t.Errorf("after the power loss %s reads %+v at the last acknowledged write's revision (%v), want %+v: an acknowledged write was lost", m.Name, got, readErr, want)
		}
	}
}
