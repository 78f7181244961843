package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	junit "github.com/joshdk/go-junit"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/xsdcheck"
)

func writeSuite(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nightly.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSuiteEntriesAndShards(t *testing.T) {
	s, entries := suiteEntries(t, `
matrix:
  version: [v3.6.16, v3.5.21]
  recipe: [etcd-election, etcd-unfenced]
  nemesis: [pause, "partition,kill"]
  seeds: 3
expect:
  etcd-election: valid
`)
	if len(entries) != 2*2*2*3 {
		t.Fatalf("%d entries, want 24", len(entries))
	}
	for _, e := range entries {
		want := map[string]string{"etcd-election": "valid", "etcd-unfenced": "invalid"}[e.Recipe]
		if e.Expect != want {
			t.Errorf("%v expects %s, want %s", e, e.Expect, want)
		}
	}
	seen := map[int]int{}
	for i := 1; i <= 5; i++ {
		part, err := shard(entries, itoa(i)+"/5")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range part {
			seen[e.Index]++
		}
	}
	if len(seen) != len(entries) {
		t.Errorf("5 shards cover %d of %d entries", len(seen), len(entries))
	}
	for idx, n := range seen {
		if n != 1 {
			t.Errorf("entry %d is in %d shards", idx, n)
		}
	}
	for _, bad := range []string{"0/3", "4/3", "x", "1/0"} {
		if _, err := shard(entries, bad); err == nil {
			t.Errorf("--shard %s accepted", bad)
		}
	}
	if got := s.Name; got != "nightly" {
		t.Errorf("name %q, want the file's", got)
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

func TestSuiteRefusesBadFiles(t *testing.T) {
	cases := map[string]string{
		"matrix:\n  recipe: []\n":                                        "matrix.recipe is empty",
		"matrix:\n  recipe: [etcd-election]\n  colour: red\n":            "field colour not found",
		"matrix:\n  recipe: [etcd-election]\n  seeds: many\n":            "seeds: want a count",
		"matrix:\n  recipe: [etcd-election]\nexpect:\n  x: maybe\n":      "want valid or invalid",
		"matrix:\n  db: [consul]\n  recipe: [etcd-election]\n":           "recipe etcd-election elects through etcd, not db consul",
		"matrices:\n  - {recipe: [etcd-election]}\n  - {db: [consul]}\n": "matrices[1].recipe is empty",
	}
	for body, want := range cases {
		r := harness(t, "suite", writeSuite(t, body))
		if r.code != exitSetup || !strings.Contains(r.stderr, want) {
			t.Errorf("%q: exit %d, stderr %q; want 3 and %q", body, r.code, r.stderr, want)
		}
	}
	r := harness(t, "suite", writeSuite(t, "matrix:\n  recipe: [raft-magic]\n"))
	if r.code != exitSetup || !strings.Contains(r.stderr, "unknown recipe") {
		t.Errorf("unknown recipe: exit %d, stderr %q", r.code, r.stderr)
	}
}

// suiteEntries loads a suite file's text and crosses its matrices.
func suiteEntries(t *testing.T, body string) (Suite, []Entry) {
	t.Helper()
	s, err := loadSuite(writeSuite(t, body))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := s.Entries()
	if err != nil {
		t.Fatal(err)
	}
	return s, entries
}

func TestSuiteMatricesCrossSeparately(t *testing.T) {
	s, entries := suiteEntries(t, `
matrices:
  - {recipe: [etcd-unfenced, etcd-cached], seeds: 10}
  - {db: [consul], recipe: [consul-unfenced], nemesis: [pause], consistency: [default, stale], seeds: [4, 5]}
  - {recipe: [etcd-election], nemesis: [pause, clock], seeds: 3}
`)
	if len(entries) != 2*10+2*2+2*3 {
		t.Fatalf("%d entries, want 30", len(entries))
	}
	count := map[string]int{}
	for i, e := range entries {
		if e.Index != i {
			t.Errorf("entry %d has index %d", i, e.Index)
		}
		count[e.DB+" "+e.recipeLabel()+" "+e.Nemesis+" "+e.Expect]++
		args := strings.Join(s.runArgs(e, "st"), " ")
		if e.Consistency != "" && !strings.Contains(args, "--consistency "+e.Consistency) {
			t.Errorf("entry %v runs without its read mode: %s", e, args)
		}
	}
	want := map[string]int{
		"etcd etcd-unfenced partition,pause,kill invalid": 10, "etcd etcd-cached partition,pause,kill invalid": 10,
		"consul consul-unfenced (default reads) pause invalid": 2, "consul consul-unfenced (stale reads) pause invalid": 2,
		"etcd etcd-election pause valid": 3, "etcd etcd-election clock valid": 3,
	}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%q: %d entries, want %d (all: %v)", k, count[k], n, count)
		}
	}
}

// TestSuiteMergeJoinsShards merges two shards' suite.json: one table,
// a junit.xml naming the run that missed, and exit 1 for the miss.
func TestSuiteMergeJoinsShards(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, r SuiteResults) string {
		b, _ := json.Marshal(r)
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	a := write("a.json", SuiteResults{Name: "nightly", Shard: "1/2", Outcomes: []Outcome{
		{Entry: Entry{Index: 0, DB: "etcd", Recipe: "etcd-election", Nemesis: "pause", Seed: 1, Expect: "valid"}, Verdict: "valid"}}})
	b := write("b.json", SuiteResults{Name: "nightly", Shard: "2/2", Outcomes: []Outcome{
		{Entry: Entry{Index: 1, DB: "etcd", Recipe: "etcd-unfenced", Nemesis: "pause", Seed: 1, Expect: "invalid"}, Verdict: "valid", Summary: "all properties hold"}}})
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
		!strings.Contains(r.stdout, "| etcd default | etcd-unfenced | pause | invalid | 1 | 0 of 1 | 0 of 1 | 0 | – | – |") {
		t.Errorf("suite-merge --markdown: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(tableOnly); !os.IsNotExist(err) {
		t.Errorf("suite-merge --markdown wrote %s", tableOnly)
	}
	other := write("c.json", SuiteResults{Name: "weekly"})
	if r := harness(t, "suite-merge", "--out", out, a, other); r.code != exitSetup {
		t.Errorf("merging two suites: exit %d", r.code)
	}

	// --reread: the run was re-checked since, and is now found invalid.
	run := t.TempDir()
	res, _ := json.Marshal(checker.Results{Valid: checker.Invalid, Summary: "P4 failed: stale-leader write"})
	os.WriteFile(filepath.Join(run, histories.ResultsFile), res, 0o644)
	rechecked := write("d.json", SuiteResults{Name: "nightly", Outcomes: []Outcome{
		{Entry: Entry{Index: 1, DB: "etcd", Recipe: "etcd-unfenced", Nemesis: "pause", Seed: 1, Expect: "invalid"}, Verdict: "valid", RunDir: run}}})
	if r := harness(t, "suite-merge", "--reread", "--out", filepath.Join(dir, "reread"), rechecked); r.code != 0 || !strings.Contains(r.stdout, "1 of 1 runs found what they should") {
		t.Errorf("suite-merge --reread: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestSuiteRunsEntries runs a small real suite: the safe recipe and an
// unsafe control, each found as expected.
func TestSuiteRunsEntries(t *testing.T) {
	needDocker(t)
	path := writeSuite(t, `
name: smoke
defaults: {time_limit: 45s}
matrix:
  recipe: [etcd-election, etcd-unfenced]
  nemesis: [pause]
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
	var res SuiteResults
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
	recreate := ""
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "exec:/tmp/soundness/recreate-campaigner") {
			if recreate == "" {
				recreate = buildExample(t, "recreate-campaigner", "-ldflags", "-X main.recreate=on")
			}
			f = filepath.Join(t.TempDir(), filepath.Base(f))
			os.WriteFile(f, []byte(strings.ReplaceAll(string(b), "/tmp/soundness/recreate-campaigner", recreate)), 0o644)
		}
		r := harness(t, "suite", f, "--list")
		if r.code != 0 || strings.Count(r.stdout, "\n") == 0 {
			t.Errorf("%s: exit %d\n%s%s", f, r.code, r.stdout, r.stderr)
		}
	}
}

func TestSuiteMarkdown(t *testing.T) {
	run := t.TempDir()
	res := checker.Results{Valid: checker.Invalid, Checks: []checker.CheckResult{
		{Property: "P1", Verdict: checker.Valid},
		{Property: "P4", Verdict: checker.Invalid, Evidence: []checker.Evidence{{Message: "stale",
			Events: []histories.Event{{Time: 9e9}, {Time: 5e9}}}}},
	}}
	b, _ := json.Marshal(res)
	os.WriteFile(filepath.Join(run, histories.ResultsFile), b, 0o644)
	stored, err := runResults(run)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := detectSeconds(stored); !ok || got != 5 {
		t.Fatalf("detectSeconds = %v, %v; want 5s", got, ok)
	}
	// A valid run whose informational P7 found a lease revoked early.
	leases := t.TempDir()
	b, _ = json.Marshal(checker.Results{Valid: checker.Valid, Checks: []checker.CheckResult{
		{Property: "P7", Verdict: checker.Invalid, Informational: true, Counts: map[string]int64{"anomalies": 1}},
	}})
	os.WriteFile(filepath.Join(leases, histories.ResultsFile), b, 0o644)
	outcomes := []Outcome{
		{Entry: Entry{DB: "etcd", Recipe: "etcd-unfenced", Nemesis: "pause", Seed: 1, Expect: "invalid"}, Verdict: "invalid", RunDir: run},
		{Entry: Entry{DB: "etcd", Recipe: "etcd-unfenced", Nemesis: "pause", Seed: 2, Expect: "invalid"}, Verdict: "valid"},
		{Entry: Entry{DB: "etcd", Recipe: "etcd-election", Nemesis: "pause", Seed: 1, Expect: "valid"}, Verdict: "valid", RunDir: filepath.Join(run, "gone")},
		{Entry: Entry{DB: "etcd", Recipe: "etcd-election", Nemesis: "pause", Seed: 2, Expect: "valid"}, Verdict: "valid", RunDir: leases},
	}
	for i := range outcomes {
		if err := outcomes[i].readFindings(); err != nil {
			t.Fatalf("readFindings of %v: %v", outcomes[i].Entry, err)
		}
	}
	want := []string{
		"| etcd default | etcd-unfenced | pause | invalid | 2 | 1 of 2 | 1 of 2 | 0 | 5.0 s | – |",
		"| etcd default | etcd-election | pause | valid | 2 | 0 of 2 | 2 of 2 | 0 | – | P7 in 1 of 2 |",
	}
	md := suiteMarkdown(SuiteResults{Name: "controls", Outcomes: outcomes})
	for _, w := range want {
		if !strings.Contains(md, w) {
			t.Errorf("suite.md lacks\n%s\nin\n%s", w, md)
		}
	}
	// suite.json alone, its run directories gone (a shard from another
	// machine, or docs/results), makes the same table.
	b, _ = json.Marshal(SuiteResults{Name: "controls", Outcomes: outcomes})
	os.RemoveAll(run)
	os.RemoveAll(leases)
	var reloaded SuiteResults
	if err := json.Unmarshal(b, &reloaded); err != nil {
		t.Fatal(err)
	}
	if again := suiteMarkdown(reloaded); again != md {
		t.Errorf("the table from suite.json alone differs:\n%s\nwant\n%s", again, md)
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
		var res SuiteResults
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !strings.Contains(string(doc), suiteMarkdown(res)) {
			t.Errorf("docs/detection.md does not hold the table of %s: run make detection-doc", f)
		}
	}
}
