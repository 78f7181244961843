package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/xsdcheck"
	"github.com/election-harness/harness/run"
)

// junitSchema is the Ant JUnit schema the reports package validates
// against.
const junitSchema = "../../reports/testdata/junit.xsd"

func TestVersionCommand(t *testing.T) {
	r := harness(t, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "harness ") || !strings.Contains(r.stdout, "revision: ") {
		t.Fatalf("harness version: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	short := harness(t, "version", "--short")
	line := strings.TrimSpace(short.stdout)
	if short.code != 0 || line == "" || strings.Contains(line, "\n") {
		t.Fatalf("harness version --short: exit %d, %q", short.code, short.stdout)
	}
	// The module version leads both; a binary built without VCS
	// information (as tests build it, or outside a checkout) says so.
	module := strings.TrimPrefix(strings.SplitN(r.stdout, "\n", 2)[0], "harness ")
	if !strings.HasPrefix(line, module) {
		t.Errorf("--short %q does not begin with the module version %q", line, module)
	}
	if strings.Contains(r.stdout, "revision: unknown") != (line == "(devel)") {
		t.Errorf("no revision, yet --short says %q:\n%s", line, r.stdout)
	}
}

// setRecordedVersion rewrites a stored run's harness_version.
func setRecordedVersion(t *testing.T, dir, v string) {
	t.Helper()
	path := filepath.Join(dir, histories.ConfigFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["harness_version"] = v
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// junitProps reads a junit.xml's first suite's properties and first
// error's type.
func junitProps(t *testing.T, path string) (map[string]string, []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Props []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
			Cases []struct {
				Error *struct {
					Type string `xml:"type,attr"`
				} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil || len(doc.Suites) != 1 {
		t.Fatalf("%s: %v", path, err)
	}
	props := map[string]string{}
	for _, p := range doc.Suites[0].Props {
		props[p.Name] = p.Value
	}
	var errs []string
	for _, c := range doc.Suites[0].Cases {
		if c.Error != nil {
			errs = append(errs, c.Error.Type)
		}
	}
	return props, errs
}

// `harness check` says, in one line on stderr, when another harness
// recorded the run; the version is in junit.xml and the report.
func TestCheckSaysWhoRecordedTheRun(t *testing.T) {
	self := strings.TrimSpace(harness(t, "version", "--short").stdout)
	lines := []string{lineProbeN1, lineProbeN2, lineInvoke, lineOK}
	for _, c := range []struct{ recorded, want string }{
		{"", "recorded by a harness that did not record its version; checking with " + self},
		{"v0.9.0 (0123456789ab)", "recorded by harness v0.9.0 (0123456789ab); checking with " + self},
		{self, ""},
	} {
		dir := offlineRun(t, lines)
		setRecordedVersion(t, dir, c.recorded)
		r := harness(t, "check", dir)
		if r.code != exitInvalid {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		notes := 0
		for _, l := range strings.Split(r.stderr, "\n") {
			if strings.Contains(l, "recorded by") {
				notes++
			}
		}
		if c.want == "" && notes != 0 || c.want != "" && (notes != 1 || !strings.Contains(r.stderr, c.want)) {
			t.Errorf("recorded %q: stderr %q, want one line %q", c.recorded, r.stderr, c.want)
		}
		junitPath := filepath.Join(dir, histories.JUnitFile)
		xsdcheck.Validate(t, junitSchema, junitPath)
		props, _ := junitProps(t, junitPath)
		want := c.recorded
		if want == "" {
			want = "not recorded"
		}
		if props["harness_version"] != want || props["run_dir"] != dir || props["seed"] == "" {
			t.Errorf("junit properties %v", props)
		}
		page, _ := os.ReadFile(filepath.Join(dir, histories.ReportFile))
		if !strings.Contains(string(page), "<b>harness</b> "+want) || !strings.Contains(string(page), "<b>exercised</b>") {
			t.Errorf("the report does not show the harness version %q and the coverage", want)
		}
	}
}

// A check that cannot be made (exit 3) leaves a junit.xml saying so.
func TestCheckSetupFailureLeavesJUnit(t *testing.T) {
	dir := offlineRun(t, []string{lineProbeN1, lineInvoke, "{\"index\":2,\"time\":\n", lineOK})
	r := harness(t, "check", dir)
	if r.code != exitSetup {
		t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
	}
	junitPath := filepath.Join(dir, histories.JUnitFile)
	xsdcheck.Validate(t, junitSchema, junitPath)
	props, errs := junitProps(t, junitPath)
	if len(errs) != 1 || errs[0] != "setup" || props["harness_version"] == "" {
		t.Fatalf("errors %v, properties %v: want one setup error and the run's properties", errs, props)
	}
	if _, err := os.Stat(filepath.Join(dir, histories.ResultsFile)); err == nil {
		t.Error("results.json written by a check that could not be made")
	}
}

// A run whose database never serves (the harness itself given as the
// etcd binary) exits 3, and its run directory still has a junit.xml: one
// error, the run's properties, valid against the Ant schema; config.json
// records the harness version.
func TestRunSetupFailureLeavesJUnit(t *testing.T) {
	needDocker(t)
	store := t.TempDir()
	r := harness(t, "run", "--binary", harnessBin, "--nemesis", "none", "--time-limit", "5s", "--store", store)
	if r.code != exitSetup {
		t.Fatalf("exit %d, want 3\n%s", r.code, tail(r.stderr, 2000))
	}
	dir := latestRun(t, store)
	if l := leftovers(t, dir); l != "" {
		t.Errorf("left behind: %s", l)
	}
	junitPath := filepath.Join(dir, histories.JUnitFile)
	xsdcheck.Validate(t, junitSchema, junitPath)
	props, errs := junitProps(t, junitPath)
	self := strings.TrimSpace(harness(t, "version", "--short").stdout)
	if len(errs) != 1 || errs[0] != "setup" {
		t.Fatalf("junit errors %v, want one setup error", errs)
	}
	if props["harness_version"] != self || props["db"] != "etcd" || props["seed"] != "1" || !strings.HasPrefix(props["reproduce"], "harness run") {
		t.Errorf("junit properties %v", props)
	}
	cfg, err := run.ReadConfig(histories.RunDir(dir))
	if err != nil || cfg.HarnessVersion != self {
		t.Errorf("config.json harness_version %q, want %q (%v)", cfg.HarnessVersion, self, err)
	}
}
