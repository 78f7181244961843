package checker

import (
	"testing"

	"github.com/election-harness/harness/histories"
)

// withScans is a healthy run whose members' logs were scanned: a line
// "" is a clean log, "?" one that could not be read; failpoint panics
// the listed members on purpose.
func withScans(lines map[string]string, failpoint ...string) func() *builder {
	return func() *builder {
		b := healthyRun()
		t := float64(b.events[len(b.events)-1].Time)/1e6 + 1
		if len(failpoint) > 0 {
			f := &histories.Fault{ID: 9, Kind: histories.FaultFailpoint, Targets: failpoint, Params: map[string]string{"terms": "panic"}}
			b.add(t, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart, Fault: f})
		}
		for _, m := range []string{"n1", "n2", "n3"} {
			e := histories.Event{Type: histories.OK, Process: histories.ProcessHarness, F: histories.FMemberLog, Member: &histories.MemberStatus{Name: m}}
			switch l := lines[m]; l {
			case "":
			case "?":
				e.Type, e.Error = histories.Fail, "its log could not be read: no such file"
			default:
				e.Type, e.Value, e.Error = histories.Fail, l, "nodes/"+m+".log:120 (1 lines matched)"
			}
			b.add(t+1, e)
		}
		return b
	}
}

func TestP10NoMemberCrashedUnasked(t *testing.T) {
	runCases(t, "P10", []checkCase{
		{name: "clean logs", want: Valid, wantCounts: map[string]int64{"members": 3}, build: withScans(nil)},
		{name: "a member panicked", want: Invalid, wantMsg: `n2 crashed unasked: its log says "panic: runtime error: index out of range" at nodes/n2.log:120`,
			build: withScans(map[string]string{"n2": "panic: runtime error: index out of range"})},
		{name: "a member made to panic by a failpoint", want: Valid, wantCounts: map[string]int64{"members": 3, "members-crashed-on-purpose": 1},
			build: withScans(map[string]string{"n2": "panic: failpoint raftBeforeSave"}, "n2")},
		{name: "another member panicked while a failpoint panicked one", want: Invalid, wantMsg: "n3 crashed unasked",
			build: withScans(map[string]string{"n2": "panic: failpoint", "n3": "fatal error: concurrent map writes"}, "n2")},
		{name: "a log that could not be read", want: Unknown, wantMsg: "not every member's log could be scanned: n1",
			build: withScans(map[string]string{"n1": "?"})},
	})
	for _, c := range mustCheck(t, healthyRun().events, testOpts).Checks {
		if c.Property == "P10" {
			t.Errorf("P10 in a history without scans: %+v", c)
		}
	}
}
