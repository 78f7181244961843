package suite

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/election-harness/harness/db/registry"
)

// Tier is what a presubmit tier of one time budget found.
type Tier struct {
	Budget time.Duration
	// Runs is how many runs the budget started; Caught how many failed
	// the gate on an anomaly (invalid, not accepted by fail_on); Other
	// how many failed it otherwise (unknown or error).
	Runs, Caught, Other int
	// FirstCatch is when the first catching run finished, in seconds
	// after the suite started (0: none caught); Wall when the tier's last
	// run finished.
	FirstCatch, Wall float64
}

// GateFailed reports whether the tier's gate failed: a CI job running it
// would be red.
func (t Tier) GateFailed() bool { return t.Caught+t.Other > 0 }

// Tiers reads the tiers of budgets from one budgeted suite run. A tier
// shorter than the run's own budget holds the runs the suite would have
// started within it: those whose start plus the run time the budget rule
// counted on then (BudgetNeed) fits. That is the rule Suite.Run applies,
// so the first minutes of an 8-minute tier are the 2- and 4-minute tiers.
func Tiers(res Results, budgets []time.Duration) ([]Tier, error) {
	if res.Budget == "" {
		return nil, fmt.Errorf("suite %s ran without --budget: it has no tiers", res.Name)
	}
	ran, err := time.ParseDuration(res.Budget)
	if err != nil {
		return nil, fmt.Errorf("suite %s: budget %q: %w", res.Name, res.Budget, err)
	}
	var tiers []Tier
	for _, b := range budgets {
		if b > ran {
			return nil, fmt.Errorf("suite %s ran with --budget %v: its %v tier cannot be read from it", res.Name, ran, b)
		}
		t := Tier{Budget: b}
		for _, o := range res.Outcomes {
			if o.StartedAfter+o.BudgetNeed > b.Seconds() {
				continue
			}
			t.Runs++
			end := o.StartedAfter + o.Seconds
			t.Wall = max(t.Wall, end)
			switch {
			case o.Verdict == "invalid" && !o.GatePassed:
				t.Caught++
				if t.FirstCatch == 0 || end < t.FirstCatch {
					t.FirstCatch = end
				}
			case o.Verdict == "unknown" || o.Verdict == "error":
				t.Other++
			}
		}
		tiers = append(tiers, t)
	}
	return tiers, nil
}

// TierMarkdown is the table of what each budget catches: one row per
// budgeted suite run (a recipe each), one column per budget.
func TierMarkdown(results []Results, budgets []time.Duration) (string, error) {
	var b strings.Builder
	b.WriteString("| database | recipe | nemesis | seeds | started |")
	for _, bud := range budgets {
		fmt.Fprintf(&b, " %v tier: caught / runs (first catch) |", bud)
	}
	b.WriteString("\n| --- | --- | --- | --- | --- |")
	for range budgets {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, res := range results {
		if len(res.Outcomes) == 0 {
			return "", fmt.Errorf("suite %s has no runs", res.Name)
		}
		tiers, err := Tiers(res, budgets)
		if err != nil {
			return "", err
		}
		first := res.Outcomes[0]
		var seeds []int64
		for _, o := range res.Outcomes {
			seeds = append(seeds, o.Seed)
		}
		slices.Sort(seeds)
		fmt.Fprintf(&b, "| %s %s | %s | %s | %d–%d | %s |", first.DB, versionLabel(first), first.recipeLabel(), first.Nemesis,
			seeds[0], seeds[len(seeds)-1], res.Started.Format("2006-01-02"))
		for _, t := range tiers {
			cell := fmt.Sprintf("%d / %d", t.Caught, t.Runs)
			switch {
			case t.Caught > 0:
				cell = fmt.Sprintf("**%s** (%.0f s)", cell, t.FirstCatch)
			case t.Other > 0:
				cell += fmt.Sprintf(" (%d unknown or error)", t.Other)
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

// versionLabel is the outcome's database version, the pinned one named.
func versionLabel(o Outcome) string {
	if o.Version != "" {
		return o.Version
	}
	if d, err := registry.Lookup(o.DB); err == nil {
		return d.DefaultVersion()
	}
	return "default"
}
