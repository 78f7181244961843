package reports

import (
	"encoding/xml"
	"fmt"
	"os"
	"strings"

	"github.com/election-harness/harness/checker"
)

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []JUnitCase `xml:"testcase"`
}

// JUnitCase is one test case of a junit.xml.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Seconds   float64       `xml:"time,attr,omitempty"`
	Failure   *JUnitProblem `xml:"failure,omitempty"`
	Error     *JUnitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitProblem is a case's failure (it found the wrong thing) or error
// (it could not decide).
type JUnitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes one test case per check: an invalid check is a
// failure whose message is its first anomaly; an unknown check is an
// error (it was not shown valid).
func WriteJUnit(path string, in Input) error {
	var cases []JUnitCase
	for _, c := range in.Results.Checks {
		tc := JUnitCase{Name: c.Name, Classname: "election." + in.Title, SystemOut: countsLine(c)}
		switch {
		case c.Informational:
		case c.Verdict == checker.Invalid:
			tc.Failure = &JUnitProblem{Message: firstMessage(c, "invalid"), Type: "anomaly", Body: evidenceText(c)}
		case c.Verdict != checker.Valid:
			tc.Error = &JUnitProblem{Message: firstMessage(c, "unknown: could not be checked"), Type: "unknown", Body: evidenceText(c)}
		}
		cases = append(cases, tc)
	}
	return WriteJUnitSuite(path, in.Title, cases)
}

// WriteJUnitSuite writes a junit.xml of one test suite, counting its
// failures and errors.
func WriteJUnitSuite(path, name string, cases []JUnitCase) error {
	suite := junitSuite{Name: name, Tests: len(cases), Cases: cases}
	for _, c := range cases {
		if c.Failure != nil {
			suite.Failures++
		}
		if c.Error != nil {
			suite.Errors++
		}
	}
	b, err := xml.MarshalIndent(junitSuites{Suites: []junitSuite{suite}}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding junit: %w", err)
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644)
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
		for _, ev := range e.Events {
			fmt.Fprintf(&b, "  %s\n", eventLine(ev))
		}
	}
	for _, n := range c.Notes {
		b.WriteString(n)
		b.WriteByte('\n')
	}
	return b.String()
}
