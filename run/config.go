package run

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/nemesis"
	"github.com/election-harness/harness/reports"
	"github.com/election-harness/harness/workloads"
)

// Config is one run: every setting (the CLI's flags are bound to it by
// Flags, the reproduce command is derived from it by Args, suites fill
// it in), and what the run derived from them. It is config.json
// (histories.RunConfig, whose fields it has): enough to re-check the run
// offline and to reproduce it.
type Config histories.RunConfig

// Duration marshals as a Go duration string ("5s").
type Duration = histories.Duration

// CheckerOptions derives the checker's options from the run.
func (c Config) CheckerOptions() checker.Options {
	return checker.Options{
		ElectionPrefix:  c.ElectionPrefix,
		RegisterPrefix:  c.RegisterPrefix,
		TTL:             time.Duration(c.TTL),
		LivenessBound:   time.Duration(c.LivenessBound),
		ReadConsistency: c.Consistency,
		ExpectFaults:    len(c.Nemesis) > 0,
		Fronts:          c.APIServerFronts(),
	}
}

// stallsDisks says whether the run's nemesis stalls disks or loses
// their unsynced writes: only then
// are members' data directories served through the agent's stalling
// filesystem, since FUSE costs throughput and other runs must not
// change.
func (c Config) stallsDisks() bool {
	for _, k := range c.Nemesis {
		if kind, _, _ := strings.Cut(k, ":"); kind == nemesis.KindStall || kind == nemesis.KindLoseUnsynced {
			return true
		}
	}
	return false
}

func (c Config) readConsistency() string {
	if c.Consistency == "" {
		return "linearizable (" + c.DB + ")"
	}
	return c.Consistency
}

// Facts are the parameters a report shows first.
func (c Config) Facts() []reports.Fact {
	nem := "none"
	if len(c.Nemesis) > 0 {
		nem = strings.Join(c.Nemesis, ",") + " every " + time.Duration(c.NemesisInterval).String()
	}
	recipe := c.Recipe
	if len(c.Options) > 0 {
		recipe += " (" + optionList(c.Options) + ")"
	}
	dbFact := c.DB + " " + c.Version
	if len(c.Patches) > 0 {
		// A control build must never pass for the stock one.
		dbFact += " patched: " + strings.Join(c.Patches, ", ")
	}
	facts := []reports.Fact{
		{Name: "db", Value: dbFact}, {Name: "nodes", Value: fmt.Sprint(c.Nodes)},
		{Name: "recipe", Value: recipe}, {Name: "campaigners", Value: fmt.Sprint(c.Campaigners)},
		{Name: "ttl", Value: time.Duration(c.TTL).String()}, {Name: "nemesis", Value: nem},
		{Name: "read consistency", Value: c.readConsistency()},
		{Name: "time limit", Value: time.Duration(c.TimeLimit).String()}, {Name: "seed", Value: fmt.Sprint(c.Seed)},
		{Name: "started", Value: c.Started.Format(time.RFC3339)},
		{Name: "harness", Value: c.harnessVersion()},
	}
	if r := c.readersFact(); r != "" {
		// Only when pinned: the reports of runs without it stay as they were.
		facts = append(facts[:7], append([]reports.Fact{{Name: "readers", Value: r}}, facts[7:]...)...)
	}
	if fronts := c.APIServerFronts(); fronts != nil {
		var parts []string
		for i := range c.Campaigners {
			name := fmt.Sprintf("c%d", i+1)
			parts = append(parts, name+"→"+fronts[name])
		}
		facts = append(facts[:2], append([]reports.Fact{{Name: "apiservers", Value: fmt.Sprintf("%d kube-apiserver %s (%s)", c.APIServers, c.KubeVersion, strings.Join(parts, ", "))}}, facts[2:]...)...)
	}
	return facts
}

// readersFact says which member each pinned reader reads through ("" if
// the readers are not pinned).
func (c Config) readersFact() string {
	m := c.ReaderMembers()
	if m == nil {
		return ""
	}
	var parts []string
	for i := range c.Campaigners {
		name := fmt.Sprintf("c%d", i+1)
		parts = append(parts, workloads.PinnedReaderProcess(name, m[name]))
	}
	return "pinned, one member each (" + strings.Join(parts, ", ") + "), read timeout " + c.PinnedReadTimeout().Round(time.Millisecond).String()
}

// harnessVersion is the recorded harness version, or says there is none.
func (c Config) harnessVersion() string {
	if c.HarnessVersion == "" {
		return "not recorded"
	}
	return c.HarnessVersion
}

// SuiteName is the run's junit test suite name, unique per run: test,
// db version and seed.
func (c Config) SuiteName() string {
	version := c.Version
	for _, p := range c.Patches {
		version += "+" + p
	}
	return fmt.Sprintf("%s %s %s seed %d", c.Test, c.DB, version, c.Seed)
}

// junitProperties are what junit.xml says the run was.
func (c Config) junitProperties(dir histories.RunDir) []reports.Fact {
	nem := "none"
	if len(c.Nemesis) > 0 {
		nem = strings.Join(c.Nemesis, ",")
	}
	props := []reports.Fact{
		{Name: "db", Value: c.DB}, {Name: "version", Value: c.Version},
		{Name: "nodes", Value: fmt.Sprint(c.Nodes)}, {Name: "campaigners", Value: fmt.Sprint(c.Campaigners)},
		{Name: "recipe", Value: c.Recipe}, {Name: "nemesis", Value: nem},
		{Name: "nemesis_interval", Value: time.Duration(c.NemesisInterval).String()},
		{Name: "time_limit", Value: time.Duration(c.TimeLimit).String()},
		{Name: "seed", Value: fmt.Sprint(c.Seed)},
		{Name: "started", Value: c.Started.Format(time.RFC3339)},
		{Name: "harness_version", Value: c.harnessVersion()},
		{Name: "run_dir", Value: string(dir)},
		{Name: "reproduce", Value: c.Command},
	}
	if c.Readers != "" {
		props = append(props, reports.Fact{Name: "readers", Value: c.Readers})
	}
	if len(c.Patches) > 0 {
		props = append(props, reports.Fact{Name: "patches", Value: strings.Join(c.Patches, ",")})
	}
	return props
}

// hostname is the recorded host, or "unknown".
func (c Config) hostname() string {
	if c.Hostname == "" {
		return "unknown"
	}
	return c.Hostname
}

// WriteConfig writes config.json into a run directory.
func WriteConfig(dir histories.RunDir, c Config) error {
	return dir.WriteConfig(histories.RunConfig(c))
}

// ReadConfig reads a run directory's config.json.
func ReadConfig(dir histories.RunDir) (Config, error) {
	c, err := dir.ReadConfig()
	return Config(c), err
}

// testName names a run's test in the store: db, recipe and nemesis.
func testName(db, recipe string, nemesis []string) string {
	n := "none"
	if len(nemesis) > 0 {
		n = strings.ReplaceAll(strings.Join(nemesis, "+"), ":", "-")
	}
	if path, ok := strings.CutPrefix(recipe, workloads.ExecPrefix); ok {
		recipe = "exec-" + filepath.Base(path)
	}
	recipe = strings.NewReplacer("/", "_", ":", "_").Replace(recipe)
	if !strings.HasPrefix(recipe, db+"-") {
		recipe = db + "-" + recipe
	}
	return recipe + "-" + n
}
