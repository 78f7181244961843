package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	junit "github.com/joshdk/go-junit"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/xsdcheck"
	"github.com/election-harness/harness/suite"
)

func writeSuite(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nightly.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSuiteMergeJoinsShards merges two shards' suite.json: one table,
// a junit.xml naming the run that missed, and exit 1 for the miss.
func TestSuiteMergeJoinsShards(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, r suite.Results) string {
		b, _ := json.Marshal(r)
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	a := write("a.json", suite.Results{Name: "nightly", Shard: "1/2", Outcomes: []suite.Outcome{
		{Entry: suite.Entry{Index: 0, DB: "etcd", Recipe: "etcd-election", Nemesis: "pause", Seed: 1, Expect: "valid"}, Verdict: "valid"}}})
	b := write("b.json", suite.Results{Name: "nightly", Shard: "2/2", Outcomes: []suite.Outcome{
		{Entry: suite.Entry{Index: 1, DB: "etcd", Recipe: "etcd-unfenced", Nemesis: "pause", Seed: 1, Expect: "invalid"}, Verdict: "valid", Summary: "all properties hold"}}})
	out := filepath.Join(dir, "merged")
	r := harness(t, "suite-merge", "--out", out, a, b)
	if r.code != exitInvalid || !strings.Contains(r.stdout, "1 of 2 runs found what they should") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	xsdcheck.Validate(t, junitSchema, filepath.Join(out, "junit.xml"))
	suites, err := junit.IngestFile(filepath.Join(out, "junit.xml"))
	if err != nil || len(suites) != 1 || len(suites[0].Tests) != 2 {
		t.Fatalf("junit.xml: %v %+v", err, suites)
	}
	for _, tc := range suites[0].Tests {
		failed := tc.Status == junit.StatusFailed
		if failed != strings.Contains(tc.Name, "etcd-unfenced") {
			t.Errorf("%s: failed=%v", tc.Name, failed)
		}
	}
	// --markdown: the table alone, on stdout, nothing written, exit 0
	// though a run missed (it is what the table is for).
	tableOnly := filepath.Join(dir, "table-only")
	r = harness(t, "suite-merge", "--markdown", "--out", tableOnly, a, b)
	if r.code != 0 || !strings.Contains(r.stdout, "# Suite nightly") ||
		!strings.Contains(r.stdout, "| etcd default | etcd-unfenced | pause | invalid | 1 | 0 of 1 | – | 0 of 1 | 0 | – | – |") {
		t.Errorf("suite-merge --markdown: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(tableOnly); !os.IsNotExist(err) {
		t.Errorf("suite-merge --markdown wrote %s", tableOnly)
	}
	other := write("c.json", suite.Results{Name: "weekly"})
	if r := harness(t, "suite-merge", "--out", out, a, other); r.code != exitSetup {
		t.Errorf("merging two suites: exit %d", r.code)
	}

	// --reread: the run was re-checked since, and is now found invalid.
	run := t.TempDir()
	res, _ := json.Marshal(checker.Results{Valid: checker.Invalid, Summary: "P4 failed: stale-leader write"})
	os.WriteFile(filepath.Join(run, histories.ResultsFile), res, 0o644)
	rechecked := write("d.json", suite.Results{Name: "nightly", Outcomes: []suite.Outcome{
		{Entry: suite.Entry{Index: 1, DB: "etcd", Recipe: "etcd-unfenced", Nemesis: "pause", Seed: 1, Expect: "invalid"}, Verdict: "valid", RunDir: run}}})
	if r := harness(t, "suite-merge", "--reread", "--out", filepath.Join(dir, "reread"), rechecked); r.code != 0 || !strings.Contains(r.stdout, "1 of 1 runs found what they should") {
		t.Errorf("suite-merge --reread: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestSuiteRunsEntries runs a small real suite: the safe recipe and an
// unsafe control, each found as expected. Its pauses spare the raft
// leader: one paused past the lease may revoke a renewed lease as it
// resumes, an etcd bug P8 finds in about one run in 20 (docs/findings/).
func TestSuiteRunsEntries(t *testing.T) {
	needDocker(t)
	path := writeSuite(t, `
name: smoke
defaults: {time_limit: 45s}
matrix:
  recipe: [etcd-election, etcd-unfenced]
  nemesis: ["pause:election-leader,pause:random-campaigner"]
  seeds: [2]
`)
	out := t.TempDir()
	r := harness(t, "suite", path, "--store", t.TempDir(), "--out", out)
	t.Logf("stdout:\n%s\nstderr:\n%s", r.stdout, tail(r.stderr, 2000))
	if r.code != 0 {
		t.Fatalf("suite exit %d, want 0", r.code)
	}
	b, err := os.ReadFile(filepath.Join(out, "suite.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res suite.Results
	if err := json.Unmarshal(b, &res); err != nil || len(res.Outcomes) != 2 {
		t.Fatalf("suite.json: %v %s", err, b)
	}
	for _, o := range res.Outcomes {
		if o.RunDir == "" || !o.Met() {
			t.Errorf("%v: %+v", o.Entry, o)
		}
	}
}

// The suites kept in the repository parse, and list their runs.
func TestRepoSuites(t *testing.T) {
	files, _ := filepath.Glob("../../suites/*.yaml")
	if len(files) == 0 {
		t.Fatal("no suites in suites/")
	}
	// A suite may name a user campaigner that `make detection` builds
	// first (exec:/tmp/soundness/recreate-campaigner): list it with the
	// same program built here.
	built := map[string]string{} // program -> its build here
	builds := map[string]string{"recreate-campaigner": "-X main.recreate=on", "keep-term-campaigner": "-X main.recreate=keep-term"}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for prog, ldflags := range builds {
			if !strings.Contains(string(b), "exec:/tmp/soundness/"+prog) {
				continue
			}
			if built[prog] == "" {
				built[prog] = buildExample(t, prog, "-ldflags", ldflags)
			}
			b = []byte(strings.ReplaceAll(string(b), "/tmp/soundness/"+prog, built[prog]))
			f = filepath.Join(t.TempDir(), filepath.Base(f))
			os.WriteFile(f, b, 0o644)
		}
		r := harness(t, "suite", f, "--list")
		if r.code != 0 || strings.Count(r.stdout, "\n") == 0 {
			t.Errorf("%s: exit %d\n%s%s", f, r.code, r.stdout, r.stderr)
		}
	}
}

// TestInterruptedSuiteLeavesNothingBehind: Ctrl-C of a suite interrupts
// its running run, which heals and removes its cluster; runs not started
// are written as not run.
func TestInterruptedSuiteLeavesNothingBehind(t *testing.T) {
	needDocker(t)
	path := writeSuite(t, `
name: interrupted
defaults: {time_limit: 60s, nemesis_interval: 2s}
matrix:
  recipe: [etcd-election]
  nemesis: [partition]
  seeds: [1, 2]
`)
	store, out := t.TempDir(), t.TempDir()
	cmd := exec.Command(harnessBin, "suite", path, "--store", store, "--out", out)
	if err := interruptOnceFaulted(t, cmd, store); err == nil {
		t.Fatalf("an interrupted suite exited 0")
	}
	b, err := os.ReadFile(filepath.Join(out, "suite.json"))
	if err != nil {
		t.Fatalf("an interrupted suite wrote no suite.json: %v", err)
	}
	if !strings.Contains(string(b), "not run: the suite was interrupted") {
		t.Errorf("suite.json does not say which runs did not run:\n%s", b)
	}
}

// TestDetectionDocMatchesResults: docs/detection.md holds each table that
// docs/results makes (`make detection-doc`), so the figures it shows are
// the measured ones.
func TestDetectionDocMatchesResults(t *testing.T) {
	doc, err := os.ReadFile("../../docs/detection.md")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../docs/results/*.json")
	if len(files) == 0 {
		t.Fatal("docs/results holds no suite results")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var res suite.Results
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !strings.Contains(string(doc), suite.Markdown(res)) {
			t.Errorf("docs/detection.md does not hold the table of %s: run make detection-doc", f)
		}
	}
}

// TestTiersDocMatchesResults: docs/results/tiers.md is the tier table of
// the budgeted suite runs kept in docs/results/tiers/ (make tiers-doc).
func TestTiersDocMatchesResults(t *testing.T) {
	doc, err := os.ReadFile("../../docs/results/tiers.md")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../docs/results/tiers/*.json")
	if len(files) == 0 {
		t.Fatal("docs/results/tiers holds no budgeted suite runs")
	}
	budgets := []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute}
	for _, f := range files {
		res, err := suite.ReadResults(f)
		if err != nil {
			t.Fatal(err)
		}
		md, err := suite.TierMarkdown([]suite.Results{res}, budgets)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		row := strings.Split(strings.TrimSpace(md), "\n")[2]
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/results/tiers.md lacks the row of %s: run make tiers-doc\n%s", f, row)
		}
	}
}
