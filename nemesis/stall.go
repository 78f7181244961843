package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/histories"
)

// KindStall stalls a member's disk. Its agent's FUSE passthrough holds
// the fsyncs and fdatasyncs of its data directory while the rest of its
// process runs, then lets them through. A raft leader whose raft loop
// waits in its WAL's fdatasync, its lessor and servers going on, is
// what etcd's raftBeforeSave sleep failpoint models (#15247), here on a
// stock build and on Consul too.
const KindStall = histories.FaultStall

// Stall rules.
const (
	// StallRaftLeader: the raft leader's syncs held for longer than a
	// lease.
	StallRaftLeader = TargetRaftLeader
	// StallRandomMember: any member's syncs held.
	StallRandomMember = TargetRandomMember
)

var stallKind = faultKind{
	name: KindStall,
	does: "a member's fsyncs and fdatasyncs held (its data directory on the agent's FUSE passthrough, which a run with stall mounts) while the rest of its process runs; let through when it ends",
	rules: []Rule{
		{Kind: KindStall, Name: StallRaftLeader, Weight: 3, Does: "the raft leader's syncs held for longer than a lease: its raft loop waits in its WAL's fdatasync while its lessor and servers run (as raftBeforeSave sleep, #15247)", MinMembers: 1},
		{Kind: KindStall, Name: StallRandomMember, Weight: 1, Does: "a random member's syncs held", MinMembers: 1},
	},
	// A leader stalled for less than a lease shows nothing a pause does
	// not: its lessor must see leases expire while its raft loop waits.
	minDuration: func(rule string, p Pace) time.Duration {
		if rule == StallRaftLeader && p.LeaseExpiry > 0 {
			return p.LeaseExpiry + time.Second
		}
		return 0
	},
	resolve: func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error) {
		n, err := x.target(rng, r.Name)
		if err != nil {
			return nil, err
		}
		ev.Targets = []string{n.Name()}
		a := n.Agent()
		return &fault{event: ev, apply: a.Stall, heal: func(ctx context.Context) error {
			if err := a.HealStall(ctx); err != nil {
				return err
			}
			return stallHealed(ctx, a)
		}}, nil
	},
	left: stallLeft,
}

// stallLeft says what an agent still shows of a stall.
func stallLeft(st agent.Status) string {
	switch {
	case st.DiskStalled:
		return "a stalled disk"
	case st.SyncsHeld > 0:
		return fmt.Sprintf("%d held syncs", st.SyncsHeld)
	}
	return ""
}

// stallHealed checks that the agent lets every sync through and holds
// none.
func stallHealed(ctx context.Context, a Agent) error {
	st, err := a.Status(ctx)
	if err != nil {
		return err
	}
	if l := stallLeft(st); l != "" {
		return fmt.Errorf("still has %s", l)
	}
	return nil
}
