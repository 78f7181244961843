package nemesis

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Target rules: who a fault acts on, resolved from live state.
const (
	TargetRaftLeader       = "raft-leader"       // the member leading raft
	TargetRandomMember     = "random-member"     // any member
	TargetElectionLeader   = "election-leader"   // the campaigner that believes it leads
	TargetRandomCampaigner = "random-campaigner" // any campaigner
	TargetRandomAPIServer  = "random-apiserver"  // any kube-apiserver node
	// TargetRaftLeaderLong is the raft leader stopped for longer than a
	// lease takes to end and another campaigner to lead through the new
	// raft leader (lease expiry + LongStopMargin): when it resumes, its
	// lessor finds every lease it knows expired.
	TargetRaftLeaderLong = "raft-leader-long"
)

// LongStopMargin is how much longer than the lease expiry a stop of the
// raft leader under raft-leader-long lasts: time for the new raft
// leader to be elected, the next campaigner to win, and its lease to be
// renewed through the new leader.
const LongStopMargin = 5 * time.Second

// Step is one planned fault.
type Step struct {
	// Start is the offset from the start of the workload.
	Start    time.Duration `json:"start"`
	Duration time.Duration `json:"duration"`
	Kind     string        `json:"kind"`
	Rule     string        `json:"rule"`
	// Pick seeds every random choice made when the step is resolved, so
	// the same seed gives the same targets for the same cluster state.
	Pick uint64 `json:"pick"`
}

// ParseKinds parses --nemesis: a comma-separated list of kinds, each
// optionally narrowed to one of its rules (clock:slow-election-leader),
// or "none".
func ParseKinds(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return nil, nil
	}
	var kinds []string
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		kind, rule, narrowed := strings.Cut(k, ":")
		if !slices.Contains(Kinds, kind) {
			return nil, fmt.Errorf("unknown nemesis %q (want a comma-separated list of %s, each optionally KIND:RULE, or none)", k, strings.Join(Kinds, ", "))
		}
		if _, ok := LookupRule(kind, rule); narrowed && !ok {
			var known []string
			for _, r := range Rules(kind) {
				known = append(known, r.Name)
			}
			return nil, fmt.Errorf("nemesis %q: %s has no rule %q (its rules: %s)", k, kind, rule, strings.Join(known, ", "))
		}
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds, nil
}

// ruleChoices are the rules a --nemesis entry allows: KIND for all its
// rules, KIND:RULE for that one.
func ruleChoices(entry string) (string, []Rule) {
	kind, rule, narrowed := strings.Cut(entry, ":")
	if !narrowed {
		return kind, Rules(kind)
	}
	return kind, []Rule{{Kind: kind, Name: rule, Weight: 1}}
}

// Pace sets how often faults come and how long they last.
type Pace struct {
	// Interval is the mean time between faults: they start after a
	// quiet first interval, last half to twice as long, and are
	// separated by a rest of half to one interval.
	Interval time.Duration
	// TimeLimit is the workload's length: nothing is planned past it.
	TimeLimit time.Duration
	// LeaseExpiry is the longest the store can take to end the lease of
	// a holder that went silent and let another campaigner lead. A pause
	// or freeze of the election leader lasts a second longer than this:
	// what a stopped leader does when it wakes matters only once its
	// lease ended while it slept, and a shorter pause never shows it.
	LeaseExpiry time.Duration
}

// Plan is the schedule for a run at pace p.
func Plan(seed int64, kinds []string, p Pace) []Step {
	if len(kinds) == 0 || p.Interval <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6e656d65736973))
	var steps []Step
	at := p.Interval
	// Kinds are dealt from a shuffled deck, dealt again when it runs
	// out: every kind asked for comes up as often as the others, so no
	// seed goes without pauses, say, by chance. Each kind's rules are
	// dealt so too, from a deck holding each rule as often as its
	// weight: no seed goes without pauses of the election leader.
	var deck []string
	ruleDecks := map[string][]string{}
	for {
		if len(deck) == 0 {
			deck = shuffled(rng, kinds)
		}
		entry := deck[0]
		deck = deck[1:]
		kind, choices := ruleChoices(entry)
		if len(ruleDecks[entry]) == 0 {
			ruleDecks[entry] = shuffled(rng, cards(choices))
		}
		rule := ruleDecks[entry][0]
		ruleDecks[entry] = ruleDecks[entry][1:]
		dur := p.Interval/2 + time.Duration(rng.Int64N(int64(p.Interval)*3/2+1))
		if k := kindNamed(kind); k != nil && k.outlastsLease && rule == TargetElectionLeader && p.LeaseExpiry > 0 {
			dur = max(dur, p.LeaseExpiry+time.Second)
		}
		if k := kindNamed(kind); k != nil && k.minDuration != nil {
			dur = max(dur, k.minDuration(rule, p))
		}
		if at+dur > p.TimeLimit {
			dur = p.TimeLimit - at
		}
		if dur < p.Interval/4 {
			break
		}
		steps = append(steps, Step{Start: at, Duration: dur, Kind: kind, Rule: rule, Pick: rng.Uint64()})
		at += dur + p.Interval/2 + time.Duration(rng.Int64N(int64(p.Interval)/2+1))
	}
	return steps
}

// cards is a deck of rules, each as many times as its weight.
func cards(rs []Rule) []string {
	var out []string
	for _, r := range rs {
		for range r.Weight {
			out = append(out, r.Name)
		}
	}
	return out
}
