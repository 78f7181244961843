package run

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/reports"
	"github.com/election-harness/harness/workloads"
)

// Config is one run: every setting (the CLI's flags are bound to it by
// Flags, the reproduce command is derived from it by Args, suites fill
// it in), and what the run derived from them. It is config.json: enough
// to re-check the run offline and to reproduce it.
type Config struct {
	Test    string    `json:"test"`
	RunID   string    `json:"run_id"`
	Started time.Time `json:"started"`
	// DB is the database's name, as its driver registers it.
	DB        string `json:"db"`
	Version   string `json:"version"`
	Binary    string `json:"binary,omitempty"`
	FromImage string `json:"from_image,omitempty"` // --image: the user's image the node image was made from
	// Image is the node image the run used.
	Image       string   `json:"image,omitempty"`
	Nodes       int      `json:"nodes"`
	Campaigners int      `json:"campaigners"`
	Recipe      string   `json:"recipe"`
	TTL         Duration `json:"ttl"`
	// Consistency is the read consistency mode, for a database with
	// several; empty where reads are always linearizable.
	Consistency     string   `json:"consistency,omitempty"`
	Nemesis         []string `json:"nemesis"`
	NemesisInterval Duration `json:"nemesis_interval"`
	// LeaseExpiry is the store's longest lease end for TTL: stops of
	// the election leader last longer.
	LeaseExpiry    Duration `json:"lease_expiry"`
	TimeLimit      Duration `json:"time_limit"`
	Seed           int64    `json:"seed"`
	Store          string   `json:"store"`
	ElectionPrefix string   `json:"election_prefix"`
	RegisterPrefix string   `json:"register_prefix"`
	RegisterKey    string   `json:"register_key"`
	LivenessBound  Duration `json:"liveness_bound"`
	// Command reproduces the run.
	Command string `json:"command"`
	// HarnessVersion is the version of the harness that recorded the
	// run (`harness version`); "" in runs recorded before it was kept.
	HarnessVersion string `json:"harness_version"`
	// Hostname is the machine the run ran on.
	Hostname string `json:"hostname,omitempty"`
	// CacheDir holds built database binaries; not part of the run.
	CacheDir string `json:"-"`
}

// Duration marshals as a Go duration string ("5s").
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"5s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// CheckerOptions derives the checker's options from the run.
func (c Config) CheckerOptions() checker.Options {
	return checker.Options{
		ElectionPrefix:  c.ElectionPrefix,
		RegisterPrefix:  c.RegisterPrefix,
		TTL:             time.Duration(c.TTL),
		LivenessBound:   time.Duration(c.LivenessBound),
		ReadConsistency: c.Consistency,
		ExpectFaults:    len(c.Nemesis) > 0,
	}
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
	return []reports.Fact{
		{Name: "db", Value: c.DB + " " + c.Version}, {Name: "nodes", Value: fmt.Sprint(c.Nodes)},
		{Name: "recipe", Value: c.Recipe}, {Name: "campaigners", Value: fmt.Sprint(c.Campaigners)},
		{Name: "ttl", Value: time.Duration(c.TTL).String()}, {Name: "nemesis", Value: nem},
		{Name: "read consistency", Value: c.readConsistency()},
		{Name: "time limit", Value: time.Duration(c.TimeLimit).String()}, {Name: "seed", Value: fmt.Sprint(c.Seed)},
		{Name: "started", Value: c.Started.Format(time.RFC3339)},
		{Name: "harness", Value: c.harnessVersion()},
	}
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
	return fmt.Sprintf("%s %s %s seed %d", c.Test, c.DB, c.Version, c.Seed)
}

// junitProperties are what junit.xml says the run was.
func (c Config) junitProperties(dir histories.RunDir) []reports.Fact {
	nem := "none"
	if len(c.Nemesis) > 0 {
		nem = strings.Join(c.Nemesis, ",")
	}
	return []reports.Fact{
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
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding config: %w", err)
	}
	if err := os.WriteFile(dir.Path(histories.ConfigFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	return nil
}

// ReadConfig reads a run directory's config.json.
func ReadConfig(dir histories.RunDir) (Config, error) {
	var c Config
	b, err := os.ReadFile(dir.Path(histories.ConfigFile))
	if err != nil {
		return c, fmt.Errorf("reading run config: %w (is %s a run directory?)", err, dir)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", dir.Path(histories.ConfigFile), err)
	}
	return c, nil
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
