// Command harness is a Jepsen-style fault-injection harness for
// leader-election correctness on etcd and Consul: it starts a real
// cluster in containers, runs competing campaigners under a nemesis,
// records a history, checks it and writes a report (run, check, report,
// serve, suite, suite-merge, build, clean, version). It is also the
// in-node entry point inside every node image: agent, clock-tracer,
// campaigner.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/db/registry"
	"github.com/election-harness/harness/run"
)

// Exit codes of the CLI contract.
const (
	exitValid   = 0
	exitInvalid = 1
	exitUnknown = 2
	exitSetup   = 3
	// exitCrash: the harness crashed (a panic; in the checker, also a
	// fatal runtime error such as running out of memory). Never a verdict.
	exitCrash = 4
)

// stopSignals end a command gracefully: Ctrl-C, and the SIGTERM a
// container runtime or CI runner sends before it kills.
var stopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM}

// untilStopSignal is parent until a stop signal arrives, so that the
// command winds down (heals, cleans up) as on any cancellation.
func untilStopSignal(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, stopSignals...)
}

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error // nil: exit silently with code
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// setupError is a failure to run the test at all (exit 3).
func setupError(format string, args ...any) error {
	return &exitError{code: exitSetup, err: fmt.Errorf(format, args...)}
}

func main() {
	// A panic that reaches here is a crash, not the runtime's exit 2,
	// which would read as "unknown". (Deferred cleanups have run.)
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "panic: %v\n\n%s\nharness: crashed (a bug): no verdict\n", r, debug.Stack())
			os.Exit(exitCrash)
		}
	}()
	code, msg := exitCode(newRoot().Execute())
	if msg != "" {
		fmt.Fprintln(os.Stderr, "harness:", msg)
	}
	os.Exit(code)
}

// newRoot is the harness command with all its subcommands.
func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "harness",
		Short:         "Fault-injection harness for leader election on " + strings.Join(registry.Names(), " and "),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(runCmd(), campaignerCheckCmd(), checkCmd(), reportCmd(), serveCmd(), suiteCmd(), suiteMergeCmd(), bisectCmd(), faultsCmd(), buildCmd(), cleanCmd(), agentCmd(), clockTracerCmd(), campaignerCmd(), checkChildCmd(), versionCmd(), referenceCmd())
	return root
}

// exitCode is the exit code of what a command returned, and the message
// to print ("" for none).
func exitCode(err error) (int, string) {
	if err == nil {
		return exitValid, ""
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			return ee.code, ee.err.Error()
		}
		return ee.code, ""
	}
	// Flag and argument errors from cobra: the harness could not run.
	return exitSetup, err.Error()
}

// runError is the exit code of an error of the engine: a crash of the
// checker exits 4, anything else 3 (no verdict).
func runError(err error) error {
	if run.IsCrash(err) {
		return &exitError{code: exitCrash, err: err}
	}
	return &exitError{code: exitSetup, err: err}
}

// verdictError is the exit code of a verdict.
func verdictError(v checker.Verdict) error {
	switch v {
	case checker.Valid:
		return nil
	case checker.Invalid:
		return &exitError{code: exitInvalid}
	default:
		return &exitError{code: exitUnknown}
	}
}
