package suite

import (
	"strings"
	"testing"
	"time"
)

// budgetRun is an 8-minute budgeted suite run of 40 s runs, two at a
// time: the suite started runs 0 and 1 at once, then each next one when
// a slot freed and 80 s (the longest so far) still fit.
func budgetRun() Results {
	o := func(seed int64, after, need, secs float64, verdict string, gatePassed bool) Outcome {
		return Outcome{Entry: Entry{DB: "etcd", Recipe: "etcd-unfenced", Nemesis: "pause", Seed: seed, Expect: "invalid"},
			Verdict: verdict, StartedAfter: after, BudgetNeed: need, Seconds: secs, GatePassed: gatePassed}
	}
	return Results{Name: "presubmit", Budget: "8m0s", Started: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), Outcomes: []Outcome{
		o(1, 0, 100, 75, "valid", false),
		o(2, 0, 100, 80, "valid", false),
		o(3, 75, 80, 78, "invalid", true), // accepted by the gate: not a catch
		o(4, 80, 80, 79, "invalid", false),
		o(5, 153, 80, 80, "unknown", false),
		o(6, 159, 80, 76, "valid", false),
		o(7, 233, 80, 77, "invalid", false),
	}}
}

func TestTiersAreTheFirstMinutesOfTheBudget(t *testing.T) {
	tiers, err := Tiers(budgetRun(), []time.Duration{2 * time.Minute, 3 * time.Minute, 4 * time.Minute, 8 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	want := []Tier{
		{Budget: 2 * time.Minute, Runs: 2, Wall: 80},
		{Budget: 3 * time.Minute, Runs: 4, Caught: 1, FirstCatch: 159, Wall: 159},
		{Budget: 4 * time.Minute, Runs: 6, Caught: 1, Other: 1, FirstCatch: 159, Wall: 235},
		{Budget: 8 * time.Minute, Runs: 7, Caught: 2, Other: 1, FirstCatch: 159, Wall: 310},
	}
	for i, w := range want {
		if tiers[i] != w {
			t.Errorf("tier %v: %+v, want %+v", w.Budget, tiers[i], w)
		}
	}
	if tiers[0].GateFailed() || !tiers[1].GateFailed() {
		t.Errorf("gate: 2m failed %v, 3m failed %v; want false, true", tiers[0].GateFailed(), tiers[1].GateFailed())
	}
}

func TestTiersRefuseWhatTheRunCannotSay(t *testing.T) {
	res := budgetRun()
	if _, err := Tiers(res, []time.Duration{16 * time.Minute}); err == nil || !strings.Contains(err.Error(), "cannot be read") {
		t.Errorf("a tier longer than the budget: %v", err)
	}
	res.Budget = ""
	if _, err := Tiers(res, []time.Duration{2 * time.Minute}); err == nil || !strings.Contains(err.Error(), "without --budget") {
		t.Errorf("a suite without a budget: %v", err)
	}
}

func TestTierMarkdown(t *testing.T) {
	md, err := TierMarkdown([]Results{budgetRun()}, []time.Duration{2 * time.Minute, 8 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 2m0s tier: caught / runs (first catch) |", "| etcd-unfenced | pause | 1–7 | 2026-12-06 | 0 / 2 | **2 / 7** (159 s) |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the table lacks %q:\n%s", want, md)
		}
	}
}

func TestWithRecipe(t *testing.T) {
	s, _ := suiteEntries(t, `
matrices:
  - recipe: [etcd-election]
    seeds: 2
  - recipe: [etcd-cached]
    nemesis: [pause]
`)
	entries, err := s.WithRecipe("etcd-unfenced").Entries()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("%d entries, want 3", len(entries))
	}
	for _, e := range entries {
		if e.Recipe != "etcd-unfenced" || e.Expect != "invalid" {
			t.Errorf("entry %v: recipe %s expect %s, want etcd-unfenced invalid", e, e.Recipe, e.Expect)
		}
	}
	if s.Matrices[0].Recipe[0] != "etcd-election" {
		t.Error("WithRecipe changed the suite it was given")
	}
}
