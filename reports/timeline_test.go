package reports

import (
	"fmt"
	"testing"

	"github.com/election-harness/harness/histories"
)

// An apiserver's readiness probes make one row of spans: ready while it
// answers ready, down from the first probe that does not, ready again
// from the next that does.
func TestAPIServerRows(t *testing.T) {
	probe := func(node string, at int64, ok bool) histories.Event {
		e := histories.Event{Type: histories.OK, Process: "probe:" + node, F: histories.FServing, Time: at * 1e9, Value: "ready"}
		if !ok {
			e.Type, e.Value, e.Error = histories.Fail, "", "context deadline exceeded"
		}
		return e
	}
	rows := apiServerRows([]histories.Event{
		probe("a2", 0, true), probe("a1", 0, true), probe("a1", 1, true), probe("a1", 2, false),
		probe("a1", 3, false), probe("a1", 4, true), probe("a2", 4, true),
	}, 0)
	var got []string
	for _, r := range rows {
		for _, b := range r.Bars {
			got = append(got, fmt.Sprintf("%s %s %s %g-%g", r.Group, r.Label, b.Class, b.Start, b.End))
		}
	}
	want := []string{"apiserver a1 follower 0-2", "apiserver a1 down 2-4", "apiserver a1 follower 4-4", "apiserver a2 follower 0-4"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows %q, want %q", got, want)
	}
}
