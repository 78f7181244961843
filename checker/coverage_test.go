package checker

import (
	"strings"
	"testing"

	"github.com/election-harness/harness/histories"
)

func TestCoverage(t *testing.T) {
	paused := func() *builder {
		b := &builder{}
		for _, e := range every("in-reign")().events {
			switch e.Time {
			case ms(3300): // c1's lease expires while it is paused
				b.add(150, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart,
					Fault: &histories.Fault{ID: 1, Kind: "pause", Targets: []string{"c1"}, Params: map[string]string{"rule": "election-leader"}}})
			case ms(4000):
				b.add(3400, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStop,
					Fault: &histories.Fault{ID: 1, Kind: "pause", Targets: []string{"c1"}}})
			}
			b.add(float64(e.Time)/1e6, e)
		}
		return b
	}
	expect := testOpts
	expect.ExpectFaults = true

	res := mustCheck(t, paused().events, expect)
	cov := res.Coverage
	if res.Valid != Valid || cov.Faults != 1 || cov.FaultsStarted["pause:election-leader"] != 1 || cov.LeaderStopsPastTerm != 1 || cov.LeaderChangesUnderFault != 1 {
		t.Errorf("paused leader: %s %s, coverage %+v", res.Valid, res.Summary, cov)
	}
	if s := cov.String(); !strings.Contains(s, "1 faults (pause:election-leader 1); 1 stops of the election leader outlived its term; 1 leader changes under a fault") {
		t.Errorf("coverage line %q", s)
	}

	res = mustCheck(t, every("in-reign")().events, expect)
	if res.Valid != Unknown || !strings.Contains(res.Summary, "no fault started") {
		t.Errorf("a nemesis that started nothing: %s %q, want unknown", res.Valid, res.Summary)
	}
	res = mustCheck(t, every("in-reign")().events, testOpts)
	if res.Valid != Valid || !strings.Contains(res.Summary, "no faults: this run tested nothing under failure") {
		t.Errorf("--nemesis none: %s %q, want valid, saying it tested nothing under failure", res.Valid, res.Summary)
	}
}
