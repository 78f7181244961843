package nemesis

import (
	"math/rand/v2"

	"github.com/election-harness/harness/histories"
)

// KindFreeze: the cgroup freezer on the whole node (docker pause). It
// stops the agent too, so it is the backend's to do and undo (Node's
// Freeze and Thaw), and no agent can report it.
const KindFreeze = histories.FaultFreeze

var freezeKind = faultKind{
	name:          KindFreeze,
	does:          "the cgroup freezer on the whole node (docker pause), agent included",
	rules:         stopRules(KindFreeze),
	stopsANode:    true,
	outlastsLease: true,
	resolve: func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error) {
		n, err := x.stopTarget(rng, r, &ev)
		if err != nil {
			return nil, err
		}
		return &fault{event: ev, apply: n.Freeze, heal: n.Thaw}, nil
	},
}
