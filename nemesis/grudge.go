package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/election-harness/harness/agent"
)

// cut is what one node drops: packets to and/or from peers.
type cut struct {
	node      Node
	peers     []Node
	direction string
}

// grudge is a partition resolved against live state: every node's cut,
// and a description for the history.
type grudge struct {
	cuts []cut
	// targets are the nodes the grudge is about (the isolated, the
	// minority...); params describe the rest.
	targets []string
	params  map[string]string
}

// apart cuts every node of a from every node of b, and b from a: both
// sides drop, so the cut holds whichever side's rules a packet meets.
func apart(a, b []Node) []cut {
	var cuts []cut
	for _, n := range a {
		cuts = append(cuts, cut{node: n, peers: b, direction: agent.DirectionBoth})
	}
	for _, n := range b {
		cuts = append(cuts, cut{node: n, peers: a, direction: agent.DirectionBoth})
	}
	return cuts
}

// grudge resolves a partition rule.
// apply installs the grudge's cuts through each node's agent.
func (g grudge) apply(ctx context.Context) error {
	return eachCut(g.cuts, func(c cut) error {
		return c.node.Agent().Partition(ctx, agent.PartitionRequest{Drop: addrs(c.peers), Direction: c.direction})
	})
}

// heal removes them.
func (g grudge) heal(ctx context.Context) error {
	return eachCut(g.cuts, func(c cut) error { return c.node.Agent().HealPartition(ctx) })
}

func (x *Executor) grudge(rng *rand.Rand, rule string) (grudge, error) {
	g := grudge{params: map[string]string{}}
	switch rule {
	case GrudgeIsolateRaftLeader, GrudgeIsolateMember:
		r := TargetRandomMember
		if rule == GrudgeIsolateRaftLeader {
			r = TargetRaftLeader
		}
		n, err := x.target(rng, r)
		if err != nil {
			return g, err
		}
		others := without(x.Members, n)
		g.cuts, g.targets = apart([]Node{n}, others), []string{n.Name()}
		g.params["cut-from"] = strings.Join(names(others), ",")
	case GrudgeMajorityMinority:
		s := shuffled(rng, x.Members)
		k := len(s) / 2 // the minority
		g.cuts, g.targets = apart(s[:k], s[k:]), names(s[:k])
		g.params["cut-from"] = strings.Join(names(s[k:]), ",")
	case GrudgeIsolateElectionLeader:
		n, err := x.target(rng, TargetElectionLeader)
		if err != nil {
			return g, err
		}
		g.cuts, g.targets = apart([]Node{n}, x.Members), []string{n.Name()}
		g.params["cut-from"] = strings.Join(names(x.Members), ",")
	case GrudgeBridge:
		return x.bridge(rng, g)
	case GrudgeRing:
		if r, _ := LookupRule(KindPartition, GrudgeRing); len(x.Members) < r.MinMembers {
			// Three or four members have no ring of distinct majorities
			// with symmetric cuts; a bridge is the nearest. (Dealt at
			// random only: a run that names the rule is refused.)
			g.params["as"] = fmt.Sprintf("%s: a majorities ring needs %d members", r.Fallback, r.MinMembers)
			return x.bridge(rng, g)
		}
		ring := shuffled(rng, x.Members)
		n := len(ring)
		// Each node sees itself and reach neighbours on each side: at
		// least a majority, and no two nodes the same one.
		reach := (n/2 + 1) / 2
		for i, node := range ring {
			var far []Node
			for j, peer := range ring {
				if d := min((i-j+n)%n, (j-i+n)%n); d > reach {
					far = append(far, peer)
				}
			}
			g.cuts = append(g.cuts, cut{node: node, peers: far, direction: agent.DirectionBoth})
		}
		g.targets = names(ring)
		g.params["ring"] = strings.Join(names(ring), ">")
	case GrudgeLeaderDeaf, GrudgeLeaderMute:
		n, err := x.target(rng, TargetRaftLeader)
		if err != nil {
			return g, err
		}
		// One-way: only the leader drops, and only one direction.
		dir := agent.DirectionIn
		if rule == GrudgeLeaderMute {
			dir = agent.DirectionOut
		}
		others := without(x.Members, n)
		g.cuts, g.targets = []cut{{node: n, peers: others, direction: dir}}, []string{n.Name()}
		g.params["cut-from"] = strings.Join(names(others), ",")
		g.params["direction"] = dir
	default:
		return g, fmt.Errorf("unknown partition rule %q", rule)
	}
	return g, nil
}

// bridge splits the members into two halves that cannot talk, and one
// member in the middle that talks to both.
func (x *Executor) bridge(rng *rand.Rand, g grudge) (grudge, error) {
	s := shuffled(rng, x.Members)
	if len(s) < 3 {
		return g, fmt.Errorf("a bridge needs 3 members, have %d", len(s))
	}
	k := (len(s) - 1) / 2
	a, mid, b := s[:k], s[k], s[k+1:]
	g.cuts, g.targets = apart(a, b), names(append(append([]Node{}, a...), b...))
	g.params["bridge"] = mid.Name()
	g.params["sides"] = strings.Join(names(a), ",") + " | " + strings.Join(names(b), ",")
	return g, nil
}

// shuffled returns a shuffled copy of items.
func shuffled[T any](rng *rand.Rand, items []T) []T {
	s := append([]T{}, items...)
	rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}
