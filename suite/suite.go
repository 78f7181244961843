package suite

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/election-harness/harness/db/registry"
	"github.com/election-harness/harness/run"
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
// expect: {recipe: verdict} says otherwise, and a matrix's own expect
// overrides both.
type Suite struct {
	Name     string            `yaml:"name"`
	Defaults Defaults          `yaml:"defaults"`
	Matrix   Matrix            `yaml:"matrix"`
	Matrices []Matrix          `yaml:"matrices"`
	Expect   map[string]string `yaml:"expect"`
}

// Defaults are the run flags every entry shares.
type Defaults struct {
	TimeLimit       string `yaml:"time_limit"`
	Nodes           int    `yaml:"nodes"`
	Campaigners     int    `yaml:"campaigners"`
	TTL             string `yaml:"ttl"`
	NemesisInterval string `yaml:"nemesis_interval"`
	// Failpoints builds the database with its failpoints (--failpoints),
	// which a failpoint nemesis needs.
	Failpoints bool `yaml:"failpoints"`
	// Options are campaigner options of the recipes' database
	// (--option NAME=VALUE), e.g. {renew: once} for etcd.
	Options map[string]string `yaml:"options"`
	// HoldUntilLost is --hold-until-lost: the share of terms never
	// resigned; nil is the run's default.
	HoldUntilLost *float64 `yaml:"hold_until_lost"`
	// HoldThroughStops is --hold-through-stops; nil is the run's default.
	HoldThroughStops *bool `yaml:"hold_through_stops"`
	// ServerLogLevel is --server-log-level (debug keeps the lines a
	// database bug's report quotes).
	ServerLogLevel string `yaml:"server_log_level"`
	// SnapshotCount is --snapshot-count.
	SnapshotCount int `yaml:"snapshot_count"`
	// APIServers is --apiservers, for the Kubernetes recipes.
	APIServers int `yaml:"apiservers"`
	// KubeVersion is --kube-version, the kube-apiserver release of the
	// Kubernetes recipes' runs.
	KubeVersion string `yaml:"kube_version"`
	// FailOn is --fail-on: the gate policy every run is judged by.
	FailOn string `yaml:"fail_on"`
}

// Matrix is crossed into entries.
type Matrix struct {
	DB []string `yaml:"db"`
	// Version lists versions; VERSION+PATCH is a control build of
	// VERSION with a source patch (--patch PATCH).
	Version []string `yaml:"version"`
	Recipe  []string `yaml:"recipe"`
	Nemesis []string `yaml:"nemesis"`
	// Consistency lists Consul read modes (--consistency); empty: the
	// database's default.
	Consistency []string `yaml:"consistency"`
	// Readers lists --readers settings (all, pinned); empty: all.
	Readers []string  `yaml:"readers"`
	Seeds   SeedRange `yaml:"seeds"`
	// Expect is every entry's expected verdict, over the recipe's and
	// the suite's: a version with a known bug is expected invalid
	// under the fault that finds it, whatever its recipe.
	Expect string `yaml:"expect"`
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
	// Readers is --readers, if the entry names it.
	Readers string `json:"readers,omitempty"`
	Seed    int64  `json:"seed"`
	Expect  string `json:"expect"` // valid or invalid
}

func (e Entry) String() string {
	v := e.Version
	if v == "" {
		v = "default"
	}
	return fmt.Sprintf("%s %s %s %s seed %d", e.DB, v, e.recipeLabel(), e.Nemesis, e.Seed)
}

// recipeLabel is the recipe, with its read mode and readers if the entry
// names them.
func (e Entry) recipeLabel() string {
	l := e.Recipe
	if e.Consistency != "" {
		l += " (" + e.Consistency + " reads)"
	}
	if e.Readers != "" && e.Readers != "all" {
		l += " (" + e.Readers + " readers)"
	}
	return l
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
	// KnownBugs are the known database bugs the run's judged anomalies
	// matched (their blame's known IDs), each once.
	KnownBugs []string `json:"known_bugs,omitempty"`
	// GatePassed: the run was invalid, and its gate policy (fail_on)
	// accepted every anomaly (each printed in its run's output).
	GatePassed bool `json:"gate_passed,omitempty"`
	// StartedAfter is when the run started, in seconds after the suite
	// did, and BudgetNeed the run time the budget rule counted on then:
	// a shorter budget's tier is the runs with StartedAfter+BudgetNeed
	// within it (Tiers).
	StartedAfter float64 `json:"started_after_seconds,omitempty"`
	BudgetNeed   float64 `json:"budget_need_seconds,omitempty"`
	// KubeVersion is the kube-apiserver release of a Kubernetes recipe's
	// run ("" for any other).
	KubeVersion string `json:"kube_version,omitempty"`
}

// Met reports whether the outcome is what the entry expected; an
// invalid run whose gate passed meets an expected valid, as its exit
// code would.
func (o Outcome) Met() bool {
	return o.Verdict == o.Expect || o.Expect == "valid" && o.Verdict == "invalid" && o.GatePassed
}

// Load reads and checks a suite file.
func Load(path string) (Suite, error) {
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
	for i, m := range append([]Matrix{s.Matrix}, s.Matrices...) {
		if m.Expect != "" && m.Expect != "valid" && m.Expect != "invalid" {
			return s, fmt.Errorf("%s: matrix %d: expect is %q: want valid or invalid", path, i, m.Expect)
		}
	}
	for recipe, v := range s.Expect {
		if v != "valid" && v != "invalid" {
			return s, fmt.Errorf("%s: expect.%s is %q: want valid or invalid", path, recipe, v)
		}
	}
	return s, nil
}

// WithRecipe returns the suite with every matrix's recipes replaced by
// recipe: a presubmit suite run on a team's own campaigner
// (exec:PATH), or on each unsafe control to measure what a budget
// catches. The suite's expect entries still apply to recipe.
func (s Suite) WithRecipe(recipe string) Suite {
	if len(s.Matrix.Recipe) > 0 {
		s.Matrix.Recipe = []string{recipe}
	}
	ms := make([]Matrix, len(s.Matrices))
	for i, m := range s.Matrices {
		m.Recipe = []string{recipe}
		ms[i] = m
	}
	s.Matrices = ms
	return s
}

// Entries crosses the matrix, in a fixed order (so shards agree).
func (s Suite) Entries() ([]Entry, error) {
	matrices := s.Matrices
	if len(s.Matrix.Recipe) > 0 {
		matrices = append([]Matrix{s.Matrix}, matrices...)
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
func (s Suite) cross(out []Entry, m Matrix) ([]Entry, error) {
	dbs, versions, nemeses, seeds := orDefault(m.DB, registry.Default().Name()), orDefault(m.Version, ""), orDefault(m.Nemesis, run.DefaultNemesis), m.Seeds
	modes, readers := orDefault(m.Consistency, ""), orDefault(m.Readers, "")
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
				if m.Expect != "" {
					expect = m.Expect
				}
				for _, mode := range modes {
					for _, rd := range readers {
						for _, n := range nemeses {
							for _, seed := range seeds {
								out = append(out, Entry{Index: len(out), DB: d, Version: v, Recipe: r, Nemesis: n, Consistency: mode, Readers: rd, Seed: seed, Expect: expect})
							}
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

// Shard keeps the entries of shard i of n (1-based): a CI matrix runs
// one shard per machine and merges the results.
func Shard(entries []Entry, spec string) ([]Entry, error) {
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
