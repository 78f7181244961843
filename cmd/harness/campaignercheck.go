package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/election-harness/harness/conformance"
	"github.com/election-harness/harness/db/registry"
	"github.com/election-harness/harness/run"
)

func campaignerCheckCmd() *cobra.Command {
	cfg := run.NewConfig()
	c := &cobra.Command{
		Use:   "campaigner-check RECIPE",
		Short: "Check a campaigner against the protocol in seconds (exec:PATH, or a built-in recipe), before a long run",
		Long: `Check a campaigner against the campaigner protocol on a small cluster of
its own, without faults, in about a minute: two campaigners are driven step by
step (ready; a campaign won with a token the database's terms are made of;
observe; the leader's write and a read of it; an act; a campaign while
leading; a second campaign that waits; the term's session ended by the store;
lost; a write refused after the loss; no stale term; the next campaigner
wins; resign), and each rule is printed held, declined (an optional command)
or BROKEN, naming its section of docs/campaigner-protocol.md. The run's
history is then checked as any run's.

Exit codes: 0 every rule held (and the history is not INVALID), 1 a rule
broke (or the history is INVALID), 3 the check could not run.`,
		Example: campaignerCheckExamples(),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Recipe = args[0]
			ctx, stop := untilStopSignal(context.Background())
			defer stop()
			self, err := os.Executable()
			if err != nil {
				return setupError("finding the harness binary: %v", err)
			}
			report, res, err := conformance.Run(ctx, cfg, run.Options{HarnessVersion: harnessVersion(), CheckCommand: []string{self, checkChildCmdName},
				Stderr: os.Stderr, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
			if err != nil && len(report.Broken()) == 0 {
				return runError(err)
			}
			fmt.Print(report)
			if err != nil {
				// A broken campaigner can leave a history the checker
				// refuses (a token outside the election prefix): the
				// broken rule is the finding.
				fmt.Printf("\nthe check's history could not be judged: %v\n", err)
			}
			if res.Results != nil {
				fmt.Printf("\nthe check's history: %s (%s)\nrun directory: %s\n", res.Verdict, res.Results.Summary, res.Dir)
			}
			if !report.Passed() {
				fmt.Printf("\n%d rule(s) broken; the rules after a broken one are not reached\n", len(report.Broken()))
				return &exitError{code: exitInvalid}
			}
			if res.Verdict == "invalid" {
				return &exitError{code: exitInvalid}
			}
			fmt.Println("\nevery rule held")
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&cfg.DB, "db", cfg.DB, "database")
	fl.StringVar(&cfg.Version, "version", cfg.Version, "database version (default: the pinned one)")
	fl.DurationVar((*time.Duration)(&cfg.TTL), "ttl", time.Duration(cfg.TTL), "session (lease) TTL (default: the database's)")
	fl.IntVar(&cfg.Nodes, "nodes", cfg.Nodes, "database members")
	fl.StringVar(&cfg.Store, "store", cfg.Store, "directory of run results")
	fl.StringVar(&cfg.CacheDir, "cache", cfg.CacheDir, "cache of built database binaries")
	return c
}

// campaignerCheckExamples: a user's campaigner on each database, and the
// default database's built-in recipe.
func campaignerCheckExamples() string {
	var b strings.Builder
	for _, d := range registry.All() {
		fmt.Fprintf(&b, "  harness campaigner-check exec:./bin/my-campaigner --db %s\n", d.Name())
	}
	fmt.Fprintf(&b, "  harness campaigner-check %s", registry.Default().Defaults().Recipe)
	return b.String()
}
