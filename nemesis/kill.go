package nemesis

import (
	"context"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/histories"
)

// KindKill sends SIGKILL, and restarts the member with its data when the
// fault ends.
const KindKill = histories.FaultKill

var killKind = faultKind{
	name: KindKill,
	does: "SIGKILL, restarted with its data when the fault ends",
	rules: []Rule{
		{Kind: KindKill, Name: TargetElectionLeader, Weight: 2, Does: "the election leader, mid-write if it can be caught so", MinMembers: 1},
		{Kind: KindKill, Name: TargetRaftLeader, Weight: 2, Does: "the member leading raft", MinMembers: 1},
		{Kind: KindKill, Name: TargetRandomMember, Weight: 1, Does: "a random member", MinMembers: 1},
		{Kind: KindKill, Name: TargetRandomCampaigner, Weight: 1, Does: "a random campaigner", MinMembers: 1},
		// Weight 0, last: the deck, and so every seeded plan, is as before.
		{Kind: KindKill, Name: TargetRandomAPIServer, Weight: 0, Does: "a random kube-apiserver node, restarted when the fault ends (Kubernetes recipes)", MinMembers: 1, OnAPIServers: true},
	},
	stopsANode: true,
	resolve: resolveStop(func(n Node) (apply, heal func(context.Context) error) {
		a := n.Agent()
		return func(ctx context.Context) error { return a.Kill(ctx, false) }, a.Start
	}),
	// A wiped member is a stopped process too: this says so for both.
	left: func(st agent.Status) string {
		if !st.Running {
			return "a stopped process"
		}
		return ""
	},
}
