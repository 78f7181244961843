package checker

import (
	"fmt"

	"github.com/election-harness/harness/histories"
)

// checkRaftSafety is P1: per raft term, at most one member claims to be
// leader. Only a member's claim about itself counts: a follower's
// (leader, term) pair may be read from two different moments.
func checkRaftSafety(h *history) CheckResult {
	c := newCheck("P1", "P1 raft election safety")
	claims := map[uint64]map[string]histories.Event{} // term -> member -> first claim
	for _, e := range h.probes {
		if e.Type != histories.OK || e.Member == nil {
			c.Counts[CountProbesFailed]++
			continue
		}
		c.Counts[CountProbes]++
		m := e.Member
		if !m.IsLeader {
			if _, ok := claims[m.Term]; !ok {
				claims[m.Term] = map[string]histories.Event{}
			}
			continue
		}
		// The member is who answered the probe, by name: its raft ID may
		// be missing from one probe and present in the next, and a
		// member wiped and added back keeps its name.
		id := m.Name
		if id == "" {
			id = e.Process
		}
		byMember, ok := claims[m.Term]
		if !ok {
			byMember = map[string]histories.Event{}
			claims[m.Term] = byMember
		}
		if _, seen := byMember[id]; seen {
			continue
		}
		c.Counts[CountLeaderClaims]++
		for _, first := range byMember {
			c.failAs(blameRaft, fmt.Sprintf("two leaders in raft term %d: %s and %s", m.Term, memberName(first), memberName(e)), first, e)
			break // one pair proves it
		}
		byMember[id] = e
	}
	c.Counts[CountTerms] = int64(len(claims))
	switch {
	case c.Counts[CountProbes] == 0:
		c.unknown("no member answered a probe")
	case c.Counts[CountLeaderClaims] == 0:
		c.unknown("no member ever claimed to lead: nothing to decide")
	}
	return c
}

func memberName(e histories.Event) string {
	if e.Member.Name != "" {
		return e.Member.Name
	}
	return e.Member.ID
}
