package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/db/registry"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/reports"
)

// exitCodesHelp is the CLI's exit-code contract, for help texts.
const exitCodesHelp = `0 valid, 1 invalid (anomalies found), 2 unknown (could not be decided),
3 the harness could not run the test or check its history (the message says why),
4 the harness crashed: a panic or a fatal runtime error (out of memory) in the
checker, never a verdict (history.jsonl is kept, results.json is not written, and
the checker's output is in check-stderr.log in the run directory).`

func checkCmd() *cobra.Command {
	c := runDirCmd("check RUN_DIR", "Re-check a stored run offline; rewrite results.json, report.html and junit.xml",
		func(dir histories.RunDir, cfg RunConfig) error {
			if note := versionNote(cfg.HarnessVersion, harnessVersion()); note != "" {
				fmt.Fprintln(os.Stderr, note)
			}
			err := checkRun(dir, os.Stdout, false)
			var ee *exitError
			if errors.As(err, &ee) && ee.code == exitSetup {
				writeSetupJUnit(dir, cfg, err)
			}
			return err
		})
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
			out := &outputs{dir: dir}
			if err := writeReports(out, cfg, res, h.Events); err != nil {
				out.discard()
				return setupError("%v", err)
			}
			if err := out.commit(); err != nil {
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

// The check runs in a child process, check-child, so that a crash of the
// checker (a panic, or a fatal runtime error such as running out of
// memory, which the Go runtime reports with exit status 2, the code of
// "unknown") can never pass for a verdict. The child says its outcome
// with exit codes of its own; anything else is a crash.
const (
	checkChildCmdName = "check-child"
	// childExitBase + exitValid, exitInvalid, exitUnknown or exitSetup: the
	// check's outcome.
	childExitBase = 10
	// childCrashed: the checker panicked (and the child caught it).
	childCrashed = 14
	// childInterrupted: the child was interrupted (SIGINT or SIGTERM).
	childInterrupted = 15
)

// checkOutputs are the files a check writes, in the order they are put
// in place: results.json last, so that it is there only when the whole
// check is.
var checkOutputs = []string{histories.ReportFile, histories.JUnitFile, histories.ResultsFile}

// tmpSuffix marks an output being written.
const tmpSuffix = ".tmp"

// checkRun checks a run's history in a child process, which writes the
// results and reports and prints the summary to out; the verdict becomes
// the exit code, and a crash of the child exit 4.
func checkRun(dir histories.RunDir, out io.Writer, interrupted bool) error {
	self, err := os.Executable()
	if err != nil {
		return setupError("finding the harness binary to check with: %v", err)
	}
	// What an earlier check wrote claims a verdict this one has not
	// reached (yet).
	for _, f := range checkOutputs {
		for _, path := range []string{dir.Path(f), dir.Path(f + tmpSuffix)} {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return setupError("removing the earlier check's %s: %v", f, err)
			}
		}
	}
	logPath := dir.Path(histories.CheckLogFile)
	logf, err := os.Create(logPath)
	if err != nil {
		if logf, err = os.CreateTemp("", "harness-check-*.log"); err != nil {
			return setupError("creating the checker's log: %v", err)
		}
		logPath = logf.Name()
	}
	args := []string{checkChildCmdName, string(dir)}
	if interrupted {
		args = append(args, "--interrupted")
	}
	cmd := exec.Command(self, args...)
	cmd.Stdout, cmd.Stderr = out, logf
	runErr := cmd.Run()
	logf.Close()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(runErr, &ee):
		code = ee.ExitCode() // -1: killed by a signal
	case runErr != nil:
		os.Remove(logPath)
		return setupError("starting the checker: %v", runErr)
	}
	for _, f := range checkOutputs { // left by a check that did not finish
		os.Remove(dir.Path(f + tmpSuffix))
	}
	if code >= childExitBase && code <= childExitBase+exitSetup || code == childInterrupted {
		// An outcome: what the child said is the parent's to say.
		if b, err := os.ReadFile(logPath); err == nil {
			os.Stderr.Write(b)
		}
		os.Remove(logPath)
		switch code {
		case childExitBase + exitValid:
			return nil
		case childInterrupted:
			return setupError("interrupted while checking: results.json not written; history.jsonl is intact (`harness check %s` checks it)", dir)
		default:
			return &exitError{code: code - childExitBase}
		}
	}
	how := "exit status " + strconv.Itoa(code)
	switch {
	case code == childCrashed:
		how = "it panicked"
	case code < 0:
		how = ee.ProcessState.String() // "signal: killed"
	}
	if first := crashLine(logPath); first != "" {
		how += ": " + first
	}
	return &exitError{code: exitCrash, err: fmt.Errorf("the checker crashed (%s): no verdict; history.jsonl is intact and results.json was not written; the checker's output is in %s", how, logPath)}
}

// crashLine is the line of the child's output that says why it crashed.
func crashLine(logPath string) string {
	f, err := os.Open(logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			return l
		}
	}
	return ""
}

func checkChildCmd() *cobra.Command {
	var interrupted bool
	c := &cobra.Command{
		Use:    checkChildCmdName + " RUN_DIR",
		Short:  "Check a run as the child process of check and run (exit codes 10 + the verdict's, 14 crashed)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return checkChild(histories.RunDir(args[0]), interrupted)
		},
	}
	c.Flags().BoolVar(&interrupted, "interrupted", false, "the run was interrupted")
	return c
}

// checkChild is check-child: the check itself, its outcome as a private
// exit code.
func checkChild(dir histories.RunDir, interrupted bool) (err error) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "harness: %v while checking\n", s)
		os.Exit(childInterrupted)
	}()
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "panic: %v\n\n%s", r, debug.Stack())
			err = &exitError{code: childCrashed}
		}
	}()
	err = func() error {
		cfg, err := readConfig(dir)
		if err != nil {
			return setupError("%v", err)
		}
		return checkHistory(dir, cfg, os.Stdout, interrupted)
	}()
	code := exitValid
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		err = ee.err
	} else if err != nil {
		code = exitSetup
	}
	return &exitError{code: childExitBase + code, err: err}
}

// checkHistory checks a run's history and writes its results and
// reports: the reports aside, then all put in place, results.json last;
// then it prints the summary. The verdict becomes the exit code.
func checkHistory(dir histories.RunDir, cfg RunConfig, out io.Writer, interrupted bool) error {
	h, err := histories.ReadFile(dir.Path(histories.HistoryFile))
	if err != nil {
		return setupError("%v", err)
	}
	testCrash("check")
	res, err := checker.Check(context.Background(), h.Events, cfg.CheckerOptions())
	if err != nil {
		return setupError("%s: %v", dir.Path(histories.HistoryFile), err)
	}
	res.Truncated = h.Truncated
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return setupError("encoding results: %v", err)
	}
	o := &outputs{dir: dir}
	if err := writeReports(o, cfg, res, h.Events); err != nil {
		o.discard()
		return setupError("%v", err)
	}
	if err := o.write(histories.ResultsFile, func(path string) error { return os.WriteFile(path, append(b, '\n'), 0o644) }); err != nil {
		o.discard()
		return setupError("writing results: %v", err)
	}
	if err := o.commit(); err != nil {
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

// testCrash makes the checker crash where tests ask it to, with
// HARNESS_TEST_CRASH: "check" panics (the child catches it), "check-fatal"
// panics in another goroutine (the runtime's own exit 2, as running out
// of memory does), "check-kill" is killed (SIGKILL, as by the kernel's
// OOM killer); "report", "report-fatal" and "report-kill" do the same
// while the reports are written.
func testCrash(at string) {
	switch os.Getenv("HARNESS_TEST_CRASH") {
	case at:
		panic("HARNESS_TEST_CRASH=" + at)
	case at + "-kill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case at + "-fatal":
		done := make(chan struct{})
		go func() {
			defer close(done)
			panic("HARNESS_TEST_CRASH=" + at + "-fatal")
		}()
		<-done
	}
}

// outputs are files written aside (NAME.tmp) and put in place together.
type outputs struct {
	dir     histories.RunDir
	written []string
}

func (o *outputs) write(name string, write func(path string) error) error {
	o.written = append(o.written, name)
	return write(o.dir.Path(name + tmpSuffix))
}

// commit puts every file written in place, in the order written.
func (o *outputs) commit() error {
	for _, name := range o.written {
		if err := os.Rename(o.dir.Path(name+tmpSuffix), o.dir.Path(name)); err != nil {
			return fmt.Errorf("putting %s in place: %w", name, err)
		}
	}
	return nil
}

// discard removes every file written.
func (o *outputs) discard() {
	for _, name := range o.written {
		os.Remove(o.dir.Path(name + tmpSuffix))
	}
}

func writeReports(o *outputs, cfg RunConfig, res checker.Results, events []histories.Event) error {
	in := reports.Input{Title: cfg.Test, Facts: cfg.facts(), Config: cfg, Command: cfg.Command, Options: cfg.CheckerOptions(),
		Results: res, Events: events, NodeLogs: nodeLogs(o.dir),
		SuiteName: cfg.suiteName(), Started: cfg.Started, Hostname: cfg.hostname(), Properties: cfg.junitProperties(o.dir)}
	if err := o.write(histories.ReportFile, func(path string) error { return reports.WriteHTML(path, in) }); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	testCrash("report")
	if err := o.write(histories.JUnitFile, func(path string) error { return reports.WriteJUnit(path, in) }); err != nil {
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
