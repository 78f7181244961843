package reports

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
)

// eventLine renders one event the way people read histories: time,
// process, type, function, then what it carried. Its time is the
// history's (from the run's start); eventLineFrom counts from origin.
func eventLine(e histories.Event) string { return eventLineFrom(e, 0) }

// eventLineFrom is eventLine with the time counted from origin (the
// workload's start, in the report).
func eventLineFrom(e histories.Event, origin int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %9.3fs %-10s %-6s %s", e.Index, time.Duration(e.Time-origin).Seconds(), e.Process, e.Type, e.F)
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
		if e.Member.Version != "" {
			fmt.Fprintf(&b, " version=%s cluster_version=%s", e.Member.Version, e.Member.ClusterVersion)
		}
	}
	if e.Fault != nil {
		fmt.Fprintf(&b, " fault#%d %s on %s", e.Fault.ID, faultName(*e.Fault), strings.Join(e.Fault.Targets, ","))
	}
	if e.Error != "" {
		fmt.Fprintf(&b, " error=%q", e.Error)
	}
	return b.String()
}

// countsLine renders a check's counts and stats as sorted name=value
// pairs.
func countsLine(c checker.CheckResult) string {
	var parts []string
	for k, v := range c.Counts {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	for k, v := range c.Stats {
		parts = append(parts, fmt.Sprintf("%s=%s", k, fmtNumber(v)))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// fmtNumber prints a whole number as an integer (failovers=15) and any
// other to the millisecond (failover-max-seconds=12.576).
func fmtNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}
