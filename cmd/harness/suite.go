package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/election-harness/harness/run"
	"github.com/election-harness/harness/suite"
)

func suiteCmd() *cobra.Command {
	var store, shardSpec, out, recipe string
	var parallel int
	var budget time.Duration
	var list bool
	c := &cobra.Command{
		Use:   "suite FILE",
		Short: "Run a matrix of tests (db versions × recipes × nemeses × seeds); one table and one junit.xml",
		Long: `Run every entry of a suite file, a few at a time, each as a run of its own.
Exit 0 when every entry found what it should (a known-unsafe control: invalid;
anything else: valid), 1 otherwise. Writes suite.json, junit.xml and suite.md
(detection rates and times, per recipe and nemesis) into --out;
` + "`harness suite-merge`" + ` joins the suite.json of shards run on different machines.

Every entry is checked as its run would be (durations, named rules against
--nodes, at least ` + fmt.Sprint(run.MinFaults) + ` faults planned; see ` + "`harness run --help`" + `) before any runs.

Exit codes: 0 every run found what it should, 1 some did not (a run that could
not run counts as not found), 3 the suite could not run (a bad suite file, an
entry that cannot run, an unwritable --store or --out; nothing was run), 4 the
harness crashed. A run's own codes are:
` + exitCodesHelp,
		Example: `  harness suite suites/controls.yaml --store /tmp/store --out /tmp/out
  harness suite suites/detection.yaml --list
  harness suite suites/detection.yaml --parallel 2 --shard 1/4
  harness suite suites/presubmit.yaml --budget 4m --parallel 2 --recipe exec:./bin/campaigner`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := suite.Load(args[0])
			if err != nil {
				return setupError("%v", err)
			}
			if recipe != "" {
				s = s.WithRecipe(recipe)
			}
			entries, err := s.Entries()
			if err != nil {
				return setupError("%s: %v", args[0], err)
			}
			if entries, err = suite.Shard(entries, shardSpec); err != nil {
				return setupError("%v", err)
			}
			notes, err := s.Validate(entries, store)
			if err != nil {
				return setupError("%s: %v", args[0], err)
			}
			if list {
				for _, e := range entries {
					fmt.Printf("%d\t%s\texpect %s\n", e.Index, e, e.Expect)
				}
				return nil
			}
			if parallel < 1 {
				return setupError("--parallel %d: want at least 1", parallel)
			}
			if err := run.CheckStore(store); err != nil {
				return setupError("%v", err)
			}
			if err := run.CheckStore(out); err != nil {
				return setupError("--out: %v", strings.TrimPrefix(err.Error(), "--store "))
			}
			for _, n := range notes {
				fmt.Fprintf(os.Stderr, "harness: note: --nemesis %s\n", n)
			}
			self, err := run.StaticSelf()
			if err != nil {
				return setupError("%v", err)
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			// Ctrl-C stops launching runs and interrupts the running ones,
			// which clean up; what finished is still written.
			ctx, stop := untilStopSignal(ctx)
			defer stop()
			fmt.Fprintf(os.Stderr, "suite %s: %d runs, %d at a time\n", s.Name, len(entries), parallel)
			res := s.Run(ctx, entries, suite.Options{Store: store, Parallel: parallel, Log: os.Stderr, Budget: budget,
				Run: run.Options{Harness: self, HarnessVersion: harnessVersion(), CheckCommand: []string{self, checkChildCmdName}}},
				time.Now().UTC(), shardSpec)
			if budget > 0 && len(res.Outcomes) == 0 {
				return setupError("--budget %v fits no run of %s (each takes its time limit and about a minute more): nothing was tested", budget, args[0])
			}
			return writeSuiteResults(res, out)
		},
	}
	c.Flags().StringVar(&store, "store", "store", "directory of run results")
	c.Flags().StringVar(&shardSpec, "shard", "", "run only shard i of n (i/n), for a CI matrix")
	c.Flags().IntVar(&parallel, "parallel", 1, "runs at a time (each run is a cluster of its own)")
	c.Flags().DurationVar(&budget, "budget", 0, "a time budget: start an entry only while the time left holds one more run (a presubmit tier: as many seeds as fit); entries not started are left out and counted")
	c.Flags().StringVar(&out, "out", ".", "where to write suite.json and junit.xml")
	c.Flags().BoolVar(&list, "list", false, "list the runs (of this shard) and exit")
	c.Flags().StringVar(&recipe, "recipe", "", "run every entry with this recipe instead of the suite's (exec:PATH: a team's own campaigner in the presubmit suite)")
	return c
}

// writeSuiteResults prints the table and writes the suite's files; exit 1
// unless every run found what it should.
func writeSuiteResults(res suite.Results, out string) error {
	allMet, err := res.Write(out, os.Stdout)
	if err != nil {
		return setupError("%v", err)
	}
	if !allMet {
		return &exitError{code: exitInvalid}
	}
	return nil
}

func suiteMergeCmd() *cobra.Command {
	var out string
	var reread, markdown bool
	var tiers []time.Duration
	c := &cobra.Command{
		Use:   "suite-merge SUITE_JSON...",
		Short: "Join the suite.json of shards into one table, suite.json and junit.xml",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(tiers) > 0 {
				return printTiers(args, tiers)
			}
			merged, err := suite.Merge(args)
			if err != nil {
				return setupError("%v", err)
			}
			if reread {
				for i := range merged.Outcomes {
					if err := merged.Outcomes[i].Reread(); err != nil {
						return setupError("%v", err)
					}
				}
			}
			if markdown {
				_, err := io.WriteString(os.Stdout, suite.Markdown(merged))
				return err
			}
			return writeSuiteResults(merged, out)
		},
	}
	c.Flags().StringVar(&out, "out", ".", "where to write suite.json and junit.xml")
	c.Flags().BoolVar(&reread, "reread", false, "take each run's verdict from its results.json (after `harness check` with a newer checker)")
	c.Flags().BoolVar(&markdown, "markdown", false, "print the suite's table in Markdown and write nothing (docs/detection.md is made so)")
	c.Flags().DurationSliceVar(&tiers, "tiers", nil, "print, in Markdown, what each of these budgets caught in each budgeted suite run given (one row per file, not merged; docs/results/tiers.md is made so) and write nothing")
	return c
}

// printTiers prints the tier table of budgeted suite runs.
func printTiers(paths []string, budgets []time.Duration) error {
	var results []suite.Results
	for _, p := range paths {
		r, err := suite.ReadResults(p)
		if err != nil {
			return setupError("%v", err)
		}
		results = append(results, r)
	}
	md, err := suite.TierMarkdown(results, budgets)
	if err != nil {
		return setupError("%v", err)
	}
	_, err = io.WriteString(os.Stdout, md)
	return err
}
