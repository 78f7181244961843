package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
)

// detectSeconds is when a run's first anomaly happened: the earliest
// event its first failing check cites, in seconds since the workload
// began (results from before the workload's start was recorded count
// from the history's first event).
func detectSeconds(res checker.Results) (float64, bool) {
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
			// From the workload's start: the cluster's start-up time is
			// the machine's, not the harness's to find anything in.
			return float64(first-res.Coverage.WorkloadStart) / 1e9, true
		}
	}
	return 0, false
}

// runResults reads a run's results.json.
func runResults(runDir string) (checker.Results, error) {
	var res checker.Results
	b, err := os.ReadFile(filepath.Join(runDir, histories.ResultsFile))
	if err != nil {
		return res, err
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return res, fmt.Errorf("%s: %w", runDir, err)
	}
	return res, nil
}

// informationalFindings names the informational checks of a run that
// found anomalies (P7, say): reported, though they do not fail the run.
func informationalFindings(res checker.Results) []string {
	var out []string
	for _, c := range res.Checks {
		if c.Informational && c.Counts["anomalies"] > 0 {
			out = append(out, c.Property)
		}
	}
	return out
}

// readFindings records when the run's first anomaly happened and which
// informational checks found anomalies, from its results.json; a run
// that left none has nothing more to say.
func (o *Outcome) readFindings() error {
	o.FirstAnomaly, o.Informational = nil, nil
	if o.RunDir == "" {
		return nil
	}
	res, err := runResults(o.RunDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading what %v found: %w", o.Entry, err)
	}
	o.noteFindings(res)
	return nil
}

// noteFindings records, from a run's results, when its first anomaly
// happened and which informational checks found anomalies.
func (o *Outcome) noteFindings(res checker.Results) {
	o.FirstAnomaly = nil
	if t, ok := detectSeconds(res); ok {
		o.FirstAnomaly = &t
	}
	o.Informational = informationalFindings(res)
}

// suiteMarkdown tabulates a suite's outcomes per database, version,
// recipe and nemesis: how often an anomaly was found, and how soon.
func suiteMarkdown(res SuiteResults) string {
	type group struct {
		key                   string
		expect                string
		runs, met, found, err int
		informational         map[string]int // property -> runs it found anomalies in
		times                 []float64
	}
	groups := map[string]*group{}
	var order []string
	for _, o := range res.Outcomes {
		v := o.Version
		if v == "" {
			v = "default"
		}
		key := fmt.Sprintf("| %s %s | %s | %s |", o.DB, v, o.recipeLabel(), o.Nemesis)
		g := groups[key]
		if g == nil {
			g = &group{key: key, expect: o.Expect, informational: map[string]int{}}
			groups[key] = g
			order = append(order, key)
		}
		g.runs++
		for _, p := range o.Informational {
			g.informational[p]++
		}
		if o.Met() {
			g.met++
		}
		switch o.Verdict {
		case "invalid":
			g.found++
			if o.FirstAnomaly != nil {
				g.times = append(g.times, *o.FirstAnomaly)
			}
		case "unknown", "error":
			g.err++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Suite %s\n\n", res.Name)
	b.WriteString("Anomalies found per run, and when the first one happened (seconds after the workload began; suites measured before 2026-12-01 counted from the run's start, the cluster's start-up included).\n\n")
	b.WriteString("| database | recipe | nemesis | expected | runs | found anomalies | as expected | unknown or error | median time to first anomaly | informational findings |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, k := range order {
		g := groups[k]
		median := "–"
		if len(g.times) > 0 {
			sort.Float64s(g.times)
			median = fmt.Sprintf("%.1f s", g.times[len(g.times)/2])
		}
		info := "–"
		if len(g.informational) > 0 {
			var parts []string
			for p, n := range g.informational {
				parts = append(parts, fmt.Sprintf("%s in %d of %d", p, n, g.runs))
			}
			sort.Strings(parts)
			info = strings.Join(parts, ", ")
		}
		fmt.Fprintf(&b, "%s %s | %d | %d of %d | %d of %d | %d | %s | %s |\n", g.key, g.expect, g.runs, g.found, g.runs, g.met, g.runs, g.err, median, info)
	}
	return b.String()
}
