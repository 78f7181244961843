package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/election-harness/harness/db/registry"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/run"
)

func runCmd() *cobra.Command {
	cfg := run.NewConfig()
	var verbose bool
	c := &cobra.Command{
		Use:   "run",
		Short: "Run one test: cluster, campaigners, nemesis, check, report",
		Long: `Run one test and exit with its verdict.

Everything that can be checked before a build or a container is: a duration
given must be positive (leave a flag out for its default); a rule named as
KIND:RULE must be able to run with --nodes (` + "`harness faults`" + ` lists the rules and
what they need; it is never replaced by another); the fault plan, a function
of --seed, --nemesis, --nemesis-interval, --time-limit and the TTL, must
deal at least ` + fmt.Sprint(run.MinFaults) + ` faults (about one every two intervals after a quiet
first one), or the run would test little under failure (--nemesis none is
allowed, and says it tested nothing under failure); --store must be
writable. Any of these exits 3 at once.

Exit codes:
` + exitCodesHelp,
		Example: `  harness run                                        # the default database, partition,pause,kill,pause:random-campaigner
  harness run --nemesis pause:election-leader --seed 7
` + otherDBExamples() + `  harness run --nodes 5 --nemesis partition:majorities-ring --time-limit 120s
  harness run --recipe exec:./campaigner --nemesis none --time-limit 30s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			given := givenFlags(cmd)
			if err := cfg.CheckGiven(func(f string) bool { return given[f] }); err != nil {
				return setupError("%v", err)
			}
			return runTest(cmd.Context(), cfg, verbose)
		},
	}
	cfg.Flags(c.Flags())
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, "log every step")
	return c
}

// givenFlags are the flags given on c's command line.
func givenFlags(c *cobra.Command) map[string]bool {
	given := map[string]bool{}
	c.Flags().Visit(func(fl *pflag.Flag) { given[fl.Name] = true })
	return given
}

// runTest is `harness run`: Ctrl-C interrupts the run (which heals its
// faults, removes its cluster and checks what it recorded); a second
// Ctrl-C abandons it. The verdict becomes the exit code.
func runTest(parent context.Context, cfg run.Config, verbose bool) error {
	logLevel := slog.LevelWarn
	if verbose {
		logLevel = slog.LevelInfo
	}
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	defer signal.Stop(sigs)
	// abandoned is what a second Ctrl-C does before it exits: once there
	// is a run directory, write its junit.xml.
	var mu sync.Mutex
	abandoned := func() {}
	go func() {
		select {
		case <-sigs:
			fmt.Fprintln(os.Stderr, "\ninterrupted: healing faults and removing containers (Ctrl-C again abandons them; `harness clean` removes them later)")
			cancel()
		case <-ctx.Done():
			return
		}
		<-sigs
		mu.Lock()
		abandoned()
		os.Exit(exitSetup)
	}()
	self, err := os.Executable()
	if err != nil {
		return setupError("finding the harness binary: %v", err)
	}
	opts := run.Options{
		// The node images' agent is this binary, once Run has checked
		// the settings (and that it is static).
		HarnessVersion: harnessVersion(), CheckCommand: []string{self, checkChildCmdName},
		Stdout: os.Stdout, Stderr: os.Stderr,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel})),
		OnRunDir: func(dir histories.RunDir, cfg run.Config) {
			mu.Lock()
			defer mu.Unlock()
			abandoned = func() {
				run.WriteSetupJUnit(dir, cfg, errors.New("interrupted twice: the run was abandoned, its containers left behind (`harness clean` removes them)"), os.Stderr)
			}
		},
	}
	res, err := run.Run(ctx, cfg, opts)
	if err != nil {
		return runError(err)
	}
	if res.Results != nil && res.Results.Gate != nil && res.Results.Gate.Passed {
		return nil // the gate policy accepted every anomaly (printed)
	}
	return verdictError(res.Verdict)
}

// otherDBExamples are example runs of the databases other than the
// default, one line each, from the registry.
func otherDBExamples() string {
	var b strings.Builder
	for _, d := range registry.All()[1:] {
		fmt.Fprintf(&b, "  harness run --db %s --recipe %s --nemesis partition,clock\n", d.Name(), d.Defaults().Recipe)
	}
	return b.String()
}
