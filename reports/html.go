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

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"eventLine":  eventLine,
	"countsLine": countsLine,
	"verdictClass": func(c checker.CheckResult) string {
		if c.Informational {
			return "info"
		}
		return string(c.Verdict)
	},
}).Parse(reportTemplate))

type htmlData struct {
	Input
	ConfigJSON string
	Faults     []histories.Event
}

// WriteHTML writes report.html: one self-contained file, every value
// escaped by html/template.
func WriteHTML(path string, in Input) error {
	cfg, err := json.MarshalIndent(in.Config, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding config: %w", err)
	}
	d := htmlData{Input: in, ConfigJSON: string(cfg)}
	for _, e := range in.Events {
		if e.Process == histories.ProcessNemesis || e.F == histories.FPhase {
			d.Faults = append(d.Faults, e)
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
