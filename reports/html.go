package reports

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"strings"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
)

//go:embed report.html.tmpl
var reportTemplate string

//go:embed report.js
var reportJS string

// Informational is the one word for an informational check's verdict,
// in the report, on the console, in junit.xml (results.json marks such a
// check "informational": true).
const Informational = "informational"

// funcs are the template's functions; eventLine and seconds count from
// the workload's start, so they are bound per report (origin).
func funcs(origin int64, events []histories.Event) template.FuncMap {
	return template.FuncMap{
		"eventLine":  func(e histories.Event) string { return eventLineFrom(e, origin) },
		"countsLine": countsLine,
		"evidenceID": evidenceID,
		"verdictClass": func(c checker.CheckResult) string {
			if c.Informational {
				return Informational
			}
			return string(c.Verdict)
		},
		"verdictWord": verdictWord,
		"seconds":     func(e histories.Event) float64 { return seconds(e.Time - origin) },
		"storyEvents": func(ev checker.Evidence) []histories.Event { return storyEvents(ev, events) },
		"fmtNumber":   fmtNumber,
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
	}
}

var tmpl = template.Must(template.New("report").Funcs(funcs(0, nil)).Parse(reportTemplate))

// verdictWord is what the report calls a check's outcome.
func verdictWord(c checker.CheckResult) string {
	if c.Informational {
		return Informational
	}
	return string(c.Verdict)
}

// anomaly is one anomaly of a check that failed the run, numbered like
// its marker on the timeline.
type anomaly struct {
	N        int
	Property string
	// Whose is who broke the promise, and the known bug it matches.
	Whose string
	Href  string
	Story *checker.Story
	// Sentence is the story's sentence with its short names explained
	// on hover.
	Sentence template.HTML
}

type htmlData struct {
	Input
	ConfigJSON      string
	Faults          []histories.Event
	Anomalies       []anomaly
	Timeline        timeline
	Linearizability []linearizability
	Failover        map[string]float64
	// Script is the report's own code; template.JS because it is ours.
	Script template.JS
}

// anomaliesOf numbers the anomalies of every check that failed the run.
func anomaliesOf(res checker.Results) []anomaly {
	var out []anomaly
	for _, c := range res.Checks {
		if c.Verdict != checker.Invalid || c.Informational {
			continue
		}
		for i, ev := range c.Evidence {
			a := anomaly{N: len(out) + 1, Property: c.Property, Href: evidenceID(c, i), Story: ev.Story, Whose: checker.BlameLine(ev.Blame)}
			if ev.Story != nil {
				a.Sentence = explainNames(ev.Story.Sentence, ev.Story.Names)
			} else {
				a.Sentence = template.HTML(template.HTMLEscapeString(ev.Message))
			}
			out = append(out, a)
		}
	}
	return out
}

// explainNames escapes a sentence and wraps each short name it uses
// ("term 6") in an <abbr> whose title is the full name.
func explainNames(s string, names map[string]string) template.HTML {
	var b strings.Builder
	for len(s) > 0 {
		best, at := "", len(s)
		for short := range names {
			if i := indexWord(s, short); i >= 0 && (i < at || i == at && len(short) > len(best)) {
				best, at = short, i
			}
		}
		b.WriteString(template.HTMLEscapeString(s[:at]))
		if best == "" {
			break
		}
		fmt.Fprintf(&b, `<abbr title="%s">%s</abbr>`, template.HTMLEscapeString(names[best]), template.HTMLEscapeString(best))
		s = s[at+len(best):]
	}
	return template.HTML(b.String())
}

// indexWord finds short in s not followed by a digit ("term 6" is not
// in "term 61").
func indexWord(s, short string) int {
	for off := 0; ; {
		i := strings.Index(s[off:], short)
		if i < 0 {
			return -1
		}
		end := off + i + len(short)
		if end == len(s) || s[end] < '0' || s[end] > '9' {
			return off + i
		}
		off = end
	}
}

// storyEvents are an anomaly's events in time order with the faults its
// story cites; without a story, its events as the check listed them.
func storyEvents(ev checker.Evidence, events []histories.Event) []histories.Event {
	if ev.Story == nil || len(ev.Story.Events) == 0 {
		return ev.Events
	}
	var out []histories.Event
	for _, i := range ev.Story.Events {
		if i >= 0 && i < int64(len(events)) && events[i].Index == i {
			out = append(out, events[i])
		} else {
			return ev.Events // not the history the story was told of
		}
	}
	return out
}

// WriteHTML writes report.html: one self-contained file (no network),
// every value from the history escaped by html/template.
func WriteHTML(path string, in Input) error {
	cfg, err := json.MarshalIndent(in.Config, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding config: %w", err)
	}
	d := htmlData{Input: in, ConfigJSON: string(cfg), Script: template.JS(reportJS)}
	for _, e := range in.Events {
		if (e.Process == histories.ProcessNemesis && e.F != histories.FFaultPlan) || e.F == histories.FPhase {
			d.Faults = append(d.Faults, e)
		}
	}
	origin := workloadStart(in.Events)
	d.Anomalies = anomaliesOf(in.Results)
	d.Timeline = buildTimeline(in.Events, in.Options, d.Anomalies)
	d.Linearizability = visualizeRegisters(in.Events, in.Options, firstAnomaly(in.Results, "P4"))
	for _, c := range in.Results.Checks {
		if c.Property == "P6" {
			d.Failover = c.Stats
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	t := template.Must(tmpl.Clone()).Funcs(funcs(origin, in.Events))
	if err := t.Execute(f, d); err != nil {
		f.Close()
		return fmt.Errorf("rendering %s: %w", path, err)
	}
	return f.Close()
}

// firstAnomaly is the time of the first event an invalid check cites,
// or -1.
func firstAnomaly(res checker.Results, property string) int64 {
	for _, c := range res.Checks {
		if c.Property != property || c.Verdict != checker.Invalid {
			continue
		}
		for _, ev := range c.Evidence {
			for _, e := range ev.Events {
				return e.Time
			}
		}
	}
	return -1
}
