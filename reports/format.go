package reports

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
)

// eventLine renders one event the way people read histories: time,
// process, type, function, then what it carried.
func eventLine(e histories.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %9.3fs %-10s %-6s %s", e.Index, time.Duration(e.Time).Seconds(), e.Process, e.Type, e.F)
	if e.Key != "" {
		fmt.Fprintf(&b, " key=%s", e.Key)
	}
	if e.Value != "" {
		fmt.Fprintf(&b, " value=%q", e.Value)
	}
	if e.Token != nil {
		fmt.Fprintf(&b, " term=%s", e.Token)
	}
	if e.Revision != 0 {
		fmt.Fprintf(&b, " rev=%d", e.Revision)
	}
	if e.CreateRevision != 0 {
		fmt.Fprintf(&b, " create_rev=%d", e.CreateRevision)
	}
	if e.Member != nil {
		fmt.Fprintf(&b, " member=%s term=%d leader=%s is_leader=%v", e.Member.Name, e.Member.Term, e.Member.Leader, e.Member.IsLeader)
	}
	if e.Fault != nil {
		fmt.Fprintf(&b, " fault#%d %s on %s", e.Fault.ID, e.Fault.Kind, strings.Join(e.Fault.Targets, ","))
	}
	if e.Error != "" {
		fmt.Fprintf(&b, " error=%q", e.Error)
	}
	return b.String()
}

func countsLine(c checker.CheckResult) string {
	var parts []string
	for k, v := range c.Counts {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	for k, v := range c.Stats {
		parts = append(parts, fmt.Sprintf("%s=%.3f", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
