package nemesis

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/election-harness/harness/histories"
)

// KindWipe loses a member's data. The member is killed, its data emptied and it
// is removed from the cluster (Membership.Remove); healed, it rejoins
// empty as a new member (Membership.Rejoin), is started so, and the heal
// ends once it is a full member again (Membership.Rejoined). Its
// stopped process is what kill's status check reports.
const KindWipe = histories.FaultWipe

// wipeKind is the wipe fault. Its rules need three members, since removing
// a killed member takes a majority of the others.
var wipeKind = faultKind{
	name: KindWipe,
	does: "a member killed, its data emptied and removed from the cluster; it rejoins empty as a new member",
	// The heal waits for the new member to count toward quorum: Consul
	// promotes it after a reconcile (up to 60 s) and 10 s of health.
	healWithin: 2 * time.Minute,
	rules: []Rule{
		{Kind: KindWipe, Name: TargetRaftLeader, Weight: 1, Does: "the member leading raft", MinMembers: 3},
		{Kind: KindWipe, Name: TargetRandomMember, Weight: 1, Does: "a random member", MinMembers: 3},
	},
	resolve: func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error) {
		if x.Membership == nil {
			return nil, errors.New("wipe needs a database that can change its membership")
		}
		n, err := x.target(rng, r.Name)
		if err != nil {
			return nil, err
		}
		ev.Targets = []string{n.Name()}
		return &fault{event: ev,
			apply: func(ctx context.Context) error {
				if err := n.Agent().Kill(ctx, true); err != nil {
					return err
				}
				x.setWiped(n.Name(), true)
				return x.Membership.Remove(ctx, n.Name())
			},
			heal: func(ctx context.Context) error {
				if err := x.rejoin(ctx, n); err != nil {
					return err
				}
				return x.Membership.Rejoined(ctx, n.Name())
			}}, nil
	},
}

// rejoin adds a wiped member back, empty, and starts it.
func (x *Executor) rejoin(ctx context.Context, n Node) error {
	if !x.isWiped(n.Name()) {
		return nil
	}
	argv, err := x.Membership.Rejoin(ctx, n.Name())
	if err != nil {
		return err
	}
	if err := n.Agent().StartWith(ctx, argv); err != nil {
		return err
	}
	x.setWiped(n.Name(), false)
	return nil
}

func (x *Executor) setWiped(name string, wiped bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.wiped == nil {
		x.wiped = map[string]bool{}
	}
	x.wiped[name] = wiped
}

func (x *Executor) isWiped(name string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.wiped[name]
}
