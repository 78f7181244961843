package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/histories"
)

// KindPartition drops (never rejects) packets between nodes with
// nftables, by grudge.
const KindPartition = histories.FaultPartition

// Partition grudges: the partition's rules.
const (
	GrudgeIsolateRaftLeader     = "isolate-raft-leader"     // leader member | other members
	GrudgeIsolateMember         = "isolate-random-member"   // one member | other members
	GrudgeMajorityMinority      = "majority-minority"       // random halves of the members
	GrudgeIsolateElectionLeader = "isolate-election-leader" // leading campaigner | all members
	// GrudgeIsolateElectionLeaderLong is isolate-election-leader held
	// past the store's lease expiry (LeaseExpiry + LongIsolationMargin):
	// the holder's session ends and another campaigner takes the lock
	// while the holder still cannot hear of it (Consul #18271).
	GrudgeIsolateElectionLeaderLong = "isolate-election-leader-long"
	GrudgeBridge                    = "bridge"           // two halves | one member talks to both
	GrudgeRing                      = "majorities-ring"  // each member sees a different majority
	GrudgeLeaderDeaf                = "raft-leader-deaf" // one-way: the raft leader hears no member
	GrudgeLeaderMute                = "raft-leader-mute" // one-way: no member hears the raft leader
	// GrudgeIsolateAPIServer cuts a kube-apiserver node from its storage:
	// its clients still reach it, and it answers from what it last knew
	// or not at all.
	GrudgeIsolateAPIServer = "isolate-apiserver"
	// GrudgeAPIServerFromCampaigners cuts a kube-apiserver node from
	// every campaigner, so its clients' requests time out.
	GrudgeAPIServerFromCampaigners = "apiserver-from-campaigners"
)

var partitionKind = faultKind{
	name: KindPartition,
	does: "nftables drops (never rejects) TCP and UDP between nodes",
	rules: []Rule{
		{Kind: KindPartition, Name: GrudgeIsolateRaftLeader, Weight: 2, Does: "the raft leader cut from the other members", MinMembers: 2},
		{Kind: KindPartition, Name: GrudgeMajorityMinority, Weight: 2, Does: "the members split at random into a majority and a minority", MinMembers: 2},
		{Kind: KindPartition, Name: GrudgeIsolateElectionLeader, Weight: 3, Does: "the election leader (a campaigner) cut from every member", MinMembers: 1},
		{Kind: KindPartition, Name: GrudgeIsolateMember, Weight: 1, Does: "a random member cut from the other members", MinMembers: 2},
		{Kind: KindPartition, Name: GrudgeBridge, Weight: 1, Does: "two halves that cannot talk, and one member talking to both", MinMembers: 3},
		{Kind: KindPartition, Name: GrudgeRing, Weight: 1, Does: "each member sees a different majority of the others", MinMembers: 5, Fallback: GrudgeBridge},
		{Kind: KindPartition, Name: GrudgeLeaderDeaf, Weight: 1, Does: "one-way: the raft leader hears no member", MinMembers: 2},
		{Kind: KindPartition, Name: GrudgeLeaderMute, Weight: 1, Does: "one-way: no member hears the raft leader", MinMembers: 2},
		// Weight 0, last: the deck, and so every seeded plan, is as before.
		{Kind: KindPartition, Name: GrudgeIsolateElectionLeaderLong, Weight: 0, Does: "the election leader cut from every member for longer than the store takes to end its lease and let another lead (lease expiry + 5 s)", MinMembers: 1},
		{Kind: KindPartition, Name: GrudgeIsolateAPIServer, Weight: 0, Does: "a random kube-apiserver node cut from every member, its storage (Kubernetes recipes)", MinMembers: 1, OnAPIServers: true},
		{Kind: KindPartition, Name: GrudgeAPIServerFromCampaigners, Weight: 0, Does: "a random kube-apiserver node cut from every campaigner, its clients (Kubernetes recipes)", MinMembers: 1, OnAPIServers: true},
	},
	// A holder cut off for less than the lease expiry never sees another
	// lead; the long rule exists to outlast it.
	minDuration: func(rule string, p Pace) time.Duration {
		if rule == GrudgeIsolateElectionLeaderLong && p.LeaseExpiry > 0 {
			return p.LeaseExpiry + LongIsolationMargin
		}
		return 0
	},
	resolve: func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error) {
		g, err := x.grudge(rng, r)
		if err != nil {
			return nil, err
		}
		ev.Targets = g.targets
		for k, v := range g.params {
			ev.Params[k] = v
		}
		return &fault{event: ev, apply: g.apply, heal: g.heal}, nil
	},
	left: func(st agent.Status) string {
		if len(st.Dropped) == 0 {
			return ""
		}
		return "drops to " + strings.Join(st.Dropped, ",")
	},
}

// LongIsolationMargin is how much longer than the lease expiry
// isolate-election-leader-long lasts: time for the next holder to take
// the lock (a waiter's retry) before the old one can hear again.
const LongIsolationMargin = 5 * time.Second

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

// grudge resolves a partition rule: who cannot talk to whom. r is the
// rule as its kind holds it (a rule that needs more members than the
// cluster has is carried out as its fallback).
func (x *Executor) grudge(rng *rand.Rand, r Rule) (grudge, error) {
	rule := r.Name
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
	case GrudgeIsolateElectionLeader, GrudgeIsolateElectionLeaderLong:
		n, err := x.target(rng, TargetElectionLeader)
		if err != nil {
			return g, err
		}
		g.cuts, g.targets = apart([]Node{n}, x.front()), []string{n.Name()}
		g.params["cut-from"] = strings.Join(names(x.front()), ",")
	case GrudgeIsolateAPIServer, GrudgeAPIServerFromCampaigners:
		n, err := x.target(rng, TargetRandomAPIServer)
		if err != nil {
			return g, err
		}
		from := x.Members
		if rule == GrudgeAPIServerFromCampaigners {
			from = x.Campaigners
		}
		g.cuts, g.targets = apart([]Node{n}, from), []string{n.Name()}
		g.params["cut-from"] = strings.Join(names(from), ",")
	case GrudgeBridge:
		return x.bridge(rng, g)
	case GrudgeRing:
		if len(x.Members) < r.MinMembers {
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
