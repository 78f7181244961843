package reports

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"os"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
)

//go:embed report.html.tmpl
var reportTemplate string

//go:embed report.js
var reportJS string

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"eventLine":  eventLine,
	"countsLine": countsLine,
	"evidenceID": evidenceID,
	"verdictClass": func(c checker.CheckResult) string {
		if c.Informational {
			return "info"
		}
		return string(c.Verdict)
	},
	"seconds": func(e histories.Event) float64 { return seconds(e.Time) },
}).Parse(reportTemplate))

type htmlData struct {
	Input
	ConfigJSON      string
	Faults          []histories.Event
	Timeline        timeline
	Linearizability []linearizability
	Failover        map[string]float64
	// Script is the report's own code; template.JS because it is ours.
	Script template.JS
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
	d.Timeline = buildTimeline(in.Events, in.Results, in.Options)
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
	if err := tmpl.Execute(f, d); err != nil {
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
