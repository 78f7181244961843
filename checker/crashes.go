package checker

import (
	"fmt"
	"strings"

	"github.com/election-harness/harness/histories"
)

// checkCrashes is P10, no member crashed unasked. At the end of the run
// every member's log was scanned for the lines its database writes when it
// crashes (FMemberLog). A member that wrote one is a database anomaly,
// quoting the line. The exception is a fault that made it panic on purpose,
// such as a failpoint whose terms panic, on that member. A log that could
// not be read leaves P10 unknown. A history without scans has no P10 (nil).
func checkCrashes(h *history) *CheckResult {
	intended := map[string]bool{} // members made to panic by a failpoint
	var scans []histories.Event
	for _, e := range h.events {
		switch {
		case e.F == histories.FMemberLog:
			scans = append(scans, e)
		case e.F == histories.FFaultStart && e.Fault != nil && e.Fault.Kind == histories.FaultFailpoint && strings.Contains(e.Fault.Params["terms"], "panic"):
			for _, t := range e.Fault.Targets {
				intended[t] = true
			}
		}
	}
	if len(scans) == 0 {
		return nil
	}
	c := newCheck("P10", "P10 no member crashed unasked")
	var unread []string
	for _, e := range scans {
		c.Counts[CountMembers]++
		name := e.Member.Name
		switch {
		case e.Type == histories.OK:
		case e.Value == "":
			unread = append(unread, fmt.Sprintf("%s (%s)", name, e.Error))
		case intended[name]:
			c.Counts[CountMembersCrashedOnPurpose]++
		default:
			c.failAs(blameCrash, fmt.Sprintf("%s crashed unasked: its log says %q at %s", name, clip(e.Value, 300), e.Error), e)
		}
	}
	if len(unread) > 0 {
		c.unknown("not every member's log could be scanned: " + strings.Join(unread, "; "))
	}
	return &c
}

// clip shortens s to at most n bytes, saying so.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
