package nemesis

import (
	"math/rand/v2"
	"time"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/histories"
)

// KindPause: SIGSTOP of the node's process group, SIGCONT when it ends.
const KindPause = histories.FaultPause

// A stopped election leader is what leases fail on (and a stopped raft
// leader, what lessors do): stops mostly aim there; a stopped campaigner
// that waits in its campaign wakes to an expired session. A random
// member (weight 0) is stopped only when asked for: pause:random-member.
var pauseKind = faultKind{
	name: KindPause,
	does: "SIGSTOP of the node's process group, SIGCONT when it ends",
	rules: []Rule{
		{KindPause, TargetElectionLeader, 4, "the election leader, mid-write if it can be caught so, for longer than its lease", 1, ""},
		{KindPause, TargetRaftLeader, 1, "the member leading raft", 1, ""},
		{KindPause, TargetRandomCampaigner, 1, "a random campaigner", 1, ""},
		{KindPause, TargetRandomMember, 0, "a random member", 1, ""},
		// Weight 0, last: the deck, and so every seeded plan, is as before.
		{KindPause, TargetRaftLeaderLong, 0, "the member leading raft, for longer than the store takes to end a lease and let another campaigner lead through the new raft leader (lease expiry + 5 s)", 1, ""},
	},
	minDuration: func(rule string, p Pace) time.Duration {
		if rule == TargetRaftLeaderLong && p.LeaseExpiry > 0 {
			return p.LeaseExpiry + LongStopMargin
		}
		return 0
	},
	stopsANode:    true,
	outlastsLease: true,
	resolve: func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error) {
		n, err := x.stopTarget(rng, r, &ev)
		if err != nil {
			return nil, err
		}
		a := n.Agent()
		return &fault{event: ev, apply: a.Pause, heal: a.Resume}, nil
	},
	left: func(st agent.Status) string {
		if st.Paused {
			return "a paused process"
		}
		return ""
	},
}
