package nemesis

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/wait"
)

// KindCompact compacts the store's history while elections run, again
// and again, as an operator's compactor does (Kubernetes' every five
// minutes), only faster. Watches opened or resumed at a compacted
// revision must fail with a compaction error, and none may lose an
// event (etcd #18089, #19179). Compaction never passes what the
// harness's record of the store has read, which must stay complete.
const KindCompact = histories.FaultCompact

// Compaction's pace: every compactEvery, to compactKeep revisions behind
// the store's head (etcd's robustness traffic compacts every 100-200 ms).
const (
	compactEvery = 200 * time.Millisecond
	compactKeep  = 10
)

// CompactStorm is compact's rule.
const CompactStorm = "storm"

var errNoMaintenance = errors.New("compact and defrag need a database the harness can compact and defragment (db.Maintenance)")

var compactKind = faultKind{
	name: KindCompact,
	does: "the store's history compacted every 200 ms to 10 revisions behind its head while the fault lasts (never past what the harness's record has read), as an operator's compactor does, faster",
	rules: []Rule{
		{Kind: KindCompact, Name: CompactStorm, Weight: 1, Does: "compactions every 200 ms, each physical (every member applies it before the next)", MinMembers: 1},
	},
	resolve: func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error) {
		if x.Maintenance == nil {
			return nil, errNoMaintenance
		}
		ev.Targets = names(x.Members)
		ev.Params["every"] = compactEvery.String()
		ev.Params["keep"] = strconv.Itoa(compactKeep)
		var (
			stop context.CancelFunc
			done = make(chan struct{})
			once sync.Once
		)
		return &fault{event: ev,
			apply: func(ctx context.Context) error {
				// The first compaction says whether compaction works at
				// all; later ones fail while faults cut the store off.
				if _, err := x.Maintenance.CompactBehind(ctx, compactKeep); err != nil {
					return err
				}
				cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
				stop = cancel
				go func() {
					defer close(done)
					wait.Every(cctx, compactEvery, func(time.Time) {
						rctx, cancel := context.WithTimeout(cctx, time.Second)
						defer cancel()
						if _, err := x.Maintenance.CompactBehind(rctx, compactKeep); err != nil && cctx.Err() == nil {
							x.Log.Debug("compaction", "err", err)
						}
					})
				}()
				return nil
			},
			heal: func(ctx context.Context) error {
				once.Do(func() {
					if stop != nil {
						stop()
						<-done
					}
				})
				return nil
			}}, nil
	},
}

// KindDefrag defragments a member's backend, rewriting it to reclaim the
// space compaction freed and blocking its reads and writes meanwhile, as an
// operator does (etcd #14685 lost revisions when a crash met one).
const KindDefrag = histories.FaultDefrag

var defragKind = faultKind{
	name: KindDefrag,
	does: "a member's backend defragmented (rewritten; its reads and writes wait meanwhile), as an operator reclaims the space compaction freed",
	rules: []Rule{
		{Kind: KindDefrag, Name: TargetRaftLeader, Weight: 2, Does: "the member leading raft: its heartbeats go on, its applies wait", MinMembers: 1},
		{Kind: KindDefrag, Name: TargetRandomMember, Weight: 1, Does: "a random member", MinMembers: 1},
	},
	resolve: func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error) {
		if x.Maintenance == nil {
			return nil, errNoMaintenance
		}
		n, err := x.target(rng, r.Name)
		if err != nil {
			return nil, err
		}
		ev.Targets = []string{n.Name()}
		return &fault{event: ev,
			apply: func(ctx context.Context) error { return x.Maintenance.Defragment(ctx, n.Name()) },
			heal:  func(context.Context) error { return nil }}, nil
	},
}
