package nemesis

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/histories"
)

type fixedLeaders struct{ raft, election string }

func (l fixedLeaders) RaftLeader() (string, uint64) { return l.raft, 2 }
func (l fixedLeaders) ElectionLeader() (string, *histories.Token) {
	return l.election, &histories.Token{Seq: 1}
}
func (l fixedLeaders) ElectionLeaderActing() string { return l.election }

// links says, for every ordered pair of nodes, whether a packet from the
// first reaches the second: neither the sender's outgoing cut nor the
// receiver's incoming cut drops it.
func links(g grudge, all []Node) map[[2]string]bool {
	drops := func(at, peer string, dir string) bool {
		for _, c := range g.cuts {
			if c.node.Name() != at || !slices.ContainsFunc(c.peers, func(n Node) bool { return n.Name() == peer }) {
				continue
			}
			if c.direction == agent.DirectionBoth || c.direction == dir {
				return true
			}
		}
		return false
	}
	out := map[[2]string]bool{}
	for _, a := range all {
		for _, b := range all {
			if a.Name() != b.Name() {
				out[[2]string{a.Name(), b.Name()}] = !drops(a.Name(), b.Name(), agent.DirectionOut) && !drops(b.Name(), a.Name(), agent.DirectionIn)
			}
		}
	}
	return out
}

// reach lists who each node can talk with both ways.
func reach(g grudge, all []Node) map[string][]string {
	l := links(g, all)
	out := map[string][]string{}
	for _, a := range all {
		for _, b := range all {
			if a.Name() != b.Name() && l[[2]string{a.Name(), b.Name()}] && l[[2]string{b.Name(), a.Name()}] {
				out[a.Name()] = append(out[a.Name()], b.Name())
			}
		}
	}
	return out
}

func TestGrudges(t *testing.T) {
	for _, n := range []int{3, 5} {
		members, campaigners := nodes("n", n), nodes("c", 2)
		x := &Executor{Members: members, Campaigners: campaigners, Leaders: fixedLeaders{raft: "n2", election: "c1"}}
		all := append(append([]Node{}, members...), campaigners...)
		for _, rule := range []string{GrudgeIsolateRaftLeader, GrudgeIsolateMember, GrudgeMajorityMinority, GrudgeIsolateElectionLeader,
			GrudgeBridge, GrudgeRing, GrudgeLeaderDeaf, GrudgeLeaderMute} {
			t.Run(fmt.Sprintf("%d members %s", n, rule), func(t *testing.T) {
				pr, _ := LookupRule(KindPartition, rule)
				g, err := x.grudge(rand.New(rand.NewPCG(7, 1)), pr)
				if err != nil {
					t.Fatal(err)
				}
				r := reach(g, all)
				majority := n/2 + 1
				seesMajority := func(m string) bool {
					k := 1
					for _, p := range r[m] {
						if strings.HasPrefix(p, "n") {
							k++
						}
					}
					return k >= majority
				}
				switch rule {
				case GrudgeIsolateRaftLeader:
					if g.targets[0] != "n2" || seesMajority("n2") || len(r["n2"]) != len(campaigners) {
						t.Errorf("the raft leader n2 should reach only the campaigners: %v (targets %v)", r["n2"], g.targets)
					}
				case GrudgeIsolateElectionLeader:
					if len(r["c1"]) != 1 || r["c1"][0] != "c2" {
						t.Errorf("the election leader c1 should reach no member: %v", r["c1"])
					}
				case GrudgeMajorityMinority, GrudgeIsolateMember:
					var with int
					for _, m := range members {
						if seesMajority(m.Name()) {
							with++
						}
					}
					if with != majority && !(rule == GrudgeIsolateMember && with == n-1) {
						t.Errorf("%d members see a majority, want %d: %v", with, majority, r)
					}
				case GrudgeBridge:
					mid := g.params["bridge"]
					if len(r[mid]) != len(all)-1 {
						t.Errorf("the bridge %s should reach everyone: %v", mid, r[mid])
					}
					for _, m := range members {
						if !seesMajority(m.Name()) {
							t.Errorf("%s sees no majority through the bridge: %v", m.Name(), r[m.Name()])
						}
					}
				case GrudgeRing:
					seen := map[string]bool{}
					for _, m := range members {
						if !seesMajority(m.Name()) {
							t.Errorf("%s sees no majority: %v", m.Name(), r[m.Name()])
						}
						view := append([]string{m.Name()}, r[m.Name()]...)
						sort.Strings(view)
						seen[strings.Join(view, ",")] = true
					}
					if n >= 5 && len(seen) != n {
						t.Errorf("members share majorities: %v", seen)
					}
				case GrudgeLeaderDeaf, GrudgeLeaderMute:
					l := links(g, all)
					out, in := l[[2]string{"n2", "n1"}], l[[2]string{"n1", "n2"}]
					if rule == GrudgeLeaderDeaf && !(out && !in) || rule == GrudgeLeaderMute && !(!out && in) {
						t.Errorf("n2->n1 %v, n1->n2 %v", out, in)
					}
				}
			})
		}
	}
}

func TestIsolateSlowRaftLeaderSlowsAndCutsTheSameMember(t *testing.T) {
	x := &Executor{Members: nodes("n", 3), Campaigners: nodes("c", 2), Leaders: fixedLeaders{raft: "n2", election: "c1"}}
	f, err := x.clockFault(rand.New(rand.NewPCG(1, 2)), ClockIsolateSlowRaftLeader, histories.Fault{Kind: KindClock, Params: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	ev := f.event
	if !slices.Equal(ev.Targets, []string{"n2"}) || ev.Params["rate"] != "0.05" || ev.Params["cut-from"] != "n1,n3" {
		t.Errorf("fault %+v: want n2 slowed to 0.05 and cut from n1,n3", ev)
	}
}

// isolate-election-leader-long cuts what isolate-election-leader cuts
// (the acting election leader from every member), and is dealt only
// when named.
func TestIsolateElectionLeaderLongResolves(t *testing.T) {
	x := &Executor{Members: nodes("n", 3), Campaigners: nodes("c", 4), Leaders: fixedLeaders{raft: "n2", election: "c3"}}
	r, ok := LookupRule(KindPartition, GrudgeIsolateElectionLeaderLong)
	if !ok {
		t.Fatal("no rule", GrudgeIsolateElectionLeaderLong)
	}
	if r.Weight != 0 {
		t.Fatalf("weight %d: the long isolation must be dealt only when named, or every seeded partition plan changes", r.Weight)
	}
	g, err := x.grudge(rand.New(rand.NewPCG(1, 1)), r)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(g.targets) != "[c3]" || g.params["cut-from"] != "n1,n2,n3" {
		t.Fatalf("targets %v params %v, want [c3] cut from n1,n2,n3", g.targets, g.params)
	}
	all := append(nodes("n", 3), nodes("c", 4)...)
	got := reach(g, all)
	for _, n := range []string{"n1", "n2", "n3"} {
		if slices.Contains(got["c3"], n) {
			t.Fatalf("c3 still reaches %s: %v", n, got["c3"])
		}
	}
	if !slices.Contains(got["c1"], "n1") {
		t.Fatalf("c1, not the leader, was cut too: %v", got["c1"])
	}
}

// In a run through kube-apiserver nodes, the campaigners reach the store
// through the apiservers: isolating the election leader cuts it from
// them too, and the apiserver rules cut one apiserver from its storage
// or its clients, never the rest. Every apiserver rule is dealt only when
// named, so no plan of a run without apiservers changes.
func TestAPIServerGrudges(t *testing.T) {
	x := &Executor{Members: nodes("n", 3), Campaigners: nodes("c", 2), APIServers: nodes("a", 2), Leaders: fixedLeaders{raft: "n2", election: "c1"}}
	all := append(append(nodes("n", 3), nodes("c", 2)...), nodes("a", 2)...)
	for _, tc := range []struct {
		rule            string
		cut, stillReach [][2]string
	}{
		{GrudgeIsolateElectionLeader, [][2]string{{"c1", "n1"}, {"c1", "a1"}, {"c1", "a2"}}, [][2]string{{"c2", "a1"}, {"a1", "n1"}}},
		{GrudgeIsolateAPIServer, nil, [][2]string{{"c1", "a1"}, {"c1", "a2"}, {"n1", "n2"}}},
		{GrudgeAPIServerFromCampaigners, nil, [][2]string{{"a1", "n1"}, {"a2", "n1"}, {"c1", "n1"}}},
	} {
		r, ok := LookupRule(KindPartition, tc.rule)
		if !ok {
			t.Fatal("no rule", tc.rule)
		}
		if r.OnAPIServers && r.Weight != 0 {
			t.Errorf("%s: weight %d, want 0", tc.rule, r.Weight)
		}
		g, err := x.grudge(rand.New(rand.NewPCG(1, 1)), r)
		if err != nil {
			t.Fatal(err)
		}
		got := reach(g, all)
		if r.OnAPIServers {
			target := g.targets[0]
			from := []string{"n1", "n2", "n3"}
			if tc.rule == GrudgeAPIServerFromCampaigners {
				from = []string{"c1", "c2"}
			}
			if !strings.HasPrefix(target, "a") {
				t.Fatalf("%s hit %s, not an apiserver", tc.rule, target)
			}
			for _, peer := range from {
				tc.cut = append(tc.cut, [2]string{target, peer})
			}
		}
		for _, c := range tc.cut {
			if slices.Contains(got[c[0]], c[1]) {
				t.Errorf("%s: %s still reaches %s", tc.rule, c[0], c[1])
			}
		}
		for _, c := range tc.stillReach {
			if tc.rule != GrudgeIsolateElectionLeader && slices.Contains(g.targets, c[0]) {
				continue
			}
			if !slices.Contains(got[c[0]], c[1]) {
				t.Errorf("%s: %s cut from %s too (targets %v)", tc.rule, c[0], c[1], g.targets)
			}
		}
	}
}
