package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/reports"
)

func checkCmd() *cobra.Command {
	return runDirCmd("check RUN_DIR", "Re-check a stored run offline; rewrite results.json, report.html and junit.xml",
		func(dir histories.RunDir, cfg RunConfig) error { return checkRun(dir, cfg, os.Stdout, false) })
}

func reportCmd() *cobra.Command {
	return runDirCmd("report RUN_DIR", "Re-render report.html and junit.xml from a run's results",
		func(dir histories.RunDir, cfg RunConfig) error {
			b, err := os.ReadFile(dir.Path(histories.ResultsFile))
			if err != nil {
				return setupError("reading results: %v (run `harness check %s` first)", err, dir)
			}
			var res checker.Results
			if err := json.Unmarshal(b, &res); err != nil {
				return setupError("%s: %v", dir.Path(histories.ResultsFile), err)
			}
			h, err := histories.ReadFile(dir.Path(histories.HistoryFile))
			if err != nil {
				return setupError("%v", err)
			}
			if err := writeReports(dir, cfg, res, h.Events); err != nil {
				return setupError("%v", err)
			}
			fmt.Println(dir.Path(histories.ReportFile))
			return nil
		})
}

// runDirCmd is a command on one stored run: it reads the run's config
// and hands it to do.
func runDirCmd(use, short string, do func(histories.RunDir, RunConfig) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := histories.RunDir(args[0])
			cfg, err := readConfig(dir)
			if err != nil {
				return setupError("%v", err)
			}
			return do(dir, cfg)
		},
	}
}

// checkRun checks a run's history and writes its results and reports;
// the verdict becomes the exit code.
func checkRun(dir histories.RunDir, cfg RunConfig, out io.Writer, interrupted bool) error {
	h, err := histories.ReadFile(dir.Path(histories.HistoryFile))
	if err != nil {
		return setupError("%v", err)
	}
	res, err := checker.Check(context.Background(), h.Events, cfg.CheckerOptions())
	if err != nil {
		return setupError("%s: %v", dir.Path(histories.HistoryFile), err)
	}
	res.Truncated = h.Truncated
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return setupError("encoding results: %v", err)
	}
	if err := os.WriteFile(dir.Path(histories.ResultsFile), append(b, '\n'), 0o644); err != nil {
		return setupError("writing results: %v", err)
	}
	if err := writeReports(dir, cfg, res, h.Events); err != nil {
		return setupError("%v", err)
	}
	printSummary(out, dir, res, len(h.Events), h.Truncated, interrupted)
	switch res.Valid {
	case checker.Valid:
		return nil
	case checker.Invalid:
		return &exitError{code: exitInvalid}
	default:
		return &exitError{code: exitUnknown}
	}
}

func writeReports(dir histories.RunDir, cfg RunConfig, res checker.Results, events []histories.Event) error {
	in := reports.Input{Title: cfg.Test, Facts: cfg.facts(), Config: cfg, Command: cfg.Command, Options: cfg.CheckerOptions(),
		Results: res, Events: events, NodeLogs: nodeLogs(dir)}
	if err := reports.WriteHTML(dir.Path(histories.ReportFile), in); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if err := reports.WriteJUnit(dir.Path(histories.JUnitFile), in); err != nil {
		return fmt.Errorf("writing junit.xml: %w", err)
	}
	return nil
}

func printSummary(w io.Writer, dir histories.RunDir, res checker.Results, events int, truncated, interrupted bool) {
	fmt.Fprintln(w)
	for _, c := range res.Checks {
		var counts []string
		for k, v := range c.Counts {
			counts = append(counts, fmt.Sprintf("%s=%d", k, v))
		}
		sort.Strings(counts)
		tag := string(c.Verdict)
		if c.Informational {
			tag = "info"
		}
		fmt.Fprintf(w, "  %-8s %-40s %s\n", tag, c.Name, strings.Join(counts, " "))
	}
	note := ""
	if truncated {
		note = " (history cut off: last line dropped)"
	}
	if interrupted {
		note += " (interrupted)"
	}
	fmt.Fprintf(w, "\n  exercised: %s\n", res.Coverage)
	fmt.Fprintf(w, "\n%s: %s%s\n%d events; run directory %s\n", strings.ToUpper(string(res.Valid)), res.Summary, note, events, dir)
}

// nodeLogs lists the run's node logs, relative to the run directory.
func nodeLogs(dir histories.RunDir) []string {
	entries, err := os.ReadDir(dir.Path(histories.NodesDir))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			out = append(out, histories.NodesDir+"/"+e.Name())
		}
	}
	return out
}
