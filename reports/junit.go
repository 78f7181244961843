package reports

import (
	"encoding/xml"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/election-harness/harness/checker"
)

// junit.xml follows the Apache Ant JUnit schema, which is what Jenkins,
// GitLab and the GitHub test reporters read. reports/testdata/junit.xsd is
// an equivalent written by hand, and a test validates against it.
//
// The file is a bare <testsuites> of <testsuite>s. Each has name, package,
// id, timestamp, hostname, tests, failures, errors and time, then
// <properties>, the <testcase>s, <system-out> and <system-err>. A test case
// has name, classname and time, and at most one of <failure>, <error> or
// <skipped>. Ant's schema gives a test case no <system-out> of its own, so
// what a run prints goes in its suite's.

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string `xml:"name,attr"`
	Package   string `xml:"package,attr"`
	ID        int    `xml:"id,attr"`
	Timestamp string `xml:"timestamp,attr"`
	Hostname  string `xml:"hostname,attr"`
	Tests     int    `xml:"tests,attr"`
	Failures  int    `xml:"failures,attr"`
	Errors    int    `xml:"errors,attr"`
	Skipped   int    `xml:"skipped,attr"`
	// Time is the suite's duration.
	Time       junitSeconds `xml:"time,attr"`
	Properties struct {
		Property []junitProperty `xml:"property"`
	} `xml:"properties"`
	Cases     []JUnitCase `xml:"testcase"`
	SystemOut string      `xml:"system-out"`
	SystemErr string      `xml:"system-err"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// junitSeconds is a duration in seconds as xs:decimal ("1.250", never
// Go's "1e+06").
type junitSeconds float64

func (s junitSeconds) MarshalXMLAttr(name xml.Name) (xml.Attr, error) {
	return xml.Attr{Name: name, Value: strconv.FormatFloat(float64(s), 'f', 3, 64)}, nil
}

func (s *junitSeconds) UnmarshalXMLAttr(a xml.Attr) error {
	f, err := strconv.ParseFloat(a.Value, 64)
	*s = junitSeconds(f)
	return err
}

// junitTimestamp is the schema's timestamp: ISO 8601 without a zone
// (Ant's pattern admits none), so always UTC; the "started" property
// says so with the zone.
const junitTimestamp = "2006-01-02T15:04:05"

// JUnitCase is one test case of a junit.xml.
type JUnitCase struct {
	Name      string `xml:"name,attr"`
	Classname string `xml:"classname,attr"`
	// Seconds is the case's duration (0 when it has none of its own).
	Seconds junitSeconds  `xml:"time,attr"`
	Failure *JUnitProblem `xml:"failure,omitempty"`
	Error   *JUnitProblem `xml:"error,omitempty"`
	Skipped *JUnitProblem `xml:"skipped,omitempty"`
}

// SetSeconds sets the case's duration.
func (c *JUnitCase) SetSeconds(s float64) { c.Seconds = junitSeconds(s) }

// JUnitProblem is a case's failure (it found the wrong thing), error (it
// could not decide, or the run could not be made) or skipped (an
// informational finding: shown, never failing).
type JUnitProblem struct {
	Message string `xml:"message,attr,omitempty"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

// JUnitSuite is one test suite: a run (its checks) or a suite of runs.
type JUnitSuite struct {
	// Name is unique per run: test, db version and seed.
	Name string
	// Package groups suites (Ant's package attribute).
	Package    string
	Started    time.Time
	Hostname   string
	Duration   time.Duration
	Properties []Fact
	Cases      []JUnitCase
	SystemOut  string
	SystemErr  string
}

// WriteJUnit writes a run's junit.xml: one test case per check.
//
//   - An invalid check is a <failure> whose message is its first anomaly.
//   - An unknown check is an <error> ("unknown: ..."): it was not shown
//     valid, and a CI tool must not show it green.
//   - An informational check (P7, split-brain exposure) that found
//     something, or could not decide, is <skipped message="informational:
//     ...">, the evidence in its body. Skipped rather than a pass with
//     the evidence in <system-out>: every JUnit reader counts and lists
//     skipped cases, none fails the build for them, while the output of a
//     passed case is hidden by most, so a finding there would be shown
//     green and read by nobody. The message says "informational" so that
//     it is not taken for a check that did not run.
//   - When the run's verdict is not valid for a reason no check carries
//     (a nemesis was asked for and no fault started), a "run verdict"
//     case carries it as an <error>, so junit.xml is never greener than
//     the exit code.
//
// The checks are decided together on one history after the run: none
// has a duration of its own, so each case's time is 0 and the suite's
// is the run's, from its start to its last event.
func WriteJUnit(path string, in Input) error {
	classname := "election." + in.Title
	var cases []JUnitCase
	var out strings.Builder
	fmt.Fprintf(&out, "%s: %s\n", strings.ToUpper(string(in.Results.Valid)), in.Results.Summary)
	fmt.Fprintf(&out, "exercised: %s\n", in.Results.Coverage)
	if in.Results.Whose != "" {
		fmt.Fprintf(&out, "whose: %s\n", in.Results.Whose)
	}
	if g := in.Results.Gate; g != nil && g.Passed {
		for _, a := range g.Accepted {
			fmt.Fprintf(&out, "warning: accepted by --fail-on %s: %s\n", g.FailOn, a)
		}
	}
	if in.Results.Truncated {
		out.WriteString("the history was cut off by a crash: its last line was dropped\n")
	}
	reflected := in.Results.Valid == checker.Valid
	for _, c := range in.Results.Checks {
		tc := JUnitCase{Name: c.Name, Classname: classname}
		tag := string(c.Verdict)
		switch {
		case c.Informational && c.Verdict == checker.Valid:
			tag = Informational
		case c.Informational:
			tag = Informational
			what := firstMessage(c, string(c.Verdict))
			if c.Verdict != checker.Invalid {
				what = "not decided: " + what
			}
			tc.Skipped = &JUnitProblem{Message: "informational (does not fail the run): " + what, Type: "informational", Body: evidenceText(c)}
		case c.Verdict == checker.Invalid && in.Results.Gate != nil && in.Results.Gate.Passed:
			// The run's gate policy accepts every anomaly: listed, as
			// informational findings are, never shown green.
			tc.Skipped = &JUnitProblem{Message: fmt.Sprintf("accepted by --fail-on %s (warning): %s", in.Results.Gate.FailOn, whoseMessage(c)), Type: "accepted", Body: evidenceText(c)}
			reflected = true
		case c.Verdict == checker.Invalid:
			tc.Failure = &JUnitProblem{Message: whoseMessage(c), Type: "anomaly", Body: evidenceText(c)}
			reflected = reflected || in.Results.Valid == checker.Invalid
		case c.Verdict != checker.Valid:
			tc.Error = &JUnitProblem{Message: "unknown: " + firstMessage(c, "could not be checked"), Type: "unknown", Body: evidenceText(c)}
			reflected = reflected || in.Results.Valid == checker.Unknown
		}
		fmt.Fprintf(&out, "%-13s %s: %s\n", tag, c.Name, countsLine(c))
		cases = append(cases, tc)
	}
	if !reflected {
		tc := JUnitCase{Name: "run verdict", Classname: classname}
		typ := "unknown"
		if in.Results.Valid == checker.Invalid {
			typ = "invalid"
		}
		tc.Error = &JUnitProblem{Message: typ + ": " + in.Results.Summary, Type: typ}
		cases = append(cases, tc)
	}
	d := in.Duration
	if d == 0 && len(in.Events) > 0 {
		d = time.Duration(in.Events[len(in.Events)-1].Time)
	}
	return WriteJUnitSuite(path, JUnitSuite{Name: in.suiteName(), Package: "election", Started: in.Started, Hostname: in.Hostname,
		Duration: d, Properties: in.Properties, Cases: cases, SystemOut: out.String()})
}

func (in Input) suiteName() string {
	if in.SuiteName != "" {
		return in.SuiteName
	}
	return in.Title
}

// WriteJUnitSuite writes a junit.xml of one test suite, counting its
// failures, errors and skipped cases.
func WriteJUnitSuite(path string, s JUnitSuite) error {
	b, err := xml.MarshalIndent(junitSuites{Suites: []junitSuite{s.encode()}}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding junit: %w", err)
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644)
}

func (s JUnitSuite) encode() junitSuite {
	js := junitSuite{Name: s.Name, Package: s.Package, Hostname: s.Hostname, Time: junitSeconds(s.Duration.Seconds()),
		Cases: s.Cases, SystemOut: s.SystemOut, SystemErr: s.SystemErr}
	// The schema wants every one of these non-empty.
	if js.Name == "" {
		js.Name = "harness"
	}
	if js.Package == "" {
		js.Package = "election"
	}
	if js.Hostname == "" {
		js.Hostname = "unknown"
	}
	started := s.Started
	if started.IsZero() {
		started = time.Unix(0, 0)
	}
	js.Timestamp = started.UTC().Format(junitTimestamp)
	for _, p := range s.Properties {
		js.Properties.Property = append(js.Properties.Property, junitProperty(p))
	}
	js.countCases()
	return js
}

func (js *junitSuite) countCases() {
	js.Tests, js.Failures, js.Errors, js.Skipped = len(js.Cases), 0, 0, 0
	for _, c := range js.Cases {
		switch {
		case c.Failure != nil:
			js.Failures++
		case c.Error != nil:
			js.Errors++
		case c.Skipped != nil:
			js.Skipped++
		}
	}
}

// AddJUnitCase adds a test case to the (first) suite of an existing
// junit.xml: a run that was checked and then failed to clean up says so
// next to its verdict.
func AddJUnitCase(path string, c JUnitCase) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc junitSuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Suites) == 0 {
		return fmt.Errorf("%s: no test suite", path)
	}
	s := &doc.Suites[0]
	s.Cases = append(s.Cases, c)
	s.countCases()
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding junit: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append([]byte(xml.Header), append(out, '\n')...), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// whoseMessage is a failed check's first anomaly, led by whose it is.
func whoseMessage(c checker.CheckResult) string {
	msg := firstMessage(c, "invalid")
	if len(c.Evidence) > 0 {
		if w := checker.BlameLine(c.Evidence[0].Blame); w != "" {
			return w + ": " + msg
		}
	}
	return msg
}

func firstMessage(c checker.CheckResult, fallback string) string {
	if len(c.Evidence) > 0 && c.Evidence[0].Message != "" {
		return c.Evidence[0].Message
	}
	if len(c.Notes) > 0 {
		return c.Notes[0]
	}
	return fallback
}

func evidenceText(c checker.CheckResult) string {
	var b strings.Builder
	for _, e := range c.Evidence {
		b.WriteString(e.Message)
		b.WriteByte('\n')
		if e.Story != nil {
			fmt.Fprintf(&b, "  why: %s\n", e.Story.Sentence)
		}
		for _, ev := range e.Events {
			fmt.Fprintf(&b, "  %s\n", eventLine(ev))
		}
	}
	for _, n := range c.Notes {
		b.WriteString(n)
		b.WriteByte('\n')
	}
	if line := countsLine(c); line != "" {
		fmt.Fprintf(&b, "counts: %s\n", line)
	}
	return b.String()
}
