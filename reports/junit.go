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
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes one test case per check: an invalid check is a
// failure whose message is its first anomaly; an unknown check is an
// error (it was not shown valid).
func WriteJUnit(path string, in Input) error {
	suite := junitSuite{Name: in.Title}
	for _, c := range in.Results.Checks {
		tc := junitCase{Name: c.Name, Classname: "election." + in.Title, SystemOut: countsLine(c)}
		switch {
		case c.Informational:
		case c.Verdict == checker.Invalid:
			suite.Failures++
			tc.Failure = &junitProblem{Message: firstMessage(c, "invalid"), Type: "anomaly", Body: evidenceText(c)}
		case c.Verdict != checker.Valid:
			suite.Errors++
			tc.Error = &junitProblem{Message: firstMessage(c, "unknown: could not be checked"), Type: "unknown", Body: evidenceText(c)}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Tests = len(suite.Cases)
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
