package run

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

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/reports"
)

// CheckOptions are how a history is checked.
type CheckOptions struct {
	// Command is the argv of `harness check-child` without its
	// arguments. The check runs in that child process, so that a crash
	// of the checker can never pass for a verdict. Such a crash is a
	// panic, or a fatal runtime error such as running out of memory,
	// which the Go runtime reports with exit status 2. Empty means in
	// this process.
	Command []string
	// Stdout gets the summary, Stderr the checker's notes.
	Stdout, Stderr io.Writer
	// Interrupted: the run did not reach its end.
	Interrupted bool
	// FailOn, if set, is the gate policy this check applies instead of
	// the run's own (config.json is left as it is).
	FailOn string
}

// The child says its outcome with exit codes of its own; anything else
// is a crash.
const (
	// childExitBase + childValid, childInvalid, childUnknown or
	// childSetup: the check's outcome.
	childExitBase = 10
	childValid    = 0
	childInvalid  = 1
	childUnknown  = 2
	childSetup    = 3
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

// Check checks a run's history and writes its results and reports, then
// prints the summary to opts.Stdout. What an earlier check wrote is
// removed first; results.json is written last, only with a complete
// verdict. An error is a SetupError (the history or config cannot be
// read or is malformed; it cannot be written) or a CrashError.
func Check(dir histories.RunDir, opts CheckOptions) (checker.Results, error) {
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	// What an earlier check wrote claims a verdict this one has not
	// reached (yet).
	for _, f := range checkOutputs {
		for _, path := range []string{dir.Path(f), dir.Path(f + tmpSuffix)} {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return checker.Results{}, setupErrorf("removing the earlier check's %s: %v", f, err)
			}
		}
	}
	if len(opts.Command) == 0 {
		return checkInProcess(dir, opts)
	}
	if err := checkInChild(dir, opts); err != nil {
		return checker.Results{}, err
	}
	return ReadResults(dir)
}

// checkInProcess is the check in this process: a panic is a crash.
func checkInProcess(dir histories.RunDir, opts CheckOptions) (res checker.Results, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &CrashError{fmt.Errorf("the checker crashed (it panicked: %v): no verdict; history.jsonl is intact and results.json was not written\n%s", r, debug.Stack())}
		}
	}()
	cfg, err := checkConfig(dir, opts.FailOn)
	if err != nil {
		return res, err
	}
	return checkHistory(dir, cfg, opts.Stdout, opts.Interrupted)
}

// checkConfig reads the config a check judges by: the run's, with the
// gate policy failOn if set. A config without what the checker needs is
// refused, never judged.
func checkConfig(dir histories.RunDir, failOn string) (Config, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return cfg, &SetupError{Err: err}
	}
	if missing := histories.RunConfig(cfg).MissingForCheck(); len(missing) > 0 {
		return cfg, setupErrorf("%s lacks what the checker needs: %s (empty or zero); a history is not judged without them", dir.Path(histories.ConfigFile), strings.Join(missing, ", "))
	}
	if failOn != "" {
		cfg.FailOn = failOn
	}
	if err := cfg.checkFailOn(); err != nil {
		return cfg, &SetupError{Err: err}
	}
	return cfg, nil
}

// checkInChild runs the check as `check-child`, and turns its exit code
// into an error (nil: a verdict was reached and written).
func checkInChild(dir histories.RunDir, opts CheckOptions) error {
	logPath := dir.Path(histories.CheckLogFile)
	logf, err := os.Create(logPath)
	if err != nil {
		if logf, err = os.CreateTemp("", "harness-check-*.log"); err != nil {
			return setupErrorf("creating the checker's log: %v", err)
		}
		logPath = logf.Name()
	}
	args := append(append([]string{}, opts.Command[1:]...), string(dir))
	if opts.Interrupted {
		args = append(args, "--interrupted")
	}
	if opts.FailOn != "" {
		args = append(args, "--fail-on", opts.FailOn)
	}
	cmd := exec.Command(opts.Command[0], args...)
	cmd.Stdout, cmd.Stderr = opts.Stdout, logf
	runErr := cmd.Run()
	logf.Close()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(runErr, &ee):
		code = ee.ExitCode() // -1: killed by a signal
	case runErr != nil:
		os.Remove(logPath)
		return setupErrorf("starting the checker: %v", runErr)
	}
	for _, f := range checkOutputs { // left by a check that did not finish
		os.Remove(dir.Path(f + tmpSuffix))
	}
	if code >= childExitBase && code <= childExitBase+childSetup || code == childInterrupted {
		// An outcome: what the child said is the parent's to say.
		b, _ := os.ReadFile(logPath)
		os.Remove(logPath)
		switch code {
		case childExitBase + childSetup:
			return &SetupError{Err: errors.New(strings.TrimSpace(strings.TrimPrefix(lastLine(string(b)), "harness: ")))}
		case childInterrupted:
			opts.Stderr.Write(b)
			return setupErrorf("interrupted while checking: results.json not written; history.jsonl is intact (`harness check %s` checks it)", dir)
		default:
			opts.Stderr.Write(b)
			return nil
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
	return &CrashError{fmt.Errorf("the checker crashed (%s): no verdict; history.jsonl is intact and results.json was not written; the checker's output is in %s", how, logPath)}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
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

// CheckChild is `harness check-child`: the check itself, in the child
// process Check starts, its outcome as the process's exit code (and a
// setup error's message as the last line of stderr).
func CheckChild(dir histories.RunDir, interrupted bool, failOn string) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "harness: %v while checking\n", s)
		os.Exit(childInterrupted)
	}()
	code := func() (code int) {
		defer func() {
			if r := recover(); r != nil {
				fmt.Fprintf(os.Stderr, "panic: %v\n\n%s", r, debug.Stack())
				code = childCrashed
			}
		}()
		cfg, err := checkConfig(dir, failOn)
		if err != nil {
			fmt.Fprintf(os.Stderr, "harness: %v\n", err)
			return childExitBase + childSetup
		}
		res, err := checkHistory(dir, cfg, os.Stdout, interrupted)
		if err != nil {
			fmt.Fprintf(os.Stderr, "harness: %v\n", err)
			return childExitBase + childSetup
		}
		switch res.Valid {
		case checker.Valid:
			return childExitBase + childValid
		case checker.Invalid:
			return childExitBase + childInvalid
		default:
			return childExitBase + childUnknown
		}
	}()
	return code
}

// checkHistory checks a run's history and writes its results and
// reports: the reports aside, then all put in place, results.json last;
// then it prints the summary.
func checkHistory(dir histories.RunDir, cfg Config, out io.Writer, interrupted bool) (checker.Results, error) {
	h, err := histories.ReadFile(dir.Path(histories.HistoryFile))
	if err != nil {
		return checker.Results{}, &SetupError{Err: err}
	}
	testCrash("check")
	res, err := checker.Check(context.Background(), h.Events, cfg.CheckerOptions())
	if err != nil {
		return res, setupErrorf("%s: %v", dir.Path(histories.HistoryFile), err)
	}
	res.Truncated = h.Truncated
	judge(&res, cfg)
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return res, setupErrorf("encoding results: %v", err)
	}
	o := &outputs{dir: dir}
	if err := writeReports(o, cfg, res, h.Events); err != nil {
		o.discard()
		return res, &SetupError{Err: err}
	}
	if err := o.write(histories.ResultsFile, func(path string) error { return os.WriteFile(path, append(b, '\n'), 0o644) }); err != nil {
		o.discard()
		return res, setupErrorf("writing results: %v", err)
	}
	if err := o.commit(); err != nil {
		return res, &SetupError{Err: err}
	}
	printSummary(out, dir, res, len(h.Events), h.Truncated, interrupted)
	return res, nil
}

// ReadResults reads a run's results.json.
func ReadResults(dir histories.RunDir) (checker.Results, error) {
	var res checker.Results
	b, err := os.ReadFile(dir.Path(histories.ResultsFile))
	if err != nil {
		return res, err
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return res, fmt.Errorf("%s: %w", dir.Path(histories.ResultsFile), err)
	}
	return res, nil
}

// Report re-renders report.html and junit.xml from a run's results.json.
func Report(dir histories.RunDir) error {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return &SetupError{Err: err}
	}
	res, err := ReadResults(dir)
	if err != nil {
		return setupErrorf("reading results: %v (run `harness check %s` first)", err, dir)
	}
	h, err := histories.ReadFile(dir.Path(histories.HistoryFile))
	if err != nil {
		return &SetupError{Err: err}
	}
	out := &outputs{dir: dir}
	if err := writeReports(out, cfg, res, h.Events); err != nil {
		out.discard()
		return &SetupError{Err: err}
	}
	if err := out.commit(); err != nil {
		return &SetupError{Err: err}
	}
	return nil
}

// testCrash makes the checker crash where tests ask it to, with
// HARNESS_TEST_CRASH. "check" panics, and the child catches it.
// "check-fatal" panics in another goroutine, which ends in the runtime's
// own exit 2, as running out of memory does. "check-kill" is killed with
// SIGKILL, as by the kernel's OOM killer. "report", "report-fatal" and
// "report-kill" do the same while the reports are written.
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

func writeReports(o *outputs, cfg Config, res checker.Results, events []histories.Event) error {
	in := reports.Input{Title: cfg.Test, Facts: cfg.Facts(), Config: cfg, Command: cfg.Command, Options: cfg.CheckerOptions(),
		Results: res, Events: events, NodeLogs: nodeLogs(o.dir),
		SuiteName: cfg.SuiteName(), Started: cfg.Started, Hostname: cfg.hostname(), Properties: cfg.junitProperties(o.dir)}
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
			tag = reports.Informational
		}
		fmt.Fprintf(w, "  %-13s %-40s %s\n", tag, c.Name, strings.Join(counts, " "))
	}
	if s := firstStory(res); s != "" {
		fmt.Fprintf(w, "\n  first anomaly: %s\n", s)
	}
	if res.Whose != "" {
		fmt.Fprintf(w, "  whose: %s\n", res.Whose)
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
	if g := res.Gate; g != nil && g.FailOn != FailOnAll {
		if g.Passed {
			for _, a := range g.Accepted {
				fmt.Fprintf(w, "warning: accepted by --fail-on %s: %s\n", g.FailOn, a)
			}
			fmt.Fprintf(w, "GATE PASSED (--fail-on %s): every anomaly is one the policy accepts (%d, each printed above); the verdict stays %s\n", g.FailOn, len(g.Accepted), res.Valid)
		} else {
			fmt.Fprintf(w, "GATE FAILED (--fail-on %s): %s\n", g.FailOn, g.Failing)
		}
	}
}

// firstStory is the first anomaly's story sentence (who, when, under
// which fault), "" when no check failed the run.
func firstStory(res checker.Results) string {
	for _, c := range res.Checks {
		if c.Verdict == checker.Invalid && !c.Informational && len(c.Evidence) > 0 && c.Evidence[0].Story != nil {
			if w := checker.BlameLine(c.Evidence[0].Blame); w != "" {
				return w + ": " + c.Evidence[0].Story.Sentence
			}
			return c.Evidence[0].Story.Sentence
		}
	}
	return ""
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
