package nemesis

import (
	"context"
	"math/rand/v2"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/histories"
)

// KindKill: SIGKILL, restarted with its data when the fault ends.
const KindKill = histories.FaultKill

var killKind = faultKind{
	name: KindKill,
	does: "SIGKILL, restarted with its data when the fault ends",
	rules: []Rule{
		{Kind: KindKill, Name: TargetElectionLeader, Weight: 2, Does: "the election leader, mid-write if it can be caught so", MinMembers: 1},
		{Kind: KindKill, Name: TargetRaftLeader, Weight: 2, Does: "the member leading raft", MinMembers: 1},
		{Kind: KindKill, Name: TargetRandomMember, Weight: 1, Does: "a random member", MinMembers: 1},
		{Kind: KindKill, Name: TargetRandomCampaigner, Weight: 1, Does: "a random campaigner", MinMembers: 1},
	},
	stopsANode: true,
	resolve: func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error) {
		n, err := x.stopTarget(rng, r, &ev)
		if err != nil {
			return nil, err
		}
		a := n.Agent()
		return &fault{event: ev,
			apply: func(ctx context.Context) error { return a.Kill(ctx, false) },
			heal:  a.Start}, nil
	},
	// A wiped member is a stopped process too: this says so for both.
	left: func(st agent.Status) string {
		if !st.Running {
			return "a stopped process"
		}
		return ""
	},
}
