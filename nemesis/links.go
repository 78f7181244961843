package nemesis

import (
	"context"
	"math/rand/v2"
	"strings"

	"github.com/election-harness/harness/histories"
)

// badLink resolves a bad-link rule (loss, delay) to the cuts it takes: a
// bad link is bad both ways, so the target's packets to every member,
// and every member's packets to the target. It names the target and its
// peers in ev.
func (x *Executor) badLink(rng *rand.Rand, r Rule, ev *histories.Fault) ([]cut, error) {
	n, err := x.target(rng, r.Name)
	if err != nil {
		return nil, err
	}
	peers := without(x.Members, n)
	if byName(x.Campaigners, n.Name()) != nil {
		peers = x.front()
	}
	ev.Targets = []string{n.Name()}
	ev.Params["peers"] = strings.Join(names(peers), ",")
	cuts := []cut{{node: n, peers: peers}}
	for _, p := range peers {
		cuts = append(cuts, cut{node: p, peers: []Node{n}})
	}
	return cuts, nil
}

// badLinkRules are the rules of a kind that degrades a target's links
// with badLink: one per target it resolves, the same for every such kind.
func badLinkRules(kind string) []Rule {
	return []Rule{
		{Kind: kind, Name: TargetRaftLeader, Weight: 2, Does: "the member leading raft, on its links to the other members", MinMembers: 2},
		{Kind: kind, Name: TargetElectionLeader, Weight: 2, Does: "the election leader, on its links to every member", MinMembers: 1},
		{Kind: kind, Name: TargetRandomMember, Weight: 1, Does: "a random member, on its links to the other members", MinMembers: 2},
		// Weight 0, last: the deck, and so every seeded plan, is as before.
		{Kind: kind, Name: TargetRandomAPIServer, Weight: 0, Does: "a random kube-apiserver node, on its links to every member (Kubernetes recipes)", MinMembers: 1, OnAPIServers: true},
	}
}

// cutsFault is the fault that does set on every cut, and heal to undo it.
func cutsFault(ev histories.Fault, cuts []cut, set, heal func(ctx context.Context, c cut) error) *fault {
	return &fault{event: ev,
		apply: func(ctx context.Context) error { return eachCut(cuts, func(c cut) error { return set(ctx, c) }) },
		heal:  func(ctx context.Context) error { return eachCut(cuts, func(c cut) error { return heal(ctx, c) }) }}
}

// eachCut applies do to every cut, and joins the errors.
func eachCut(cuts []cut, do func(c cut) error) error {
	return each(cuts, func(c cut) string { return c.node.Name() }, do)
}
