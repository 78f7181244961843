package nemesis

import (
	"fmt"
	"slices"
	"strings"
)

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
	// OnAPIServers: the rule acts on kube-apiserver nodes, which only
	// runs of the Kubernetes recipes have.
	OnAPIServers bool
	// Fallback is the rule it is carried out as with fewer members
	// (dealt at random it degrades; named, it is refused). Empty: with
	// fewer members it is not applied at all.
	Fallback string
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
