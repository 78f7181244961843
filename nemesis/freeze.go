package nemesis

import (
	"context"

	"github.com/election-harness/harness/histories"
)

// KindFreeze uses the cgroup freezer on the whole node (docker pause). It
// stops the agent too, so it is the backend's to do and undo (Node's
// Freeze and Thaw), and no agent can report it.
const KindFreeze = histories.FaultFreeze

var freezeKind = faultKind{
	name:          KindFreeze,
	does:          "the cgroup freezer on the whole node (docker pause), agent included",
	rules:         stopRules(KindFreeze),
	stopsANode:    true,
	outlastsLease: true,
	resolve: resolveStop(func(n Node) (apply, heal func(context.Context) error) {
		return n.Freeze, n.Thaw
	}),
}
