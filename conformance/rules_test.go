package conformance

import (
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	var r Report
	if r.Passed() {
		t.Error("an empty report passed: nothing was checked")
	}
	r.set(RuleReady, Held, "")
	r.set(RuleCampaignWins, Broken, "info (timed out)")
	r.set(RuleCampaignWins, Held, "") // broken once stays broken
	r.rest("an earlier rule broke")
	if r.Passed() || len(r.Broken()) != 1 || r.Broken()[0].Rule != RuleCampaignWins {
		t.Fatalf("broken %+v, want campaign-wins alone", r.Broken())
	}
	if len(r.Findings) != len(Rules) {
		t.Errorf("%d findings, want one per rule (%d)", len(r.Findings), len(Rules))
	}
	s := r.String()
	for _, want := range []string{"BROKEN      campaign-wins", `see docs/campaigner-protocol.md, "Commands"`, "not reached", "saw: info (timed out)"} {
		if !strings.Contains(s, want) {
			t.Errorf("the report lacks %q:\n%s", want, s)
		}
	}
}
