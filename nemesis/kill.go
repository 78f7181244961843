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
		{KindKill, TargetElectionLeader, 2, "the election leader, mid-write if it can be caught so", 1, ""},
		{KindKill, TargetRaftLeader, 2, "the member leading raft", 1, ""},
		{KindKill, TargetRandomMember, 1, "a random member", 1, ""},
		{KindKill, TargetRandomCampaigner, 1, "a random campaigner", 1, ""},
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
