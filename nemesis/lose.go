package nemesis

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/wait"
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
	// RaftLeaderStalled: the raft leader's syncs held until one is
	// caught, so that a write is in flight and unsynced for sure: a
	// store that acknowledges before its WAL is synced (#14370) loses
	// what it acknowledged then.
	RaftLeaderStalled = "raft-leader-stalled"
)

// Timing of RaftLeaderStalled. The stall waits up to stallCatchLimit
// for a held sync (a write in flight: a quiet leader writes nothing),
// polling every stallCatchPoll, then holds stallAfterCatch more so that
// what the write's entries acknowledge reaches the clients before the
// loss. A stall that catches nothing still ends in the loss.
const (
	stallCatchLimit = 10 * time.Second
	stallCatchPoll  = 20 * time.Millisecond
	stallAfterCatch = 500 * time.Millisecond
)

var loseUnsyncedKind = faultKind{
	name: KindLoseUnsynced,
	does: "a power loss: members SIGKILLed with the writes their disks had not synced undone (the agent's filesystem, which a run with lose-unsynced mounts); restarted on what remains when it ends",
	rules: []Rule{
		{Kind: KindLoseUnsynced, Name: TargetRaftLeader, Weight: 2, Does: "the member leading raft, mid-write", MinMembers: 1},
		{Kind: KindLoseUnsynced, Name: TargetRandomMember, Weight: 1, Does: "a random member", MinMembers: 1},
		{Kind: KindLoseUnsynced, Name: AllMembers, Weight: 1, Does: "every member at once: what none of them synced is lost everywhere", MinMembers: 1},
		{Kind: KindLoseUnsynced, Name: RaftLeaderStalled, Weight: 1, Does: "the raft leader's syncs held until one is caught (up to 10 s) and 0.5 s more, then its power lost: the write in flight is gone (#14370 acknowledged such writes)", MinMembers: 1},
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
					began := time.Now()
					if catchSync(ctx, a) {
						x.Log.Info("lose-unsynced: the stall caught a sync", "node", n.Name(), "after", time.Since(began).Round(time.Millisecond))
						wait.For(ctx, stallAfterCatch)
					} else {
						x.Log.Info("lose-unsynced: the stall caught no sync; losing regardless", "node", n.Name(), "after", time.Since(began).Round(time.Millisecond))
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

// catchSync waits until a's gate holds a sync, up to stallCatchLimit,
// and says whether one was caught. An unanswered status poll is not a
// catch: the loss goes on regardless.
func catchSync(ctx context.Context, a Agent) bool {
	ctx, cancel := context.WithTimeout(ctx, stallCatchLimit)
	defer cancel()
	for {
		if st, err := a.Status(ctx); err == nil && st.SyncsHeld > 0 {
			return true
		}
		if !wait.For(ctx, stallCatchPoll) {
			return false
		}
	}
}
