package nemesis

import (
	"math/rand/v2"
	"time"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/histories"
)

// faultKind is one kind of fault as a unit, defined in a file of its own
// (partition.go, pause.go, ...). It holds what the kind does and its rules
// in deck order. It says how a step of it is resolved against live state
// into a fault that knows how to apply and heal itself. It also says what
// an agent still reports of it once healed.
type faultKind struct {
	name  string
	does  string
	rules []Rule
	// stopsANode: aimed at the election leader, the fault waits for the
	// leader to act, so that it stops a leader between check and write.
	stopsANode bool
	// outlastsLease: aimed at the election leader, the fault lasts
	// longer than the store takes to end a silent holder's lease.
	outlastsLease bool
	// minDuration, if set, is the shortest a step of rule may last at
	// pace p (a raft loop stuck for longer than a lease).
	minDuration func(rule string, p Pace) time.Duration
	// healWithin, if set, bounds the heal instead of defaultHealWithin:
	// a heal that waits for the database (a replaced member's promotion)
	// takes longer than one that lifts a rule.
	healWithin time.Duration
	// resolve picks the targets and parameters of a step of rule r (one
	// of rules) and returns the fault, its event ev filled in; rng is
	// seeded by the step's Pick, so the same seed picks the same targets.
	resolve func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error)
	// left says what an agent's status still shows of this kind ("":
	// nothing); nil for kinds an agent cannot see (freeze).
	left func(st agent.Status) string
}

// allKinds is every fault kind, in --nemesis order, from which Kinds,
// KindTable, RuleTable and `harness faults` are derived. The order of
// each kind's rules is where its seeded deck starts from: changing it
// changes every plan of the kind (plan_pin_test.go says so).
var allKinds = []*faultKind{
	&partitionKind,
	&pauseKind,
	&freezeKind,
	&killKind,
	&wipeKind,
	&lossKind,
	&delayKind,
	&clockKind,
	&failpointKind,
	&upgradeKind,
	&stallKind,
	&throttleKind,
	&loseUnsyncedKind,
	&compactKind,
	&defragKind,
}

// KindInfo describes one fault kind, for `harness faults`.
type KindInfo struct {
	Name string
	Does string
}

// KindTable is every kind the nemesis can inject, in --nemesis order.
var KindTable = func() []KindInfo {
	out := make([]KindInfo, len(allKinds))
	for i, k := range allKinds {
		out[i] = KindInfo{Name: k.name, Does: k.does}
	}
	return out
}()

// Kinds lists the kinds this nemesis can inject, in --nemesis order.
var Kinds = func() []string {
	out := make([]string, len(allKinds))
	for i, k := range allKinds {
		out[i] = k.name
	}
	return out
}()

// RuleTable holds every rule of every kind, weighted: faults on the
// leaders find the bugs, so they come up most often. The order of a
// kind's rules is the order of its deck's cards, which the seeded
// shuffle starts from: changing it changes every plan.
var RuleTable = func() []Rule {
	var out []Rule
	for _, k := range allKinds {
		out = append(out, k.rules...)
	}
	return out
}()

// kindNamed finds a kind; nil if there is none of that name.
func kindNamed(name string) *faultKind {
	for _, k := range allKinds {
		if k.name == name {
			return k
		}
	}
	return nil
}
