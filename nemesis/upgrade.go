package nemesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/election-harness/harness/histories"
)

// KindUpgrade stops a member, switches it to the run's other server
// version on its data, and restarts it, as an operator rolls an upgrade
// or a downgrade (--version OLD,NEW). The database's Upgrades readies the
// cluster first, as its guide says. Healed, the member is back on the
// run's final version (the last of --version); HealAll puts every member
// there, so a run ends with every member on it.
const KindUpgrade = histories.FaultUpgrade

// Rules of the upgrade kind beyond the target rules.
const (
	// UpgradeNextMember is the first member (by name) not on the final
	// version, moved to it: the next step of a rolling upgrade. With
	// every member on the final version, a random member is moved off it.
	UpgradeNextMember = "next-member"
)

// upgradeKind is the upgrade fault. It aims at members only, since a
// stopped member is no stop of the election leader.
var upgradeKind = faultKind{
	name: KindUpgrade,
	does: "a member stopped and restarted on its data with the run's other version (--version OLD,NEW), as a rolling upgrade or downgrade; healed, back on the final version",
	rules: []Rule{
		{Kind: KindUpgrade, Name: UpgradeNextMember, Weight: 2, Does: "the next member of a rolling move to the final version; with all there, a random member moved off it", MinMembers: 1},
		{Kind: KindUpgrade, Name: TargetRaftLeader, Weight: 1, Does: "the member leading raft, moved to the other version", MinMembers: 1},
	},
	resolve: func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error) {
		if x.Versions == nil {
			return nil, errors.New("upgrade needs a run of several versions (--version OLD,NEW) of a database whose members can move between them")
		}
		var n Node
		if r.Name == UpgradeNextMember {
			for _, m := range x.Members {
				if x.Versions.Of(m.Name()) != x.Versions.Final() {
					n = m
					break
				}
			}
		}
		if n == nil {
			var err error
			rule := r.Name
			if rule == UpgradeNextMember {
				rule = TargetRandomMember
			}
			if n, err = x.target(rng, rule); err != nil {
				return nil, err
			}
		}
		from := x.Versions.Of(n.Name())
		to := x.Versions.Final()
		if from == to {
			to = x.Versions.Other(n.Name())
		}
		ev.Targets = []string{n.Name()}
		ev.Params["from"], ev.Params["to"] = from, to
		return &fault{event: ev,
			apply: func(ctx context.Context) error { return x.move(ctx, n, to) },
			heal:  func(ctx context.Context) error { return x.move(ctx, n, x.Versions.Final()) }}, nil
	},
}

// Versions moves members between the server versions of a run of
// several (--version OLD,NEW), for the upgrade fault.
type Versions interface {
	// Final is the version every member ends the run on.
	Final() string
	// Of is the version member runs now.
	Of(member string) string
	// Other is the version a member on the final version moves to.
	Other(member string) string
	// Prepare readies the cluster for member, still running, to move to
	// version to, and returns the argv that starts it so on its data.
	Prepare(ctx context.Context, member, to string) ([]string, error)
	// Moved notes that member was restarted on version to, and returns
	// once it serves so.
	Moved(ctx context.Context, member, to string) error
}

// move stops member n, restarts it on version to with its data, and
// records the change; a member on to already is left as it is.
func (x *Executor) move(ctx context.Context, n Node, to string) error {
	from := x.Versions.Of(n.Name())
	if from == to {
		return nil
	}
	argv, err := x.Versions.Prepare(ctx, n.Name(), to)
	if err != nil {
		return fmt.Errorf("readying %s's move from %s to %s: %w", n.Name(), from, to, err)
	}
	a := n.Agent()
	if err := a.Kill(ctx, false); err != nil {
		return fmt.Errorf("stopping %s: %w", n.Name(), err)
	}
	if err := a.StartWith(ctx, argv); err != nil {
		return fmt.Errorf("starting %s on %s: %w", n.Name(), to, err)
	}
	x.Recorder.Record(histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FMemberVersion,
		Member: &histories.MemberStatus{Name: n.Name()}, Value: to})
	return x.Versions.Moved(ctx, n.Name(), to)
}

// toFinal moves every member not on the final version to it, one at a
// time, as HealAll's last step.
func (x *Executor) toFinal(ctx context.Context) error {
	if x.Versions == nil {
		return nil
	}
	var errs []error
	for _, n := range x.Members {
		if x.Versions.Of(n.Name()) == x.Versions.Final() {
			continue
		}
		if err := x.move(ctx, n, x.Versions.Final()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// NeedsVersions says whether a --nemesis list (as ParseKinds returns
// it) holds a kind that moves members between versions.
func NeedsVersions(entries []string) bool {
	return slices.ContainsFunc(entries, func(e string) bool {
		kind, _, _ := strings.Cut(e, ":")
		return kind == KindUpgrade
	})
}
