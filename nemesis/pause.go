package nemesis

import (
	"context"
	"time"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/histories"
)

// KindPause sends SIGSTOP to the node's process group, and SIGCONT when
// the fault ends.
const KindPause = histories.FaultPause

// stopRules are the rules of a kind that stops a node whole (pause,
// freeze). A stopped election leader is what leases fail on, and a
// stopped raft leader what lessors do, so stops mostly aim there. A
// stopped campaigner waiting in its campaign wakes to an expired session.
// A random member (weight 0) is stopped only when named.
func stopRules(kind string) []Rule {
	return []Rule{
		{Kind: kind, Name: TargetElectionLeader, Weight: 4, Does: "the election leader, mid-write if it can be caught so, for longer than its lease", MinMembers: 1},
		{Kind: kind, Name: TargetRaftLeader, Weight: 1, Does: "the member leading raft", MinMembers: 1},
		{Kind: kind, Name: TargetRandomCampaigner, Weight: 1, Does: "a random campaigner", MinMembers: 1},
		{Kind: kind, Name: TargetRandomMember, Weight: 0, Does: "a random member", MinMembers: 1},
		{Kind: kind, Name: TargetRandomAPIServer, Weight: 0, Does: "a random kube-apiserver node (Kubernetes recipes)", MinMembers: 1, OnAPIServers: true},
	}
}

var pauseKind = faultKind{
	name: KindPause,
	does: "SIGSTOP of the node's process group, SIGCONT when it ends",
	rules: append(stopRules(KindPause),
		// Weight 0, last: the deck, and so every seeded plan, is as before.
		Rule{Kind: KindPause, Name: TargetRaftLeaderLong, Weight: 0, Does: "the member leading raft, for longer than the store takes to end a lease and let another campaigner lead through the new raft leader (lease expiry + 5 s)", MinMembers: 1}),
	minDuration: func(rule string, p Pace) time.Duration {
		if rule == TargetRaftLeaderLong && p.LeaseExpiry > 0 {
			return p.LeaseExpiry + LongStopMargin
		}
		return 0
	},
	stopsANode:    true,
	outlastsLease: true,
	resolve: resolveStop(func(n Node) (apply, heal func(context.Context) error) {
		a := n.Agent()
		return a.Pause, a.Resume
	}),
	left: func(st agent.Status) string {
		if st.Paused {
			return "a paused process"
		}
		return ""
	},
}
