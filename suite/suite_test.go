package suite

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/run"
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
		part, err := Shard(entries, itoa(i)+"/5")
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
		if _, err := Shard(entries, bad); err == nil {
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
		"matrices:\n  - {recipe: [etcd-election], expect: perhaps}\n":    "expect is \"perhaps\"",
	}
	cases["matrix:\n  recipe: [raft-magic]\n"] = "unknown recipe"
	for body, want := range cases {
		s, err := Load(writeSuite(t, body))
		if err == nil {
			_, err = s.Entries()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v; want an error saying %q", body, err, want)
		}
	}
}

// suiteEntries loads a suite file's text and crosses its matrices.
func suiteEntries(t *testing.T, body string) (Suite, []Entry) {
	t.Helper()
	s, err := Load(writeSuite(t, body))
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
		cfg, err := s.Config(e, "st")
		if err != nil {
			t.Fatalf("%v: %v", e, err)
		}
		if cfg.Consistency != e.Consistency || cfg.Store != "st" || cfg.Seed != e.Seed {
			t.Errorf("entry %v runs as %+v", e, cfg)
		}
	}
	want := map[string]int{
		"etcd etcd-unfenced " + run.DefaultNemesis + " invalid": 10, "etcd etcd-cached " + run.DefaultNemesis + " invalid": 10,
		"consul consul-unfenced (default reads) pause invalid": 2, "consul consul-unfenced (stale reads) pause invalid": 2,
		"etcd etcd-election pause valid": 3, "etcd etcd-election clock valid": 3,
	}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%q: %d entries, want %d (all: %v)", k, count[k], n, count)
		}
	}
}

func TestSuiteMarkdown(t *testing.T) {
	dir := t.TempDir()
	res := checker.Results{Valid: checker.Invalid, Checks: []checker.CheckResult{
		{Property: "P1", Verdict: checker.Valid},
		{Property: "P4", Verdict: checker.Invalid, Evidence: []checker.Evidence{{Message: "stale",
			Events: []histories.Event{{Time: 9e9}, {Time: 5e9}}}}},
	}}
	b, _ := json.Marshal(res)
	os.WriteFile(filepath.Join(dir, histories.ResultsFile), b, 0o644)
	stored, err := run.ReadResults(histories.RunDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := DetectSeconds(stored); !ok || got != 5 {
		t.Fatalf("detectSeconds = %v, %v; want 5s", got, ok)
	}
	// A valid run whose informational P7 found a lease revoked early.
	leases := t.TempDir()
	b, _ = json.Marshal(checker.Results{Valid: checker.Valid, Checks: []checker.CheckResult{
		{Property: "P7", Verdict: checker.Invalid, Informational: true, Counts: map[string]int64{"anomalies": 1}},
	}})
	os.WriteFile(filepath.Join(leases, histories.ResultsFile), b, 0o644)
	outcomes := []Outcome{
		{Entry: Entry{DB: "etcd", Recipe: "etcd-unfenced", Nemesis: "pause", Seed: 1, Expect: "invalid"}, Verdict: "invalid", RunDir: dir,
			Summary: "P4 fenced work is linearizable failed: stale"},
		{Entry: Entry{DB: "etcd", Recipe: "etcd-unfenced", Nemesis: "pause", Seed: 2, Expect: "invalid"}, Verdict: "valid"},
		{Entry: Entry{DB: "etcd", Recipe: "etcd-election", Nemesis: "pause", Seed: 1, Expect: "valid"}, Verdict: "valid", RunDir: filepath.Join(dir, "gone")},
		{Entry: Entry{DB: "etcd", Recipe: "etcd-election", Nemesis: "pause", Seed: 2, Expect: "valid"}, Verdict: "valid", RunDir: leases},
		{Entry: Entry{DB: "etcd", Recipe: "k8s-leaderelection-fenced", Nemesis: "pause", Seed: 1, Expect: "valid"}, Verdict: "valid", KubeVersion: "v1.37.2"},
	}
	for i := range outcomes {
		if err := outcomes[i].readFindings(); err != nil {
			t.Fatalf("readFindings of %v: %v", outcomes[i].Entry, err)
		}
	}
	want := []string{
		"| etcd default | etcd-unfenced | pause | invalid | 2 | 1 of 2 | P4 1 | 1 of 2 | 0 | 5.0 s | – |",
		"| etcd default | etcd-election | pause | valid | 2 | 0 of 2 | – | 2 of 2 | 0 | – | P7 in 1 of 2 |",
		"| etcd default, kube-apiserver v1.37.2 | k8s-leaderelection-fenced | pause | valid | 1 | 0 of 1 | – | 1 of 1 | 0 | – | – |",
	}
	md := Markdown(Results{Name: "controls", Outcomes: outcomes})
	for _, w := range want {
		if !strings.Contains(md, w) {
			t.Errorf("suite.md lacks\n%s\nin\n%s", w, md)
		}
	}
	// suite.json alone, its run directories gone (a shard from another
	// machine, or docs/results), makes the same table.
	b, _ = json.Marshal(Results{Name: "controls", Outcomes: outcomes})
	os.RemoveAll(dir)
	os.RemoveAll(leases)
	var reloaded Results
	if err := json.Unmarshal(b, &reloaded); err != nil {
		t.Fatal(err)
	}
	if again := Markdown(reloaded); again != md {
		t.Errorf("the table from suite.json alone differs:\n%s\nwant\n%s", again, md)
	}
}

// defaults.failpoints builds every entry's server with failpoints, as
// --failpoints does; left out, none is.
func TestSuiteFailpoints(t *testing.T) {
	for _, on := range []bool{true, false} {
		body := "matrix:\n  recipe: [etcd-election]\n  nemesis: [\"failpoint:renew-past-revoke\"]\n"
		if on {
			body = "defaults: {failpoints: true}\n" + body
		}
		s, entries := suiteEntries(t, body)
		c, err := s.Config(entries[0], t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if c.Failpoints != on {
			t.Errorf("failpoints %v in the suite: the run's is %v", on, c.Failpoints)
		}
	}
}

// defaults.options become every entry's --option values.
func TestSuiteOptions(t *testing.T) {
	s, entries := suiteEntries(t, "defaults: {options: {renew: once}}\nmatrix:\n  recipe: [etcd-election]\n")
	c, err := s.Config(entries[0], t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if c.Options["renew"] != "once" || len(c.Options) != 1 {
		t.Errorf("options {renew: once} in the suite: the run's are %v", c.Options)
	}
	if _, err := c.Validate(); err != nil {
		t.Errorf("validating: %v", err)
	}
}

// defaults.apiservers and kube_version reach the Kubernetes recipes'
// runs and no other's: a suite that mixes recipes runs the others as
// they were.
func TestSuiteAPIServers(t *testing.T) {
	s, entries := suiteEntries(t, "defaults: {apiservers: 2, kube_version: v1.37.2}\nmatrix:\n  recipe: [k8s-leaderelection, etcd-election]\n")
	for _, e := range entries {
		c, err := s.Config(e, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Validate(); err != nil {
			t.Fatalf("%s: validating: %v", e.Recipe, err)
		}
		want := [2]any{0, ""}
		if e.Recipe == "k8s-leaderelection" {
			want = [2]any{2, "v1.37.2"}
		}
		if got := [2]any{c.APIServers, c.KubeVersion}; got != want {
			t.Errorf("%s: apiservers and kube version %v, want %v", e.Recipe, got, want)
		}
	}
}

// A matrix's expect overrides the recipe's verdict (a safe recipe on a
// buggy version); anything but valid or invalid is refused.
func TestSuiteMatrixExpect(t *testing.T) {
	_, entries := suiteEntries(t, `
matrices:
  - recipe: [etcd-election]
    version: [v3.5.22]
    expect: invalid
  - recipe: [etcd-election, etcd-unfenced]
`)
	want := []string{"invalid", "valid", "invalid"}
	for i, e := range entries {
		if e.Expect != want[i] {
			t.Errorf("entry %d (%s): expect %s; want %s", i, e, e.Expect, want[i])
		}
	}
	if _, err := Load(writeSuite(t, "matrix:\n  recipe: [etcd-election]\n  expect: broken\n")); err == nil {
		t.Error("expect: broken was accepted")
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{15.2, 13.4, 5.1, 20.8}, 14.3},
	} {
		if got := Median(tc.xs); got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("Median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}

// TestSuiteReaders: a matrix's readers cross like read modes, label the
// row, and reach the run's config (and so its reproduce command).
func TestSuiteReaders(t *testing.T) {
	s, entries := suiteEntries(t, `
matrices:
  - {recipe: [etcd-serializable-reads, etcd-election], readers: [pinned], nemesis: [pause], seeds: 2}
  - {recipe: [etcd-election], nemesis: [pause], seeds: 1}
`)
	if len(entries) != 2*2+1 {
		t.Fatalf("%d entries, want 5", len(entries))
	}
	for _, e := range entries {
		cfg, err := s.Config(e, "st")
		if err != nil {
			t.Fatalf("%v: %v", e, err)
		}
		pinned := e.Index < 4
		if got := cfg.Readers == "pinned" && strings.Contains(cfg.CommandLine(), "--readers pinned"); got != pinned {
			t.Errorf("entry %v runs with readers %q (%s); want pinned %v", e, cfg.Readers, cfg.CommandLine(), pinned)
		}
		if strings.Contains(e.recipeLabel(), "(pinned readers)") != pinned {
			t.Errorf("entry %v is labelled %q", e, e.recipeLabel())
		}
		if e.Recipe == "etcd-serializable-reads" && e.Expect != "invalid" {
			t.Errorf("the serializable-reads control is expected %s, want invalid", e.Expect)
		}
	}
}

// A version VERSION+PATCH is a control build: the run's version is
// VERSION and its patches PATCH; defaults.hold_until_lost and
// defaults.server_log_level reach every run.
func TestSuitePatchedVersion(t *testing.T) {
	one, off := 1.0, false
	s := Suite{Defaults: Defaults{HoldUntilLost: &one, HoldThroughStops: &off, ServerLogLevel: "debug"}}
	c, err := s.Config(Entry{DB: "etcd", Version: "v3.6.16+ensure-leadership-always-checks", Recipe: "etcd-election", Nemesis: "pause", Seed: 1}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != "v3.6.16" || len(c.Patches) != 1 || c.Patches[0] != "ensure-leadership-always-checks" {
		t.Fatalf("version %q patches %v", c.Version, c.Patches)
	}
	if c.HoldUntilLost != 1 || c.HoldThroughStops || c.ServerLogLevel != "debug" {
		t.Fatalf("hold %v through stops %v log level %q", c.HoldUntilLost, c.HoldThroughStops, c.ServerLogLevel)
	}
	// Left out, they are the run's defaults.
	c, err = Suite{}.Config(Entry{DB: "etcd", Recipe: "etcd-election", Nemesis: "pause", Seed: 1}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if c.HoldUntilLost != run.DefaultHoldUntilLost || !c.HoldThroughStops {
		t.Fatalf("defaults: hold %v through stops %v, want %v and true", c.HoldUntilLost, c.HoldThroughStops, run.DefaultHoldUntilLost)
	}
	if _, err := c.Validate(); err != nil {
		t.Fatalf("the control build's run does not validate: %v", err)
	}
}

// A budget that holds no run starts none: every entry is counted as not
// run and none is in the results (the command then refuses to call that
// a pass).
func TestSuiteBudgetStartsNothingThatCannotFit(t *testing.T) {
	s := Suite{Name: "b", Defaults: Defaults{TimeLimit: "30s"}, Matrix: Matrix{DB: []string{"etcd"}, Recipe: []string{"etcd-election"}, Nemesis: []string{"pause"}, Seeds: SeedRange{1, 2, 3}}}
	entries, err := s.Entries()
	if err != nil {
		t.Fatal(err)
	}
	res := s.Run(context.Background(), entries, Options{Store: t.TempDir(), Budget: time.Nanosecond}, time.Now(), "")
	if len(res.Outcomes) != 0 || res.NotRun != len(entries) || res.Budget != "1ns" {
		t.Fatalf("outcomes %d, not run %d, budget %q: want none run, %d not run", len(res.Outcomes), res.NotRun, res.Budget, len(entries))
	}
}

// An invalid run whose gate passed (fail_on) meets an expected valid,
// as its exit code does; an invalid one whose gate failed does not.
func TestOutcomeMetByGate(t *testing.T) {
	for _, tc := range []struct {
		o    Outcome
		want bool
	}{
		{Outcome{Entry: Entry{Expect: "valid"}, Verdict: "invalid", GatePassed: true}, true},
		{Outcome{Entry: Entry{Expect: "valid"}, Verdict: "invalid"}, false},
		{Outcome{Entry: Entry{Expect: "invalid"}, Verdict: "invalid", GatePassed: true}, true},
		{Outcome{Entry: Entry{Expect: "valid"}, Verdict: "unknown", GatePassed: true}, false},
	} {
		if got := tc.o.Met(); got != tc.want {
			t.Errorf("%+v: Met %v, want %v", tc.o, got, tc.want)
		}
	}
}

// The time of a run's first anomaly is when it took effect (its story's
// At), not the earliest event it cites: a lease that ended early cites
// the win of its term, maybe minutes before.
func TestDetectSecondsTakesTheStorysTime(t *testing.T) {
	res := checker.Results{Checks: []checker.CheckResult{{Verdict: checker.Invalid, Evidence: []checker.Evidence{{
		Events: []histories.Event{{Time: 2e9}, {Time: 50e9}},
		Story:  &checker.Story{At: 50e9},
	}}}}, Coverage: checker.Coverage{WorkloadStart: 1e9}}
	if got, ok := DetectSeconds(res); !ok || got != 49 {
		t.Fatalf("DetectSeconds = %v, %v; want 49 (the story's time)", got, ok)
	}
	res.Checks[0].Evidence[0].Story = nil
	if got, _ := DetectSeconds(res); got != 1 {
		t.Fatalf("without a story DetectSeconds = %v, want 1 (the earliest event)", got)
	}
}
