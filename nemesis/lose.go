package nemesis

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/election-harness/harness/histories"
)

// KindLoseUnsynced: a power loss. A member is SIGKILLed and every write
// its data directory had not fsynced is undone (the agent's filesystem
// plays LazyFS: see agent/unsynced.go), then it restarts on what
// remains when the fault ends. A store that acknowledges what it has
// not synced (etcd #14370) loses acknowledged writes so. A run with it
// mounts the agent's filesystem, as stall does.
const KindLoseUnsynced = histories.FaultLoseUnsynced

// Lose-unsynced rules besides the usual targets.
const (
	// AllMembers: every member at once, the power loss of a whole
	// cluster.
	AllMembers = "all-members"
	// RaftLeaderStalled: the raft leader's syncs held for a moment
	// first, so that what it writes meanwhile is unsynced for sure: a
	// store that acknowledges before its WAL is synced (#14370) loses
	// what it acknowledged then.
	RaftLeaderStalled = "raft-leader-stalled"
)

// stallBeforeLoss is how long RaftLeaderStalled holds the leader's syncs
// before the loss: several of its raft loop's rounds.
const stallBeforeLoss = time.Second

var loseUnsyncedKind = faultKind{
	name: KindLoseUnsynced,
	does: "a power loss: members SIGKILLed with the writes their disks had not synced undone (the agent's filesystem, which a run with lose-unsynced mounts); restarted on what remains when it ends",
	rules: []Rule{
		{Kind: KindLoseUnsynced, Name: TargetRaftLeader, Weight: 2, Does: "the member leading raft, mid-write", MinMembers: 1},
		{Kind: KindLoseUnsynced, Name: TargetRandomMember, Weight: 1, Does: "a random member", MinMembers: 1},
		{Kind: KindLoseUnsynced, Name: AllMembers, Weight: 1, Does: "every member at once: what none of them synced is lost everywhere", MinMembers: 1},
		{Kind: KindLoseUnsynced, Name: RaftLeaderStalled, Weight: 1, Does: "the raft leader's syncs held for 1 s, then its power lost: what it wrote meanwhile is gone (#14370 acknowledged such writes)", MinMembers: 1},
	},
	resolve: func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error) {
		targets := x.Members
		if r.Name == RaftLeaderStalled {
			n, err := x.target(rng, TargetRaftLeader)
			if err != nil {
				return nil, err
			}
			ev.Targets = []string{n.Name()}
			a := n.Agent()
			return &fault{event: ev,
				apply: func(ctx context.Context) error {
					if err := a.Stall(ctx); err != nil {
						return err
					}
					select {
					case <-time.After(stallBeforeLoss):
					case <-ctx.Done():
					}
					// The gate stays closed through the kill; opened
					// after, the process restarts on a working disk.
					return errors.Join(a.KillLosingUnsynced(ctx), a.HealStall(ctx))
				},
				heal: a.Start}, nil
		}
		if r.Name != AllMembers {
			n, err := x.target(rng, r.Name)
			if err != nil {
				return nil, err
			}
			targets = []Node{n}
		}
		ev.Targets = names(targets)
		each := func(do func(context.Context, Node) error) func(context.Context) error {
			return func(ctx context.Context) error {
				errs := make([]error, len(targets))
				var wg sync.WaitGroup
				for i, n := range targets {
					wg.Go(func() { errs[i] = do(ctx, n) })
				}
				wg.Wait()
				return errors.Join(errs...)
			}
		}
		return &fault{event: ev,
			apply: each(func(ctx context.Context, n Node) error { return n.Agent().KillLosingUnsynced(ctx) }),
			heal:  each(func(ctx context.Context, n Node) error { return n.Agent().Start(ctx) })}, nil
	},
	// A member still down is what kill's status check reports.
}
