package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/election-harness/harness/histories"
)

// KindThrottle caps a node's CPU at a few percent of one CPU (the
// cgroup's quota), as a noisy neighbour or a throttled container starves
// it. Unlike a pause, time passes and the process runs, slowly: its
// heartbeats, lease renewals and applies fall behind. The cap holds the
// agent too, so it is the backend's to do and undo (Node.Throttle).
const KindThrottle = histories.FaultThrottle

var throttleKind = faultKind{
	name: KindThrottle,
	does: "the node's CPU capped at 2-10 % of one CPU (cgroup quota), agent included: it runs, slowly",
	rules: []Rule{
		{Kind: KindThrottle, Name: TargetRaftLeader, Weight: 2, Does: "the member leading raft: its heartbeats and applies fall behind", MinMembers: 1},
		{Kind: KindThrottle, Name: TargetElectionLeader, Weight: 2, Does: "the election leader: its renewals and writes fall behind", MinMembers: 1},
		{Kind: KindThrottle, Name: TargetRandomMember, Weight: 1, Does: "a random member", MinMembers: 1},
	},
	resolve: func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error) {
		n, err := x.target(rng, r.Name)
		if err != nil {
			return nil, err
		}
		ev.Targets = []string{n.Name()}
		cpus := []float64{0.02, 0.05, 0.1}[rng.IntN(3)]
		ev.Params["cpus"] = fmt.Sprint(cpus)
		return &fault{event: ev,
			apply: func(ctx context.Context) error { return n.Throttle(ctx, cpus) },
			heal:  func(ctx context.Context) error { return n.Throttle(ctx, 0) }}, nil
	},
}
