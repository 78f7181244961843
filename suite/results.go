package suite

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/reports"
	"github.com/election-harness/harness/run"
)

// Results is suite.json: every outcome of a suite (or of a shard).
type Results struct {
	Name  string `json:"name"`
	Shard string `json:"shard,omitempty"`
	// Started is when the suite (its earliest shard) started.
	Started        time.Time `json:"started,omitzero"`
	HarnessVersion string    `json:"harness_version,omitempty"`
	Outcomes       []Outcome `json:"outcomes"`
	// Budget is the suite's time budget (--budget), and NotRun the
	// entries it left unstarted.
	Budget string `json:"budget,omitempty"`
	NotRun int    `json:"not_run,omitempty"`
}

// Reread refreshes an outcome's verdict and summary from its run's
// results.json (after `harness check` with a newer checker).
func (o *Outcome) Reread() error {
	if o.RunDir == "" {
		return nil
	}
	res, err := run.ReadResults(histories.RunDir(o.RunDir))
	if err != nil {
		return fmt.Errorf("rereading %v: %w", o.Entry, err)
	}
	o.Verdict, o.Summary = string(res.Valid), res.Summary
	o.noteFindings(res)
	return nil
}

// Write prints the table to w, and writes suite.json, junit.xml and
// suite.md into the directory out. It reports whether every run found
// what it should.
func (res Results) Write(out string, w io.Writer) (allMet bool, err error) {
	met := 0
	fmt.Fprintf(w, "\n%-4s %-50s %-8s %-8s %s\n", "#", "run", "expect", "found", "summary")
	for _, o := range res.Outcomes {
		mark := " "
		if o.Met() {
			met++
		} else {
			mark = "!"
		}
		fmt.Fprintf(w, "%s%-3d %-50s %-8s %-8s %s\n", mark, o.Index, o.Entry.String(), o.Expect, o.Verdict, truncate(o.Summary, 100))
	}
	fmt.Fprintf(w, "\n%d of %d runs found what they should\n", met, len(res.Outcomes))
	if res.Budget != "" {
		fmt.Fprintf(w, "budget %s: %d runs fit, %d entries not started\n", res.Budget, len(res.Outcomes), res.NotRun)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return false, err
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	if err := os.WriteFile(filepath.Join(out, "suite.json"), append(b, '\n'), 0o644); err != nil {
		return false, fmt.Errorf("writing suite.json: %w", err)
	}
	if err := writeSuiteJUnit(filepath.Join(out, "junit.xml"), res); err != nil {
		return false, fmt.Errorf("writing junit.xml: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, "suite.md"), []byte(Markdown(res)), 0o644); err != nil {
		return false, fmt.Errorf("writing suite.md: %w", err)
	}
	return met == len(res.Outcomes), nil
}

// ReadResults reads one suite.json.
func ReadResults(path string) (Results, error) {
	var r Results
	b, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Merge joins the results of one suite's shards or parts. Its harness
// version names every version the parts recorded, in the order read.
func Merge(paths []string) (Results, error) {
	var merged Results
	for _, path := range paths {
		r, err := ReadResults(path)
		if err != nil {
			return merged, err
		}
		if merged.Name != "" && r.Name != merged.Name {
			return merged, fmt.Errorf("%s is of suite %q, not %q", path, r.Name, merged.Name)
		}
		merged.Name = r.Name
		if !r.Started.IsZero() && (merged.Started.IsZero() || r.Started.Before(merged.Started)) {
			merged.Started = r.Started
		}
		switch {
		case merged.HarnessVersion == "":
			merged.HarnessVersion = r.HarnessVersion
		case r.HarnessVersion != "" && !slices.Contains(strings.Split(merged.HarnessVersion, "; "), r.HarnessVersion):
			merged.HarnessVersion += "; " + r.HarnessVersion
		}
		merged.Outcomes = append(merged.Outcomes, r.Outcomes...)
	}
	return merged, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// writeSuiteJUnit writes one test case per run, timed as the run took;
// a run that did not find what it should is a failure naming what it
// found. The suite's time is the sum of its runs' (more than the wall
// clock's when runs ran in parallel or in shards), and its system-out
// lists every run with its verdict and informational findings.
func writeSuiteJUnit(path string, res Results) error {
	var cases []reports.JUnitCase
	var out strings.Builder
	total := 0.0
	for _, o := range res.Outcomes {
		tc := reports.JUnitCase{Name: o.Entry.String(), Classname: "suite." + res.Name}
		tc.SetSeconds(o.Seconds)
		total += o.Seconds
		if !o.Met() {
			tc.Failure = &reports.JUnitProblem{Message: fmt.Sprintf("expected %s, found %s: %s", o.Expect, o.Verdict, o.Summary),
				Type: "unexpected", Body: "run directory: " + o.RunDir}
		}
		cases = append(cases, tc)
		fmt.Fprintf(&out, "%s: %s (expected %s): %s", o.Entry, o.Verdict, o.Expect, o.Summary)
		if len(o.Informational) > 0 {
			fmt.Fprintf(&out, "; informational findings: %s", strings.Join(o.Informational, ", "))
		}
		if o.RunDir != "" {
			fmt.Fprintf(&out, "; %s", o.RunDir)
		}
		out.WriteByte('\n')
	}
	host, _ := os.Hostname()
	hv := res.HarnessVersion
	if hv == "" {
		hv = "not recorded"
	}
	props := []reports.Fact{{Name: "suite", Value: res.Name}, {Name: "harness_version", Value: hv}}
	if res.Shard != "" {
		props = append(props, reports.Fact{Name: "shard", Value: res.Shard})
	}
	return reports.WriteJUnitSuite(path, reports.JUnitSuite{Name: res.Name, Package: "suite", Started: res.Started, Hostname: host,
		Duration: time.Duration(total * float64(time.Second)), Properties: props, Cases: cases, SystemOut: out.String()})
}

// DetectSeconds is when a run's first anomaly happened, in seconds since
// the workload began. That is when the first failing check's first
// anomaly took effect, as its story says (a stale write's landing, a
// grant's return, a lease's end). Without a story it is the earliest
// event the anomaly cites. Results that lack the workload's start count
// from the history's first event.
func DetectSeconds(res checker.Results) (float64, bool) {
	for _, c := range res.Checks {
		if c.Informational || c.Verdict != checker.Invalid || len(c.Evidence) == 0 {
			continue
		}
		ev := c.Evidence[0]
		first := int64(-1)
		if ev.Story != nil && ev.Story.At > 0 {
			first = ev.Story.At
		} else {
			for _, e := range ev.Events {
				if first < 0 || e.Time < first {
					first = e.Time
				}
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

// Median is the middle of xs, or the mean of the two middle values of
// an even number of them.
func Median(xs []float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// informationalFindings names the informational checks of a run that
// found anomalies (P7, say): reported, though they do not fail the run.
func informationalFindings(res checker.Results) []string {
	var out []string
	for _, c := range res.Checks {
		if c.Informational && c.Counts[checker.CountAnomalies] > 0 {
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
	res, err := run.ReadResults(histories.RunDir(o.RunDir))
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
	if t, ok := DetectSeconds(res); ok {
		o.FirstAnomaly = &t
	}
	o.Informational = informationalFindings(res)
	o.GatePassed = res.Gate != nil && res.Gate.Passed
	o.KnownBugs = knownBugs(res)
}

// knownBugs are the known database bugs the anomalies of res's judged
// checks matched, in property order, each once.
func knownBugs(res checker.Results) []string {
	var ids []string
	for _, c := range res.Checks {
		if c.Verdict != checker.Invalid {
			continue
		}
		for _, e := range c.Evidence {
			if e.Blame != nil && e.Blame.Known != nil && !slices.Contains(ids, e.Blame.Known.ID) {
				ids = append(ids, e.Blame.Known.ID)
			}
		}
	}
	return ids
}

// Markdown tabulates a suite's outcomes per database, version,
// recipe and nemesis: how often an anomaly was found, and how soon.
func Markdown(res Results) string {
	type group struct {
		key                   string
		expect                string
		runs, met, found, err int
		informational         map[string]int // property -> runs it found anomalies in
		foundBy               map[string]int // property -> invalid runs it failed first
		known                 map[string]int // known bug -> invalid runs whose anomalies matched it
		times                 []float64
	}
	groups := map[string]*group{}
	var order []string
	for _, o := range res.Outcomes {
		v := o.Version
		if v == "" {
			v = "default"
		}
		if o.KubeVersion != "" {
			v += ", kube-apiserver " + o.KubeVersion
		}
		key := fmt.Sprintf("| %s %s | %s | %s |", o.DB, v, o.recipeLabel(), o.Nemesis)
		g := groups[key]
		if g == nil {
			g = &group{key: key, expect: o.Expect, informational: map[string]int{}, foundBy: map[string]int{}, known: map[string]int{}}
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
			g.foundBy[firstFailed(o.Summary)]++
			for _, id := range o.KnownBugs {
				g.known[id]++
			}
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
	b.WriteString("| database | recipe | nemesis | expected | runs | found anomalies | found first by | as expected | unknown or error | median time to first anomaly | informational findings |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, k := range order {
		g := groups[k]
		median := "–"
		if len(g.times) > 0 {
			median = fmt.Sprintf("%.1f s", Median(g.times))
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
		by := "–"
		if len(g.foundBy) > 0 {
			var parts []string
			for p, n := range g.foundBy {
				parts = append(parts, fmt.Sprintf("%s %d", p, n))
			}
			sort.Strings(parts)
			by = strings.Join(parts, ", ")
		}
		if len(g.known) > 0 {
			var parts []string
			for id, n := range g.known {
				parts = append(parts, fmt.Sprintf("%d a known bug, %s", n, id))
			}
			sort.Strings(parts)
			by += " (" + strings.Join(parts, "; ") + ")"
		}
		fmt.Fprintf(&b, "%s %s | %d | %d of %d | %s | %d of %d | %d | %s | %s |\n", g.key, g.expect, g.runs, g.found, g.runs, by, g.met, g.runs, g.err, median, info)
	}
	return b.String()
}

// firstFailed is the property an invalid run's summary names first
// ("P4 fenced work ... failed: ..."): checks are in property order, so a
// run caught by P4 and by liveness says P4.
func firstFailed(summary string) string {
	if id, _, ok := strings.Cut(summary, " "); ok && len(id) >= 2 && (id[0] == 'P' || id[0] == 'V') {
		return id
	}
	return "?"
}
