package checker

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/election-harness/harness/histories"
)

// checkVersions is V: a run of several server versions ends with every
// member on the final one and the cluster version its (the harness's
// version-check at the end), and the history shows each member's moves.
// A run of one version has no such check (nil). A check that could not
// confirm the final versions is unknown: the run did not carry out the
// move it was asked to test.
func checkVersions(h *history) *CheckResult {
	var checks []histories.Event
	moves := map[string][]string{}
	for _, e := range h.events {
		switch e.F {
		case histories.FVersionCheck:
			checks = append(checks, e)
		case histories.FMemberVersion:
			if e.Member != nil {
				moves[e.Member.Name] = append(moves[e.Member.Name], e.Value)
			}
		}
	}
	if len(checks) == 0 && len(moves) == 0 {
		return nil
	}
	c := newCheck("V", "V members end on the final version")
	c.Counts[CountMembers] = int64(len(moves))
	for _, name := range slices.Sorted(maps.Keys(moves)) {
		vs := moves[name]
		// The first is the version the member started on.
		c.Counts[CountMoves] += int64(len(vs) - 1)
		c.Notes = append(c.Notes, fmt.Sprintf("%s: %s", name, strings.Join(vs, " → ")))
	}
	switch {
	case len(checks) == 0:
		c.unknown("the run recorded no check of its members' versions at its end")
	case checks[len(checks)-1].Error != "":
		last := checks[len(checks)-1]
		c.Evidence = append(c.Evidence, Evidence{Message: last.Error, Events: []histories.Event{last}})
		c.unknown("not every member ended on the final version: " + last.Error)
	default:
		c.Notes = append(c.Notes, checks[len(checks)-1].Value)
	}
	return &c
}
