package nemesis

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// Each failpoint rule sets its failpoint on the raft leader, recorded
// with its terms, and its heal clears it (restarting a member it
// crashed) and checks that the member lists none on.
func TestFailpointRulesSetTheirPointOnTheRaftLeader(t *testing.T) {
	for _, c := range []struct {
		rule string
		want []string // the journal's acts, without the history
	}{
		{FailpointRaftLeaderStuck, []string{"n2 failpoint set raftBeforeSave=1*sleep(6000)", "n2 failpoint clear raftBeforeSave"}},
		{FailpointCrashBeforeSave, []string{"n2 failpoint set raftBeforeSave=panic", "n2 failpoint clear raftBeforeSave", "n2 start"}},
		{FailpointCrashAfterSave, []string{"n2 failpoint set raftAfterSave=panic", "n2 failpoint clear raftAfterSave", "n2 start"}},
		// The build has no beforeApplyOneEntryNormal: the next point.
		{FailpointSlowApply, []string{"n2 failpoint set beforeCommit=sleep(200)", "n2 failpoint clear beforeCommit"}},
		// Each renewal sleeps the lease expiry (4 s here) + 1 s, however
		// long the fault lasts.
		{FailpointRenewPastRevoke, []string{"n2 failpoint set beforeCheckpointInLeaseRenew=sleep(5000)", "n2 failpoint clear beforeCheckpointInLeaseRenew"}},
	} {
		t.Run(c.rule, func(t *testing.T) {
			fc := newFakeCluster(t, 3, 2)
			ctx := context.Background()
			f, err := fc.x.Start(ctx, Step{Kind: KindFailpoint, Rule: c.rule, Duration: 6 * time.Second, Pick: 1})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.Targets, []string{"n2"}) || f.Params["terms"] == "" {
				t.Errorf("fault %+v: want n2 and its terms", f)
			}
			if err := fc.x.Stop(ctx, f.ID); err != nil {
				t.Fatal(err)
			}
			acts := fc.j.acts()
			if !slices.Equal(acts, c.want) {
				t.Errorf("acts %q, want %q", acts, c.want)
			}
			if left := fc.healed(); left != "" {
				t.Errorf("left: %s", left)
			}
		})
	}
}

// Without a failpoint control (a stock build) the kind is refused with
// the reason, and a build lacking the failpoint is an apply error.
func TestFailpointRefusals(t *testing.T) {
	fc := newFakeCluster(t, 3, 2)
	fc.x.Failpoints = nil
	if _, err := fc.x.Start(context.Background(), Step{Kind: KindFailpoint, Rule: FailpointRaftLeaderStuck, Duration: time.Second}); err == nil || !strings.Contains(err.Error(), "--failpoints") {
		t.Errorf("no control: %v, want a refusal naming --failpoints", err)
	}
	fc = newFakeCluster(t, 3, 2)
	fc.fp.names = []string{"raftAfterSave"}
	s := Step{Kind: KindFailpoint, Rule: FailpointRaftLeaderStuck, Duration: time.Second}
	f, err := fc.x.resolve(rand.New(rand.NewPCG(1, 1)), s)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.apply(context.Background()); err == nil || !strings.Contains(err.Error(), "the build of n2 has none of the failpoints raftBeforeSave") {
		t.Errorf("apply: %v, want the missing failpoint named", err)
	}
}

// A stuck raft loop outlasts the lease (the old lessor must see leases
// expire while it is stuck); the other rules keep the plan's duration.
func TestRaftLeaderStuckOutlastsTheLease(t *testing.T) {
	p := Pace{Interval: 2 * time.Second, TimeLimit: 5 * time.Minute, LeaseExpiry: 4 * time.Second}
	stuck := 0
	for _, s := range Plan(3, []string{KindFailpoint}, p) {
		if s.Rule == FailpointRaftLeaderStuck {
			stuck++
			if s.Duration < 5*time.Second && s.Start+s.Duration < p.TimeLimit {
				t.Errorf("%+v: shorter than the lease expiry + 1s", s)
			}
		}
	}
	if stuck == 0 {
		t.Fatal("no stuck raft loop dealt")
	}
}

// HealAll turns off every failpoint of every member, whatever the
// nemesis believes it set.
func TestHealAllClearsFailpoints(t *testing.T) {
	fc := newFakeCluster(t, 3, 2)
	ctx := context.Background()
	if err := fc.fp.Set(ctx, "n1", "raftAfterSave", "sleep(100)"); err != nil {
		t.Fatal(err)
	}
	if err := fc.x.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	if left := fc.healed(); left != "" {
		t.Errorf("left: %s", left)
	}
}

// A renewal stall is sized by the store's lease expiry: without it the
// rule is refused. It is dealt only when named, and lasts long enough
// for every campaigner to renew once while it is on.
func TestRenewPastRevoke(t *testing.T) {
	fc := newFakeCluster(t, 3, 2)
	fc.x.LeaseExpiry = 0
	s := Step{Kind: KindFailpoint, Rule: FailpointRenewPastRevoke, Duration: 6 * time.Second}
	if _, err := fc.x.resolve(rand.New(rand.NewPCG(1, 1)), s); err == nil || !strings.Contains(err.Error(), "lease expiry") {
		t.Errorf("no lease expiry: %v, want a refusal", err)
	}
	p := Pace{Interval: 2 * time.Second, TimeLimit: 2 * time.Minute, LeaseExpiry: 8 * time.Second}
	for _, s := range Plan(1, []string{KindFailpoint}, p) {
		if s.Rule == FailpointRenewPastRevoke {
			t.Errorf("%+v: dealt without being named", s)
		}
	}
	n := 0
	for _, s := range Plan(1, []string{KindFailpoint + ":" + FailpointRenewPastRevoke}, p) {
		n++
		if s.Duration < 4*time.Second && s.Start+s.Duration < p.TimeLimit {
			t.Errorf("%+v: shorter than half the lease expiry", s)
		}
	}
	if n == 0 {
		t.Fatal("nothing dealt when named")
	}
}
