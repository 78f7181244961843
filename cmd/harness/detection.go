package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
)

// detectSeconds is when a run's first anomaly happened: the earliest
// event its first failing check cites, in seconds since the run began.
func detectSeconds(runDir string) (float64, bool) {
	if runDir == "" {
		return 0, false
	}
	b, err := os.ReadFile(filepath.Join(runDir, histories.ResultsFile))
	if err != nil {
		return 0, false
	}
	var res checker.Results
	if json.Unmarshal(b, &res) != nil {
		return 0, false
	}
	for _, c := range res.Checks {
		if c.Informational || c.Verdict != checker.Invalid || len(c.Evidence) == 0 {
			continue
		}
		first := int64(-1)
		for _, e := range c.Evidence[0].Events {
			if first < 0 || e.Time < first {
				first = e.Time
			}
		}
		if first >= 0 {
			return float64(first) / 1e9, true
		}
	}
	return 0, false
}

// suiteMarkdown tabulates a suite's outcomes per database, version,
// recipe and nemesis: how often an anomaly was found, and how soon.
func suiteMarkdown(res SuiteResults) string {
	type group struct {
		key                   string
		expect                string
		runs, met, found, err int
		times                 []float64
	}
	groups := map[string]*group{}
	var order []string
	for _, o := range res.Outcomes {
		v := o.Version
		if v == "" {
			v = "default"
		}
		key := fmt.Sprintf("| %s %s | %s | %s |", o.DB, v, o.Recipe, o.Nemesis)
		g := groups[key]
		if g == nil {
			g = &group{key: key, expect: o.Expect}
			groups[key] = g
			order = append(order, key)
		}
		g.runs++
		if o.Met() {
			g.met++
		}
		switch o.Verdict {
		case "invalid":
			g.found++
			if t, ok := detectSeconds(o.RunDir); ok {
				g.times = append(g.times, t)
			}
		case "unknown", "error":
			g.err++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Suite %s\n\n", res.Name)
	b.WriteString("Anomalies found per run, and when the first one happened (seconds into the run).\n\n")
	b.WriteString("| database | recipe | nemesis | expected | runs | found anomalies | as expected | unknown or error | median time to first anomaly |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, k := range order {
		g := groups[k]
		median := "–"
		if len(g.times) > 0 {
			sort.Float64s(g.times)
			median = fmt.Sprintf("%.1f s", g.times[len(g.times)/2])
		}
		fmt.Fprintf(&b, "%s %s | %d | %d of %d | %d of %d | %d | %s |\n", g.key, g.expect, g.runs, g.found, g.runs, g.met, g.runs, g.err, median)
	}
	return b.String()
}
