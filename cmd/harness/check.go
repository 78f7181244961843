package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/election-harness/harness/db/registry"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/run"
)

// exitCodesHelp is the CLI's exit-code contract, for help texts.
const exitCodesHelp = `0 valid, 1 invalid (anomalies found), 2 unknown (could not be decided),
3 the harness could not run the test or check its history (the message says why),
4 the harness crashed: a panic or a fatal runtime error (out of memory) in the
checker, never a verdict (history.jsonl is kept, results.json is not written, and
the checker's output is in check-stderr.log in the run directory).`

func checkCmd() *cobra.Command {
	var failOn string
	c := runDirCmd("check RUN_DIR", "Re-check a stored run offline; rewrite results.json, report.html and junit.xml",
		func(dir histories.RunDir, cfg run.Config) error {
			if note := versionNote(cfg.HarnessVersion, harnessVersion()); note != "" {
				fmt.Fprintln(os.Stderr, note)
			}
			self, err := os.Executable()
			if err != nil {
				return setupError("finding the harness binary to check with: %v", err)
			}
			res, err := run.Check(dir, run.CheckOptions{Command: []string{self, checkChildCmdName}, Stdout: os.Stdout, Stderr: os.Stderr, FailOn: failOn})
			if err != nil {
				if run.IsSetup(err) {
					run.WriteSetupJUnit(dir, cfg, err, os.Stderr)
				}
				return runError(err)
			}
			if res.Gate != nil && res.Gate.Passed {
				return nil // the gate policy accepted every anomaly (printed)
			}
			return verdictError(res.Valid)
		})
	c.Flags().StringVar(&failOn, "fail-on", "", "the gate policy to apply instead of the run's own (all, recipe, new); config.json is left as it is")
	c.Long = `Re-check a stored run offline: read history.jsonl strictly (a malformed line is
refused with FILE:LINE), check it in a child process, and rewrite results.json,
report.html and junit.xml (those of an earlier check are removed first; results.json
is written last, and only with a complete verdict). Exit codes:
` + exitCodesHelp
	c.Example = `  harness check store/latest
  harness check store/` + registry.Default().Defaults().Recipe + `-partition+pause+kill/20250101T120000
  harness check store/latest && echo valid`
	return c
}

func reportCmd() *cobra.Command {
	return runDirCmd("report RUN_DIR", "Re-render report.html and junit.xml from a run's results",
		func(dir histories.RunDir, cfg run.Config) error {
			if err := run.Report(dir); err != nil {
				return runError(err)
			}
			fmt.Println(dir.Path(histories.ReportFile))
			return nil
		})
}

// runDirCmd is a command on one stored run: it reads the run's config
// and hands it to do.
func runDirCmd(use, short string, do func(histories.RunDir, run.Config) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := histories.RunDir(args[0])
			cfg, err := run.ReadConfig(dir)
			if err != nil {
				return setupError("%v", err)
			}
			return do(dir, cfg)
		},
	}
}

// checkChildCmdName is the hidden command the check runs in (see
// run.CheckOptions.Command).
const checkChildCmdName = "check-child"

func checkChildCmd() *cobra.Command {
	var interrupted bool
	var failOn string
	c := &cobra.Command{
		Use:    checkChildCmdName + " RUN_DIR",
		Short:  "Check a run as the child process of check and run (exit codes 10 + the verdict's, 14 crashed)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return &exitError{code: run.CheckChild(histories.RunDir(args[0]), interrupted, failOn)}
		},
	}
	c.Flags().BoolVar(&interrupted, "interrupted", false, "the run was interrupted")
	c.Flags().StringVar(&failOn, "fail-on", "", "the gate policy, instead of the run's")
	return c
}
