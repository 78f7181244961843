package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/election-harness/harness/db/registry"
	"github.com/election-harness/harness/reports"
)

// Suite is a suite file: a matrix of runs and what each should find.
//
//	name: nightly
//	defaults: {time_limit: 30s, nodes: 3}
//	matrix:
//	  db: [etcd]
//	  version: [v3.6.16, v3.5.21]
//	  recipe: [etcd-election, etcd-unfenced]
//	  nemesis: ["partition,pause,kill", clock]
//	  seeds: 5            # 1..5; or a list [1, 7, 9]
//
// Several matrices (matrices: [{...}, {...}]) cross separately, one after
// another: controls under one nemesis and the safe recipe under many,
// say. A known-unsafe control is expected invalid, anything else valid;
// expect: {recipe: verdict} says otherwise.
type Suite struct {
	Name     string            `yaml:"name"`
	Defaults SuiteDefaults     `yaml:"defaults"`
	Matrix   SuiteMatrix       `yaml:"matrix"`
	Matrices []SuiteMatrix     `yaml:"matrices"`
	Expect   map[string]string `yaml:"expect"`
}

// SuiteDefaults are the run flags every entry shares.
type SuiteDefaults struct {
	TimeLimit       string `yaml:"time_limit"`
	Nodes           int    `yaml:"nodes"`
	Campaigners     int    `yaml:"campaigners"`
	TTL             string `yaml:"ttl"`
	NemesisInterval string `yaml:"nemesis_interval"`
}

// SuiteMatrix is crossed into entries.
type SuiteMatrix struct {
	DB      []string `yaml:"db"`
	Version []string `yaml:"version"`
	Recipe  []string `yaml:"recipe"`
	Nemesis []string `yaml:"nemesis"`
	// Consistency lists Consul read modes (--consistency); empty: the
	// database's default.
	Consistency []string  `yaml:"consistency"`
	Seeds       SeedRange `yaml:"seeds"`
}

// SeedRange is N (meaning 1..N) or a list of seeds.
type SeedRange []int64

func (s *SeedRange) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		k, err := strconv.Atoi(n.Value)
		if err != nil || k < 1 {
			return fmt.Errorf("line %d: seeds: want a count (5 means 1 to 5) or a list, not %q", n.Line, n.Value)
		}
		for i := 1; i <= k; i++ {
			*s = append(*s, int64(i))
		}
		return nil
	}
	var list []int64
	if err := n.Decode(&list); err != nil {
		return fmt.Errorf("line %d: seeds: %w", n.Line, err)
	}
	*s = list
	return nil
}

// Entry is one run of a suite.
type Entry struct {
	Index   int    `json:"index"`
	DB      string `json:"db"`
	Version string `json:"version,omitempty"`
	Recipe  string `json:"recipe"`
	Nemesis string `json:"nemesis"`
	// Consistency is the read mode, if the entry names one.
	Consistency string `json:"consistency,omitempty"`
	Seed        int64  `json:"seed"`
	Expect      string `json:"expect"` // valid or invalid
}

func (e Entry) String() string {
	v := e.Version
	if v == "" {
		v = "default"
	}
	return fmt.Sprintf("%s %s %s %s seed %d", e.DB, v, e.recipeLabel(), e.Nemesis, e.Seed)
}

// recipeLabel is the recipe, with its read mode if the entry names one.
func (e Entry) recipeLabel() string {
	if e.Consistency != "" {
		return e.Recipe + " (" + e.Consistency + " reads)"
	}
	return e.Recipe
}

// Outcome is what one entry's run found.
type Outcome struct {
	Entry
	Verdict string  `json:"verdict"` // valid, invalid, unknown, or error
	Summary string  `json:"summary"`
	RunDir  string  `json:"run_dir,omitempty"`
	Seconds float64 `json:"seconds"`
	// What the run's results.json said besides the verdict, kept here so
	// that suite.json alone (a shard's, from another machine; the copy
	// in docs/results) makes the table.
	FirstAnomaly  *float64 `json:"first_anomaly_seconds,omitempty"`
	Informational []string `json:"informational,omitempty"`
}

// Met reports whether the outcome is what the entry expected.
func (o Outcome) Met() bool { return o.Verdict == o.Expect }

// loadSuite reads and checks a suite file.
func loadSuite(path string) (Suite, error) {
	var s Suite
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("reading the suite: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if len(s.Matrix.Recipe) == 0 && len(s.Matrices) == 0 {
		return s, fmt.Errorf("%s: matrix.recipe is empty: name at least one recipe", path)
	}
	for i, m := range s.Matrices {
		if len(m.Recipe) == 0 {
			return s, fmt.Errorf("%s: matrices[%d].recipe is empty: name at least one recipe", path, i)
		}
	}
	for recipe, v := range s.Expect {
		if v != "valid" && v != "invalid" {
			return s, fmt.Errorf("%s: expect.%s is %q: want valid or invalid", path, recipe, v)
		}
	}
	return s, nil
}

// Entries crosses the matrix, in a fixed order (so shards agree).
func (s Suite) Entries() ([]Entry, error) {
	matrices := s.Matrices
	if len(s.Matrix.Recipe) > 0 {
		matrices = append([]SuiteMatrix{s.Matrix}, matrices...)
	}
	var out []Entry
	for _, m := range matrices {
		var err error
		if out, err = s.cross(out, m); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// cross appends the entries of one matrix to out.
func (s Suite) cross(out []Entry, m SuiteMatrix) ([]Entry, error) {
	dbs, versions, nemeses, seeds := orDefault(m.DB, registry.Default().Name()), orDefault(m.Version, ""), orDefault(m.Nemesis, "partition,pause,kill"), m.Seeds
	modes := orDefault(m.Consistency, "")
	if len(seeds) == 0 {
		seeds = SeedRange{1}
	}
	for _, d := range dbs {
		for _, v := range versions {
			for _, r := range m.Recipe {
				info, err := registry.RecipeFor(r, d)
				var wrong *registry.WrongDBError
				switch {
				case errors.As(err, &wrong):
					return nil, fmt.Errorf("matrix: %w (put each database in its own entry of matrices)", err)
				case err != nil:
					return nil, fmt.Errorf("matrix.recipe: %w", err)
				}
				expect := "valid"
				if info.Unsafe {
					expect = "invalid"
				}
				if e, ok := s.Expect[r]; ok {
					expect = e
				}
				for _, mode := range modes {
					for _, n := range nemeses {
						for _, seed := range seeds {
							out = append(out, Entry{Index: len(out), DB: d, Version: v, Recipe: r, Nemesis: n, Consistency: mode, Seed: seed, Expect: expect})
						}
					}
				}
			}
		}
	}
	return out, nil
}

func orDefault(xs []string, def string) []string {
	if len(xs) == 0 {
		return []string{def}
	}
	return xs
}

// shard keeps the entries of shard i of n (1-based): a CI matrix runs
// one shard per machine and merges the results.
func shard(entries []Entry, spec string) ([]Entry, error) {
	if spec == "" {
		return entries, nil
	}
	a, b, ok := strings.Cut(spec, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return nil, fmt.Errorf("--shard %q: want i/n with 1 ≤ i ≤ n", spec)
	}
	var out []Entry
	for _, e := range entries {
		if e.Index%n == i-1 {
			out = append(out, e)
		}
	}
	return out, nil
}

// runArgs are the `harness run` flags of an entry.
func (s Suite) runArgs(e Entry, store string) []string {
	args := []string{"run", "--db", e.DB, "--recipe", e.Recipe, "--nemesis", e.Nemesis, "--seed", fmt.Sprint(e.Seed), "--store", store}
	if e.Version != "" {
		args = append(args, "--version", e.Version)
	}
	if e.Consistency != "" {
		args = append(args, "--consistency", e.Consistency)
	}
	d := s.Defaults
	for flag, v := range map[string]string{"--time-limit": d.TimeLimit, "--ttl": d.TTL, "--nemesis-interval": d.NemesisInterval} {
		if v != "" {
			args = append(args, flag, v)
		}
	}
	if d.Nodes > 0 {
		args = append(args, "--nodes", fmt.Sprint(d.Nodes))
	}
	if d.Campaigners > 0 {
		args = append(args, "--campaigners", fmt.Sprint(d.Campaigners))
	}
	return args
}

// validate checks every entry as its `harness run` would check its
// flags, before any runs: a suite with an entry that cannot run is
// refused whole, naming each such entry. It returns the notes of the
// entries' runs, each once.
func (s Suite) validate(entries []Entry, store string) ([]string, error) {
	var bad, notes []string
	for _, e := range entries {
		f, err := parseRunFlags(s.runArgs(e, store)[1:])
		if err == nil {
			_, _, err = f.validate()
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("[%d] %s: %v", e.Index, e, err))
			continue
		}
		for _, n := range f.notes {
			if !slices.Contains(notes, n) {
				notes = append(notes, n)
			}
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%d of %d runs cannot run (none was started):\n  %s", len(bad), len(entries), strings.Join(bad, "\n  "))
	}
	return notes, nil
}

// runEntry runs one entry as a `harness run` of its own and reads what
// it found from its exit code and results.json.
func (s Suite) runEntry(ctx context.Context, self string, e Entry, store string, log io.Writer) Outcome {
	start := time.Now()
	o := Outcome{Entry: e}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, self, s.runArgs(e, store)...)
	// An interrupted suite interrupts its runs, which heal their faults
	// and remove their clusters: SIGKILL would leave both behind.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 3 * time.Minute
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	o.Seconds = time.Since(start).Seconds()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		code = exitSetup
	}
	o.Verdict = map[int]string{exitValid: "valid", exitInvalid: "invalid", exitUnknown: "unknown"}[code]
	if o.Verdict == "" {
		o.Verdict = "error"
		o.Summary = lastLine(stderr.String())
	}
	// The run prints its verdict line and its directory last.
	const dirMark = "run directory "
	for _, line := range strings.Split(stdout.String(), "\n") {
		if i := strings.LastIndex(line, dirMark); i >= 0 {
			o.RunDir = strings.TrimSpace(line[i+len(dirMark):])
		}
		for _, v := range []string{"VALID: ", "INVALID: ", "UNKNOWN: "} {
			// A run that was checked but then failed (its cluster left
			// behind) is an error, and says why on stderr.
			if rest, ok := strings.CutPrefix(line, v); ok && o.Verdict != "error" {
				o.Summary = rest
			}
		}
	}
	if err := o.readFindings(); err != nil {
		fmt.Fprintf(log, "[%d] %v\n", e.Index, err)
	}
	note := "as expected"
	if !o.Met() {
		note = "expected " + e.Expect
	}
	fmt.Fprintf(log, "[%d] %-60s %-8s (%s) %.0fs\n", e.Index, e, o.Verdict, note, o.Seconds)
	return o
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// SuiteResults is suite.json: every outcome of a suite (or of a shard).
type SuiteResults struct {
	Name  string `json:"name"`
	Shard string `json:"shard,omitempty"`
	// Started is when the suite (its earliest shard) started.
	Started        time.Time `json:"started,omitzero"`
	HarnessVersion string    `json:"harness_version,omitempty"`
	Outcomes       []Outcome `json:"outcomes"`
}

func suiteCmd() *cobra.Command {
	var store, shardSpec, out string
	var parallel int
	var list bool
	c := &cobra.Command{
		Use:   "suite FILE",
		Short: "Run a matrix of tests (db versions × recipes × nemeses × seeds); one table and one junit.xml",
		Long: `Run every entry of a suite file, a few at a time, each as a harness run of its own.
Exit 0 when every entry found what it should (a known-unsafe control: invalid;
anything else: valid), 1 otherwise. Writes suite.json, junit.xml and suite.md
(detection rates and times, per recipe and nemesis) into --out;
` + "`harness suite-merge`" + ` joins the suite.json of shards run on different machines.

Every entry is checked as its run would be (durations, named rules against
--nodes, at least ` + fmt.Sprint(minFaults) + ` faults planned; see ` + "`harness run --help`" + `) before any runs.

Exit codes: 0 every run found what it should, 1 some did not (a run that could
not run counts as not found), 3 the suite could not run (a bad suite file, an
entry that cannot run, an unwritable --store or --out; nothing was run), 4 the
harness crashed. A run's own codes are:
` + exitCodesHelp,
		Example: `  harness suite suites/controls.yaml --store /tmp/store --out /tmp/out
  harness suite suites/detection.yaml --list
  harness suite suites/detection.yaml --parallel 2 --shard 1/4`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := loadSuite(args[0])
			if err != nil {
				return setupError("%v", err)
			}
			entries, err := s.Entries()
			if err != nil {
				return setupError("%s: %v", args[0], err)
			}
			if entries, err = shard(entries, shardSpec); err != nil {
				return setupError("%v", err)
			}
			notes, err := s.validate(entries, store)
			if err != nil {
				return setupError("%s: %v", args[0], err)
			}
			if list {
				for _, e := range entries {
					fmt.Printf("%d\t%s\texpect %s\n", e.Index, e, e.Expect)
				}
				return nil
			}
			if parallel < 1 {
				return setupError("--parallel %d: want at least 1", parallel)
			}
			if err := checkStore(store); err != nil {
				return setupError("%v", err)
			}
			if err := checkStore(out); err != nil {
				return setupError("--out: %v", strings.TrimPrefix(err.Error(), "--store "))
			}
			for _, n := range notes {
				fmt.Fprintf(os.Stderr, "harness: note: --nemesis %s\n", n)
			}
			self, err := os.Executable()
			if err != nil {
				return setupError("finding the harness binary: %v", err)
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			// Ctrl-C stops launching runs and interrupts the running ones,
			// which clean up; what finished is still written.
			ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			res := SuiteResults{Name: s.Name, Shard: shardSpec, Started: time.Now().UTC(), HarnessVersion: harnessVersion(), Outcomes: make([]Outcome, len(entries))}
			fmt.Fprintf(os.Stderr, "suite %s: %d runs, %d at a time\n", s.Name, len(entries), parallel)
			var wg sync.WaitGroup
			var logMu sync.Mutex
			sem := make(chan struct{}, parallel)
			for i, e := range entries {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
				}
				if ctx.Err() != nil {
					res.Outcomes[i] = Outcome{Entry: e, Verdict: "error", Summary: "not run: the suite was interrupted"}
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					var line bytes.Buffer
					res.Outcomes[i] = s.runEntry(ctx, self, e, store, &line)
					logMu.Lock()
					os.Stderr.Write(line.Bytes())
					logMu.Unlock()
				}()
			}
			wg.Wait()
			return finishSuite(res, out, os.Stdout)
		},
	}
	c.Flags().StringVar(&store, "store", "store", "directory of run results")
	c.Flags().StringVar(&shardSpec, "shard", "", "run only shard i of n (i/n), for a CI matrix")
	c.Flags().IntVar(&parallel, "parallel", 1, "runs at a time (each run is a cluster of its own)")
	c.Flags().StringVar(&out, "out", ".", "where to write suite.json and junit.xml")
	c.Flags().BoolVar(&list, "list", false, "list the runs (of this shard) and exit")
	return c
}

func suiteMergeCmd() *cobra.Command {
	var out string
	var reread, markdown bool
	c := &cobra.Command{
		Use:   "suite-merge SUITE_JSON...",
		Short: "Join the suite.json of shards into one table, suite.json and junit.xml",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var merged SuiteResults
			for _, path := range args {
				b, err := os.ReadFile(path)
				if err != nil {
					return setupError("reading %s: %v", path, err)
				}
				var r SuiteResults
				if err := json.Unmarshal(b, &r); err != nil {
					return setupError("%s: %v", path, err)
				}
				if merged.Name != "" && r.Name != merged.Name {
					return setupError("%s is of suite %q, not %q", path, r.Name, merged.Name)
				}
				merged.Name = r.Name
				if !r.Started.IsZero() && (merged.Started.IsZero() || r.Started.Before(merged.Started)) {
					merged.Started = r.Started
				}
				if merged.HarnessVersion == "" {
					merged.HarnessVersion = r.HarnessVersion
				} else if r.HarnessVersion != "" && r.HarnessVersion != merged.HarnessVersion {
					merged.HarnessVersion = "mixed"
				}
				merged.Outcomes = append(merged.Outcomes, r.Outcomes...)
			}
			if reread {
				for i := range merged.Outcomes {
					if err := rereadOutcome(&merged.Outcomes[i]); err != nil {
						return setupError("%v", err)
					}
				}
			}
			if markdown {
				_, err := io.WriteString(os.Stdout, suiteMarkdown(merged))
				return err
			}
			return finishSuite(merged, out, os.Stdout)
		},
	}
	c.Flags().StringVar(&out, "out", ".", "where to write suite.json and junit.xml")
	c.Flags().BoolVar(&reread, "reread", false, "take each run's verdict from its results.json (after `harness check` with a newer checker)")
	c.Flags().BoolVar(&markdown, "markdown", false, "print the suite's table in Markdown and write nothing (docs/detection.md is made so)")
	return c
}

// rereadOutcome refreshes an outcome's verdict and summary from its run's
// results.json.
func rereadOutcome(o *Outcome) error {
	if o.RunDir == "" {
		return nil
	}
	res, err := runResults(o.RunDir)
	if err != nil {
		return fmt.Errorf("rereading %v: %w", o.Entry, err)
	}
	o.Verdict, o.Summary = string(res.Valid), res.Summary
	o.noteFindings(res)
	return nil
}

// finishSuite prints the table, writes suite.json and junit.xml, and
// turns the outcomes into the exit code.
func finishSuite(res SuiteResults, out string, w io.Writer) error {
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
	if err := os.MkdirAll(out, 0o755); err != nil {
		return setupError("%v", err)
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	if err := os.WriteFile(filepath.Join(out, "suite.json"), append(b, '\n'), 0o644); err != nil {
		return setupError("writing suite.json: %v", err)
	}
	if err := writeSuiteJUnit(filepath.Join(out, "junit.xml"), res); err != nil {
		return setupError("writing junit.xml: %v", err)
	}
	if err := os.WriteFile(filepath.Join(out, "suite.md"), []byte(suiteMarkdown(res)), 0o644); err != nil {
		return setupError("writing suite.md: %v", err)
	}
	if met != len(res.Outcomes) {
		return &exitError{code: exitInvalid}
	}
	return nil
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
func writeSuiteJUnit(path string, res SuiteResults) error {
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
