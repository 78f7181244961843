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

// TestCoverageOfHeldTerms: c1 is paused past its 3 s lease, asked to act
// after, then told to resign; c2 holds its term to the end through a
// short pause; c3's act after its long pause comes only after its resign.
func TestCoverageOfHeldTerms(t *testing.T) {
	b := &builder{}
	b.phase(0, histories.PhaseStart)
	pause := func(id int64, c string, from, to float64) {
		f := &histories.Fault{ID: id, Kind: histories.FaultPause, Targets: []string{c}}
		b.add(from, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart, Fault: f})
		b.add(to, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStop, Fault: f})
	}
	act := func(t float64, c string) {
		op := b.invoke(t, c+":a", histories.FWrite, testRegister, c+"/a/1", nil)
		b.complete(t+10, op, histories.Fail, "", nil)
	}
	t1 := b.campaign(0, 10, "c1", 10)
	pause(1, "c1", 100, 4000)
	act(4500, "c1")
	b.invoke(6000, "c1", histories.FResign, "", "", t1)
	b.campaign(6100, 6200, "c2", 12)
	pause(2, "c2", 6300, 6800)
	t3 := b.campaign(6400, 6500, "c3", 14)
	pause(3, "c3", 6600, 10700)
	b.invoke(10800, "c3", histories.FResign, "", "", t3)
	act(11000, "c3")
	b.phase(12000, histories.PhaseEnd)
	cov := mustCheck(t, b.events, testOpts).Coverage
	if cov.TermsHeldUntilLost != 1 || cov.HeldTermsOutlivedStop != 1 || cov.StoppedPastLeaseThenAsked != 1 {
		t.Errorf("held %d (outlived a stop %d), stopped past lease then asked %d; want 1, 1, 1", cov.TermsHeldUntilLost, cov.HeldTermsOutlivedStop, cov.StoppedPastLeaseThenAsked)
	}
	if !strings.Contains(cov.String(), "1 terms held until lost (1 outlived a stop); 1 leaders stopped past their lease then asked to act before a resign") {
		t.Errorf("the coverage line does not say them: %s", cov)
	}
}
