package reports

import (
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	junit "github.com/joshdk/go-junit"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/xsdcheck"
)

// junitSchema is the Ant JUnit schema, written by hand (see its head).
const junitSchema = "testdata/junit.xsd"

// parsedJUnit is what the tests read back of a junit.xml.
type parsedJUnit struct {
	Suites []struct {
		Name      string  `xml:"name,attr"`
		Timestamp string  `xml:"timestamp,attr"`
		Hostname  string  `xml:"hostname,attr"`
		Time      float64 `xml:"time,attr"`
		Tests     int     `xml:"tests,attr"`
		Failures  int     `xml:"failures,attr"`
		Errors    int     `xml:"errors,attr"`
		Skipped   int     `xml:"skipped,attr"`
		Props     []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Time    string `xml:"time,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
				Body    string `xml:",chardata"`
			} `xml:"skipped"`
		} `xml:"testcase"`
		SystemOut string `xml:"system-out"`
	} `xml:"testsuite"`
}

var junitStart = time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)

// junitInput is a run's report input as the harness gives it.
func junitInput(events []histories.Event, res checker.Results) Input {
	return Input{Title: "etcd-unfenced-pause", Options: opts, Results: res, Events: events,
		SuiteName: "etcd-unfenced-pause etcd v3.6.16 seed 7", Started: junitStart, Hostname: "ci-host",
		Properties: []Fact{{"db", "etcd"}, {"version", "v3.6.16"}, {"nodes", "3"}, {"recipe", "etcd-unfenced"},
			{"nemesis", "pause"}, {"seed", "7"}, {"harness_version", "v1.2.3 (0123456789ab)"},
			{"run_dir", "store/etcd-unfenced-pause/20261124T060000"}, {"reproduce", "harness run --seed 7"}}}
}

// writeValidJUnit writes in's junit.xml, validates it against the Ant
// schema and reads it back.
func writeValidJUnit(t *testing.T, in Input) parsedJUnit {
	t.Helper()
	path := filepath.Join(t.TempDir(), histories.JUnitFile)
	if err := WriteJUnit(path, in); err != nil {
		t.Fatal(err)
	}
	return validJUnit(t, path)
}

func validJUnit(t *testing.T, path string) parsedJUnit {
	t.Helper()
	xsdcheck.Validate(t, junitSchema, path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p parsedJUnit
	if err := xml.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Suites) != 1 {
		t.Fatalf("%d test suites, want 1", len(p.Suites))
	}
	if _, err := junit.IngestFile(path); err != nil {
		t.Fatalf("go-junit cannot read it: %v", err)
	}
	return p
}

func checkOf(t *testing.T, events []histories.Event) checker.Results {
	t.Helper()
	res, err := checker.Check(context.Background(), events, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Every junit.xml carries the run's time, start, host and properties.
func checkRunFacts(t *testing.T, p parsedJUnit, wantSeconds float64) {
	t.Helper()
	s := p.Suites[0]
	if s.Name != "etcd-unfenced-pause etcd v3.6.16 seed 7" {
		t.Errorf("suite name %q, want test, db version and seed", s.Name)
	}
	if s.Timestamp != "2026-11-24T06:00:00" || s.Hostname != "ci-host" {
		t.Errorf("timestamp %q hostname %q", s.Timestamp, s.Hostname)
	}
	if s.Time != wantSeconds {
		t.Errorf("suite time %v, want the run's %v s", s.Time, wantSeconds)
	}
	props := map[string]string{}
	for _, pr := range s.Props {
		props[pr.Name] = pr.Value
	}
	for _, k := range []string{"db", "version", "nodes", "recipe", "nemesis", "seed", "harness_version", "run_dir", "reproduce"} {
		if props[k] == "" {
			t.Errorf("no property %q in %v", k, props)
		}
	}
	for _, c := range s.Cases {
		if c.Time == "" {
			t.Errorf("case %s has no time", c.Name)
		}
	}
	if s.Tests != len(s.Cases) {
		t.Errorf("tests=%d, %d cases", s.Tests, len(s.Cases))
	}
}

func TestJUnitOfAPassingRunIsValidAnt(t *testing.T) {
	events := run(false, "c1/2/2")
	res := checkOf(t, events)
	if res.Valid != checker.Valid {
		t.Fatalf("%s: %s", res.Valid, res.Summary)
	}
	p := writeValidJUnit(t, junitInput(events, res))
	checkRunFacts(t, p, 22.1) // the last event, at 22.1 s
	s := p.Suites[0]
	if s.Failures+s.Errors != 0 {
		t.Errorf("a valid run has %d failures and %d errors", s.Failures, s.Errors)
	}
	if !strings.Contains(s.SystemOut, "exercised: "+res.Coverage.String()) {
		t.Errorf("system-out does not carry the coverage line %q:\n%s", res.Coverage, s.SystemOut)
	}
}

func TestJUnitOfAFailingRunIsValidAnt(t *testing.T) {
	events := run(true, "c1/2/2")
	res := checkOf(t, events)
	in := junitInput(events, res)
	in.Duration = 95 * time.Second // the run's own, when the caller knows it
	p := writeValidJUnit(t, in)
	checkRunFacts(t, p, 95)
	s := p.Suites[0]
	if s.Failures != 1 {
		t.Fatalf("%d failures, want P4's", s.Failures)
	}
	for _, c := range s.Cases {
		if c.Failure != nil && !strings.Contains(c.Failure.Message, "stale-leader write") {
			t.Errorf("%s fails with %q", c.Name, c.Failure.Message)
		}
	}
}

// An informational finding is shown (skipped, with its evidence), never
// green and never failing; an unknown check is an error saying unknown.
func TestJUnitOfInformationalAndUnknownChecks(t *testing.T) {
	events := run(false, "c1/2/2")
	res := checkOf(t, events)
	found := false
	for i := range res.Checks {
		if c := &res.Checks[i]; c.Property == "P7" {
			c.Informational, c.Verdict = true, checker.Invalid
			c.Counts["anomalies"] = 1
			c.Evidence = []checker.Evidence{{Message: "lease revoked 2.5 s early", Events: events[:1]}}
			found = true
		}
	}
	if !found {
		t.Fatal("no P7 check")
	}
	p := writeValidJUnit(t, junitInput(events, res))
	checkRunFacts(t, p, 22.1)
	s := p.Suites[0]
	if s.Failures+s.Errors != 0 || s.Skipped != 1 {
		t.Fatalf("failures=%d errors=%d skipped=%d, want only the informational finding, skipped", s.Failures, s.Errors, s.Skipped)
	}
	for _, c := range s.Cases {
		if c.Skipped != nil && (!strings.HasPrefix(c.Skipped.Message, "informational") ||
			!strings.Contains(c.Skipped.Message, "lease revoked 2.5 s early") || !strings.Contains(c.Skipped.Body, "phase")) {
			t.Errorf("%s: skipped %q with body %q, want the finding and its evidence", c.Name, c.Skipped.Message, c.Skipped.Body)
		}
	}

	// The same run, its P5 undecided.
	for i := range res.Checks {
		if c := &res.Checks[i]; c.Property == "P5" {
			c.Verdict, c.Notes = checker.Unknown, []string{"no observation"}
		}
	}
	res.Valid = checker.Unknown
	s = writeValidJUnit(t, junitInput(events, res)).Suites[0]
	if s.Errors != 1 {
		t.Fatalf("%d errors, want the unknown check's", s.Errors)
	}
	for _, c := range s.Cases {
		if c.Error != nil && (c.Error.Type != "unknown" || !strings.HasPrefix(c.Error.Message, "unknown: no observation")) {
			t.Errorf("%s: error %+v", c.Name, c.Error)
		}
	}
}

// A verdict no check carries (a nemesis asked for, no fault started) is
// a case of its own: junit.xml is never greener than the exit code.
func TestJUnitCarriesAVerdictNoCheckCarries(t *testing.T) {
	events := run(false, "c1/2/2")
	res := checkOf(t, events)
	res.Valid, res.Summary = checker.Unknown, "no fault started although a nemesis was asked for: this run tested nothing under failure"
	s := writeValidJUnit(t, junitInput(events, res)).Suites[0]
	if s.Errors != 1 || s.Cases[len(s.Cases)-1].Name != "run verdict" {
		t.Fatalf("errors=%d, last case %q: want a run verdict error", s.Errors, s.Cases[len(s.Cases)-1].Name)
	}
}

// A run that could not be made: one case, an error, and the run's facts.
func TestJUnitOfAFailedSetupIsValidAnt(t *testing.T) {
	in := junitInput(nil, checker.Results{})
	path := filepath.Join(t.TempDir(), histories.JUnitFile)
	err := WriteJUnitSuite(path, JUnitSuite{Name: in.SuiteName, Package: "election", Started: in.Started, Hostname: in.Hostname,
		Duration: 3 * time.Second, Properties: in.Properties,
		Cases: []JUnitCase{{Name: "harness setup and cleanup", Classname: "election.x",
			Error: &JUnitProblem{Message: "setup failed (exit 3): starting the cluster: no such image", Type: "setup", Body: "no such image\n"}}},
		SystemOut: "SETUP FAILED (exit 3)\n"})
	if err != nil {
		t.Fatal(err)
	}
	p := validJUnit(t, path)
	checkRunFacts(t, p, 3)
	if s := p.Suites[0]; s.Errors != 1 || s.Cases[0].Error == nil || s.Cases[0].Error.Type != "setup" {
		t.Fatalf("errors=%d cases=%+v", s.Errors, s.Cases)
	}

	// A cleanup that failed after the check adds its error to the verdict.
	events := run(false, "c1/2/2")
	path = filepath.Join(t.TempDir(), histories.JUnitFile)
	if err := WriteJUnit(path, junitInput(events, checkOf(t, events))); err != nil {
		t.Fatal(err)
	}
	if err := AddJUnitCase(path, JUnitCase{Name: "harness setup and cleanup", Classname: "election.x",
		Error: &JUnitProblem{Message: "removing the cluster: timeout", Type: "setup"}}); err != nil {
		t.Fatal(err)
	}
	p = validJUnit(t, path)
	checkRunFacts(t, p, 22.1)
	if s := p.Suites[0]; s.Errors != 1 || s.Cases[len(s.Cases)-1].Error == nil {
		t.Fatalf("the added error is not counted: errors=%d", s.Errors)
	}
}

// The schema is no rubber stamp: it refuses what Ant's refuses (a test
// case without time, a timestamp with a zone).
func TestJUnitSchemaRefusesMissingAttributes(t *testing.T) {
	xsdcheck.Need(t)
	bad := filepath.Join(t.TempDir(), "bad.xml")
	if err := os.WriteFile(bad, []byte(`<?xml version="1.0"?><testsuites><testsuite name="x" package="p" id="0" timestamp="2026-01-01T00:00:00Z" hostname="h" tests="1" failures="0" errors="0" time="1"><properties/><testcase name="a" classname="b"/><system-out/><system-err/></testsuite></testsuites>`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := xsdcheck.Check(junitSchema, bad)
	if err == nil {
		t.Fatal("a test case without time and a zoned timestamp passed the schema")
	}
	for _, want := range []string{"'time' is required", "timestamp"} {
		if !strings.Contains(out, want) {
			t.Errorf("xmllint did not object to %s:\n%s", want, out)
		}
	}
}
