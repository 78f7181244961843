package nemesis

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/election-harness/harness/histories"
)

// Each stall rule holds its target's syncs while it lasts, which the
// agent's status shows, and its heal lets them through and checks that
// nothing is held.
func TestStallRulesHoldTheirTargetsSyncs(t *testing.T) {
	for _, c := range []struct {
		rule, target string
	}{
		{StallRaftLeader, "n2"},   // the leader the probes see
		{StallRandomMember, "n1"}, // seeded: Pick 3 of 3 members
	} {
		t.Run(c.rule, func(t *testing.T) {
			fc := newFakeCluster(t, 3, 2)
			ctx := context.Background()
			f, err := fc.x.Start(ctx, Step{Kind: KindStall, Rule: c.rule, Duration: 6 * time.Second, Pick: 3})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.Targets, []string{c.target}) {
				t.Fatalf("targets %v, want %s", f.Targets, c.target)
			}
			if err := remaining(ctx, fc.nodes[c.target]); err == nil || !strings.Contains(err.Error(), "a stalled disk") {
				t.Errorf("while stalled, the agent's status shows %v, want a stalled disk", err)
			}
			if err := fc.x.Stop(ctx, f.ID); err != nil {
				t.Fatal(err)
			}
			acts := fc.j.acts()
			if want := []string{c.target + " stall", c.target + " heal-stall"}; !slices.Equal(acts, want) {
				t.Errorf("acts %q, want %q", acts, want)
			}
			if left := fc.healed(); left != "" {
				t.Errorf("left: %s", left)
			}
		})
	}
}

// A heal that leaves syncs held is not a heal: Stop fails (HealAll
// retries), and the stop is recorded with the error.
func TestStallHealIsChecked(t *testing.T) {
	fc := newFakeCluster(t, 3, 2)
	ctx := context.Background()
	fc.nodes["n2"].agent.heldAfterHeal = 2
	f, err := fc.x.Start(ctx, Step{Kind: KindStall, Rule: StallRaftLeader, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := fc.x.Stop(ctx, f.ID); err == nil || !strings.Contains(err.Error(), "2 held syncs") {
		t.Fatalf("stop: %v, want the held syncs named", err)
	}
	if left := fc.healed(); !strings.Contains(left, "n2: still has 2 held syncs") {
		t.Errorf("left: %q", left)
	}
}

// A member whose data directory is not on the stalling filesystem (a
// run without stall) cannot be stalled: the start is recorded with the
// agent's refusal.
func TestStallWithoutTheFilesystemIsAnApplyError(t *testing.T) {
	fc := newFakeCluster(t, 3, 2)
	fc.nodes["n2"].agent.st.StallFS = false
	var applyErr string
	fc.x.Recorder.OnRecord(func(e histories.Event) {
		if e.F == histories.FFaultStart && e.Error != "" {
			applyErr = e.Error
		}
	})
	if _, err := fc.x.Start(context.Background(), Step{Kind: KindStall, Rule: StallRaftLeader, Duration: time.Second}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(applyErr, "not on the stalling filesystem") {
		t.Errorf("recorded apply error %q, want the refusal", applyErr)
	}
}

// The raft leader's stall outlasts the lease (its lessor must see
// leases expire while its raft loop waits); a random member's keeps the
// plan's duration.
func TestStalledRaftLeaderOutlastsTheLease(t *testing.T) {
	p := Pace{Interval: 2 * time.Second, TimeLimit: 5 * time.Minute, LeaseExpiry: 4 * time.Second}
	leader, short := 0, 0
	for _, s := range Plan(3, []string{KindStall}, p) {
		switch s.Rule {
		case StallRaftLeader:
			leader++
			if s.Duration < 5*time.Second && s.Start+s.Duration < p.TimeLimit {
				t.Errorf("%+v: shorter than the lease expiry + 1s", s)
			}
		case StallRandomMember:
			if s.Duration < 5*time.Second {
				short++
			}
		}
	}
	if leader == 0 || short == 0 {
		t.Fatalf("dealt %d raft-leader stalls and %d short random-member ones: want both", leader, short)
	}
}

// HealAll lets a stalled disk's syncs through, whatever the nemesis
// believes is active.
func TestHealAllUnstalls(t *testing.T) {
	fc := newFakeCluster(t, 3, 2)
	ctx := context.Background()
	if err := fc.nodes["n3"].agent.Stall(ctx); err != nil {
		t.Fatal(err)
	}
	if left := fc.healed(); !strings.Contains(left, "a stalled disk") {
		t.Fatalf("before: left %q, want a stalled disk", left)
	}
	if err := fc.x.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	if left := fc.healed(); left != "" {
		t.Errorf("left: %s", left)
	}
}
