package nemesis

import (
	"fmt"
	"slices"
	"strings"
)

// KindInfo describes one fault kind, for `harness faults`.
type KindInfo struct {
	Name string
	Does string
}

// KindTable is every kind the nemesis can inject, in --nemesis order.
var KindTable = []KindInfo{
	{KindPartition, "nftables drops (never rejects) TCP and UDP between nodes"},
	{KindPause, "SIGSTOP of the node's process group, SIGCONT when it ends"},
	{KindFreeze, "the cgroup freezer on the whole node (docker pause), agent included"},
	{KindKill, "SIGKILL, restarted with its data when the fault ends"},
	{KindWipe, "a member killed, its data emptied and removed from the cluster; it rejoins empty as a new member"},
	{KindLoss, "10, 30 or 60 % of packets lost both ways between the target and every member"},
	{KindDelay, "packets held 50 ms, 200 ms or 1 s (± a quarter) both ways between the target and every member"},
	{KindClock, "the process's own clocks skewed (offset and rate of its vDSO clock_gettime/gettimeofday)"},
}

// Kinds lists the kinds this nemesis can inject, in --nemesis order.
var Kinds = func() []string {
	var out []string
	for _, k := range KindTable {
		out = append(out, k.Name)
	}
	return out
}()

// Rule is one way a kind of fault chooses its targets. The nemesis deals
// a kind's rules from a deck holding each as many times as its weight,
// and `harness faults` lists this same table.
type Rule struct {
	Kind string
	Name string
	// Weight is the rule's cards in its kind's deck; 0: only when named
	// (KIND:RULE).
	Weight int
	Does   string
	// MinMembers is the fewest members the rule needs to do what Does
	// says.
	MinMembers int
	// Fallback is the rule it is carried out as with fewer members
	// (dealt at random it degrades; named, it is refused). Empty: with
	// fewer members it is not applied at all.
	Fallback string
}

// RuleTable holds every rule of every kind, weighted: faults on the
// leaders find the bugs, so they come up most often. The order of a
// kind's rules is the order of its deck's cards, which the seeded
// shuffle starts from: changing it changes every plan.
var RuleTable = []Rule{
	{KindPartition, GrudgeIsolateRaftLeader, 2, "the raft leader cut from the other members", 2, ""},
	{KindPartition, GrudgeMajorityMinority, 2, "the members split at random into a majority and a minority", 2, ""},
	{KindPartition, GrudgeIsolateElectionLeader, 3, "the election leader (a campaigner) cut from every member", 1, ""},
	{KindPartition, GrudgeIsolateMember, 1, "a random member cut from the other members", 2, ""},
	{KindPartition, GrudgeBridge, 1, "two halves that cannot talk, and one member talking to both", 3, ""},
	{KindPartition, GrudgeRing, 1, "each member sees a different majority of the others", 5, GrudgeBridge},
	{KindPartition, GrudgeLeaderDeaf, 1, "one-way: the raft leader hears no member", 2, ""},
	{KindPartition, GrudgeLeaderMute, 1, "one-way: no member hears the raft leader", 2, ""},

	// A stopped election leader is what leases fail on (and a stopped
	// raft leader, what lessors do): stops mostly aim there; a stopped
	// campaigner that waits in its campaign wakes to an expired session.
	// A random member (weight 0) is stopped only when asked for:
	// pause:random-member.
	{KindPause, TargetElectionLeader, 4, "the election leader, mid-write if it can be caught so, for longer than its lease", 1, ""},
	{KindPause, TargetRaftLeader, 1, "the member leading raft", 1, ""},
	{KindPause, TargetRandomCampaigner, 1, "a random campaigner", 1, ""},
	{KindPause, TargetRandomMember, 0, "a random member", 1, ""},
	{KindFreeze, TargetElectionLeader, 4, "the election leader, mid-write if it can be caught so, for longer than its lease", 1, ""},
	{KindFreeze, TargetRaftLeader, 1, "the member leading raft", 1, ""},
	{KindFreeze, TargetRandomCampaigner, 1, "a random campaigner", 1, ""},
	{KindFreeze, TargetRandomMember, 0, "a random member", 1, ""},
	{KindKill, TargetElectionLeader, 2, "the election leader, mid-write if it can be caught so", 1, ""},
	{KindKill, TargetRaftLeader, 2, "the member leading raft", 1, ""},
	{KindKill, TargetRandomMember, 1, "a random member", 1, ""},
	{KindKill, TargetRandomCampaigner, 1, "a random campaigner", 1, ""},

	// Removing a killed member takes a majority of the others.
	{KindWipe, TargetRaftLeader, 1, "the member leading raft", 3, ""},
	{KindWipe, TargetRandomMember, 1, "a random member", 3, ""},

	{KindLoss, TargetRaftLeader, 2, "the member leading raft, on its links to the other members", 2, ""},
	{KindLoss, TargetElectionLeader, 2, "the election leader, on its links to every member", 1, ""},
	{KindLoss, TargetRandomMember, 1, "a random member, on its links to the other members", 2, ""},
	{KindDelay, TargetRaftLeader, 2, "the member leading raft, on its links to the other members", 2, ""},
	{KindDelay, TargetElectionLeader, 2, "the election leader, on its links to every member", 1, ""},
	{KindDelay, TargetRandomMember, 1, "a random member, on its links to the other members", 2, ""},

	{KindClock, ClockSlowElectionLeader, 3, "the election leader's clocks run at 0.05-0.2 of true speed", 1, ""},
	{KindClock, ClockSlowCampaigners, 2, "every campaigner's clocks run at 0.05-0.2: whoever leads next too", 1, ""},
	{KindClock, ClockSlowRaftLeader, 2, "the raft leader's clocks run at 0.2-0.6: it measures leases slowly", 1, ""},
	{KindClock, ClockOthersSlow, 1, "every member but the raft leader runs at 0.2-0.6 (the leader, in effect, fast)", 2, ""},
	{KindClock, ClockBumpElectionLeader, 1, "the election leader's wall clock jumps by ±5 s or ±60 s", 1, ""},
	{KindClock, ClockStrobeRaftLeader, 1, "the raft leader's wall clock flips by ±5 s or ±60 s every 200 ms", 1, ""},
	{KindClock, ClockIsolateSlowRaftLeader, 1, "the raft leader slowed to 0.05 and cut from the other members at once", 2, ""},
}

// Rules returns a kind's rules in deck order.
func Rules(kind string) []Rule {
	var out []Rule
	for _, r := range RuleTable {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// LookupRule finds a kind's rule.
func LookupRule(kind, name string) (Rule, bool) {
	for _, r := range RuleTable {
		if r.Kind == kind && r.Name == name {
			return r, true
		}
	}
	return Rule{}, false
}

// RunsWith says what the rule does with members members: "" when it
// does what it says; otherwise why not.
func (r Rule) RunsWith(members int) string {
	if members >= r.MinMembers {
		return ""
	}
	if r.Fallback != "" {
		return fmt.Sprintf("needs %d members, runs as %s with %d", r.MinMembers, r.Fallback, members)
	}
	return fmt.Sprintf("needs %d members, is not applied with %d", r.MinMembers, members)
}

// When says when the rule is dealt, for `harness faults`.
func (r Rule) When() string {
	total := 0
	for _, o := range Rules(r.Kind) {
		total += o.Weight
	}
	if r.Weight == 0 {
		return "only when named (" + r.Kind + ":" + r.Name + ")"
	}
	return fmt.Sprintf("%d in %d of %s's faults", r.Weight, total, r.Kind)
}

// Preconditions checks --nemesis entries (as ParseKinds returns them)
// against a cluster of members. A rule named (KIND:RULE) that cannot do
// what it says with that many members is an error, never substituted; a
// kind none of whose dealt rules can run is an error too. A kind dealt
// at random whose rules degrade or are skipped gets one note each.
func Preconditions(entries []string, members int) (notes []string, err error) {
	for _, e := range entries {
		kind, name, named := strings.Cut(e, ":")
		if named {
			r, ok := LookupRule(kind, name)
			if !ok {
				return nil, fmt.Errorf("%s has no rule %q", kind, name)
			}
			if r.RunsWith(members) != "" {
				return nil, fmt.Errorf("%s needs %d members, not %d, and a named rule is never replaced by another: give --nodes %d or more, or name another rule (harness faults lists them)",
					e, r.MinMembers, members, r.MinMembers)
			}
			continue
		}
		runnable := 0
		for _, r := range Rules(kind) {
			if r.Weight == 0 {
				continue
			}
			why := r.RunsWith(members)
			if why == "" || r.Fallback != "" {
				runnable++
			}
			if why != "" {
				notes = append(notes, fmt.Sprintf("%s: rule %s %s", kind, r.Name, why))
			}
		}
		if runnable == 0 {
			need := slices.MinFunc(Rules(kind), func(a, b Rule) int { return a.MinMembers - b.MinMembers }).MinMembers
			return nil, fmt.Errorf("%s: no rule of it can run with %d members (it needs %d)", kind, members, need)
		}
	}
	return notes, nil
}
