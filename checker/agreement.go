package checker

import (
	"fmt"
	"sort"
	"strings"

	"github.com/election-harness/harness/histories"
)

// checkAgreement is P9: at the end of the run every member holds the
// same data at the same revision, as its digest (FMemberHash) says.
// Members whose digests of one revision differ are a database anomaly;
// a member that could not say, or members that never shared a revision,
// leave it unknown. A history without digests (a database that cannot
// give them, a run recorded before they were taken) or with one member's
// has no P9 (nil).
func checkAgreement(h *history) *CheckResult {
	var hashes []histories.Event
	for _, e := range h.events {
		if e.F == histories.FMemberHash {
			hashes = append(hashes, e)
		}
	}
	// One member has no one to agree with: no P9, rather than a P9
	// that compared nothing.
	if len(hashes) == 0 || len(hashes) == 1 && hashes[0].Type == histories.OK {
		return nil
	}
	c := newCheck("P9", "P9 members agree")
	byRev := map[int64][]histories.Event{}
	var failed []string
	for _, e := range hashes {
		c.Counts[CountMembers]++
		if e.Type != histories.OK {
			failed = append(failed, fmt.Sprintf("%s (%s)", e.Member.Name, e.Error))
			continue
		}
		byRev[e.Revision] = append(byRev[e.Revision], e)
	}
	revs := make([]int64, 0, len(byRev))
	for r := range byRev {
		revs = append(revs, r)
	}
	sort.Slice(revs, func(i, j int) bool { return revs[i] < revs[j] })
	compared := false
	for _, r := range revs {
		es := byRev[r]
		if len(es) < 2 {
			continue
		}
		compared = true
		c.Counts[CountMembersCompared] += int64(len(es))
		groups := map[string][]string{}
		for _, e := range es {
			groups[e.Value] = append(groups[e.Value], e.Member.Name)
		}
		if len(groups) > 1 {
			var parts []string
			for hash, ms := range groups {
				verb := "hold"
				if len(ms) == 1 {
					verb = "holds"
				}
				parts = append(parts, fmt.Sprintf("%s %s %s", strings.Join(ms, ", "), verb, hash))
			}
			sort.Strings(parts)
			c.failAs(blameDivergence, fmt.Sprintf("members disagree at revision %d: %s", r, strings.Join(parts, "; ")), es...)
		}
	}
	switch {
	case len(failed) > 0:
		c.unknown("not every member gave its digest: " + strings.Join(failed, "; "))
	case !compared:
		c.unknown("the members' digests cover no common revision")
	case len(revs) > 1:
		c.unknown(fmt.Sprintf("the members' digests cover %d revisions, not one", len(revs)))
	}
	return &c
}

// membersDiverged reports whether two members' digests of one revision
// differ (what P9 judges invalid).
func membersDiverged(h *history) bool {
	byRev := map[int64]string{}
	for _, e := range h.events {
		if e.F != histories.FMemberHash || e.Type != histories.OK {
			continue
		}
		if v, ok := byRev[e.Revision]; ok && v != e.Value {
			return true
		}
		byRev[e.Revision] = e.Value
	}
	return false
}
