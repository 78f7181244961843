package run

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/cluster"
	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/registry"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/kube"
	"github.com/election-harness/harness/reports"
	"github.com/election-harness/harness/workloads"
)

// Options are how one run is carried out, as opposed to what it tests
// (Config).
type Options struct {
	// Backend starts the cluster and prepares its image; nil: Docker
	// (the engine DOCKER_HOST or the Docker context names).
	Backend cluster.Backend
	// Harness is the static harness binary every node image holds (its
	// agent); "" is this program, which must then be static.
	Harness string
	// HarnessVersion is recorded in config.json and the reports.
	HarnessVersion string
	// CheckCommand runs the check in a child process, so that a crash of
	// the checker is never taken for a verdict: the argv of
	// `harness check-child` without its arguments. Empty: the check runs
	// in this process (a panic is still caught and is a CrashError).
	CheckCommand []string
	// Stdout gets the summary; Stderr notes, the live status line and
	// warnings (a terminal gets the status line rewritten in place). Nil:
	// discarded.
	Stdout, Stderr io.Writer
	// Log gets every step (slog); nil: warnings to Stderr.
	Log *slog.Logger
	// OnRunDir is called once the run has its directory, with the run's
	// config (the CLI writes a junit.xml there if it is interrupted
	// twice).
	OnRunDir func(histories.RunDir, Config)
	// Script, if set, drives the campaigners in place of the workload and
	// the nemesis (the run's nemesis must be none): the campaigner check.
	// The run then heals, reads, records and checks as any run does.
	Script Script
}

// Script drives a run's campaigners itself, through env.
type Script func(ctx context.Context, env ScriptEnv) error

// ScriptEnv is what a Script drives: each campaigner's protocol
// connection (its events unread by anyone else), in the order they were
// started, and the cluster's database and members.
type ScriptEnv struct {
	Campaigners []*workloads.Conn
	Names       []string
	DB          db.DB
	Members     []db.Member
	Config      Config
	// Record adds an event to the run's history (a term the script
	// ended from outside, say), stamped with its index and time.
	Record func(histories.Event) histories.Event
}

// Result is what a run found.
type Result struct {
	// Config is the run's config.json.
	Config Config
	// Dir is the run's directory ("" if it never had one).
	Dir histories.RunDir
	// Verdict is the check's verdict ("" when the history was not
	// checked); Results the whole of results.json.
	Verdict checker.Verdict
	Results *checker.Results
	// Interrupted: ctx was cancelled before the run ended (Ctrl-C).
	Interrupted bool
	// Lost says what went from under the run, if its cluster did.
	Lost *cluster.Lost
	// ScriptErr is what Options.Script returned.
	ScriptErr error
}

func (o *Options) fill() {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(o.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
}

// Run runs one test: it validates cfg, prepares the node image, starts
// the cluster, runs the workload under the nemesis, heals every fault
// and removes the cluster on every exit path (ctx cancelled included),
// then checks the history and writes the reports. The verdict is in the
// Result; an error is a SetupError (the test could not run or be
// checked: cfg refused, a build failed, the cluster was lost, Docker
// was left with containers) or a CrashError (the checker crashed). A
// cancelled ctx is an interrupted run: what was recorded is checked,
// and the Result says Interrupted.
func Run(ctx context.Context, cfg Config, opts Options) (res Result, err error) {
	opts.fill()
	if err := cfg.absRecipe(); err != nil {
		return res, &SetupError{Err: err}
	}
	notes, err := cfg.Validate()
	if err != nil {
		return res, &SetupError{Err: err}
	}
	if opts.Script != nil && len(cfg.Nemesis) > 0 {
		return res, setupErrorf("a scripted run takes no nemesis (here %v)", cfg.Nemesis)
	}
	d, _ := registry.Lookup(cfg.DB)
	if err := CheckStore(cfg.Store); err != nil {
		return res, &SetupError{Err: err}
	}
	for _, n := range notes {
		fmt.Fprintf(opts.Stderr, "harness: note: --nemesis %s\n", n)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	backend := opts.Backend
	if backend == nil {
		if backend, err = cluster.NewDocker(runCtx, cluster.DockerOptions{}); err != nil {
			return res, &SetupError{Err: err}
		}
	}
	if err := supports(backend, cfg.Nemesis); err != nil {
		return res, &SetupError{Err: err}
	}
	harness := opts.Harness
	if harness == "" {
		if harness, err = StaticSelf(); err != nil {
			return res, &SetupError{Err: err}
		}
	}
	src := Source{Version: cfg.Version, Binary: cfg.Binary, Image: cfg.FromImage, Failpoints: cfg.Failpoints, Patches: cfg.Patches}
	if cfg.APIServers > 0 {
		if src.KubeAPIServer, err = kube.Build(runCtx, cfg.KubeVersion, cfg.CacheDir, opts.Stderr); err != nil {
			return res, setupErrorf("building kube-apiserver %s: %v", cfg.KubeVersion, err)
		}
	}
	image, err := PrepareImage(runCtx, backend, d, src, cfg.CacheDir, harness, opts.Stderr)
	if err != nil {
		return res, &SetupError{Err: err}
	}

	cfg.RunID = newRunID()
	cfg.Test, cfg.Started, cfg.Image = testName(d.Name(), cfg.Recipe, cfg.Nemesis), time.Now().UTC(), image.Name
	// No leading "/": Consul's HTTP API takes keys as URL paths.
	prefix := fmt.Sprintf("eh/%s/", cfg.RunID)
	cfg.ElectionPrefix, cfg.RegisterPrefix, cfg.RegisterKey = prefix+"election/", prefix+"register/", prefix+"register/r"
	cfg.LeaseExpiry, cfg.LivenessBound = Duration(d.LeaseExpiry(time.Duration(cfg.TTL))), Duration(d.LivenessBound(time.Duration(cfg.TTL)))
	cfg.HarnessVersion = opts.HarnessVersion
	cfg.Hostname, _ = os.Hostname()
	cfg.Command = cfg.CommandLine()
	res.Config = cfg
	dir, err := histories.NewRunDir(cfg.Store, cfg.Test, cfg.Started)
	if err != nil {
		return res, &SetupError{Err: err}
	}
	res.Dir = dir
	if opts.OnRunDir != nil {
		opts.OnRunDir(dir, cfg)
	}
	defer func() {
		if IsSetup(err) {
			WriteSetupJUnit(dir, cfg, err, opts.Stderr)
		}
	}()
	if err := WriteConfig(dir, cfg); err != nil {
		return res, &SetupError{Err: err}
	}
	rec, err := histories.NewRecorder(dir.Path(histories.HistoryFile))
	if err != nil {
		return res, &SetupError{Err: err}
	}
	defer rec.Close()
	// The store's index lists this run however it ends.
	defer func() {
		if err := reports.WriteIndex(cfg.Store); err != nil {
			fmt.Fprintf(opts.Stderr, "harness: updating the store's index: %v\n", err)
		}
	}()

	r := &runner{cfg: cfg, db: d, dir: dir, rec: rec, log: opts.Log, stderr: opts.Stderr, live: workloads.NewLive(), stop: cancel, script: opts.Script}
	rec.OnRecord(r.live.Observe)
	runErr := r.run(runCtx, backend)
	if cerr := rec.Close(); cerr != nil && runErr == nil {
		runErr = cerr
	}
	res.Interrupted = ctx.Err() != nil
	res.ScriptErr = r.scriptErr
	checkOpts := CheckOptions{Command: opts.CheckCommand, Stdout: opts.Stdout, Stderr: opts.Stderr, Interrupted: res.Interrupted}
	if l := r.lost.Load(); l != nil {
		res.Lost = l
		return r.lostVerdict(*l, runErr, checkOpts, &res)
	}
	var leftBehind *cleanupError
	if errors.As(runErr, &leftBehind) && !res.Interrupted {
		// The test ran to its end: check it and write its report, so that
		// nothing is lost, then fail for what the machine was left with.
		if err := res.check(checkOpts); err != nil {
			if IsCrash(err) {
				fmt.Fprintf(opts.Stderr, "harness: %v\n", runErr)
			}
			return res, err
		}
		return res, &SetupError{Err: runErr}
	}
	if runErr != nil && !res.Interrupted {
		fmt.Fprintf(opts.Stderr, "run directory: %s\n", dir)
		return res, &SetupError{Err: runErr}
	}
	return res, res.check(checkOpts)
}

// check checks the run's history and fills in the verdict.
func (res *Result) check(opts CheckOptions) error {
	results, err := Check(res.Dir, opts)
	if err != nil {
		return err
	}
	res.Verdict, res.Results = results.Valid, &results
	return nil
}

// supports refuses kinds the backend cannot inject.
func supports(b cluster.Backend, kinds []string) error {
	caps := b.Capabilities()
	for _, k := range kinds {
		kind, _, _ := strings.Cut(k, ":")
		if kind == "freeze" && !caps.Freeze {
			return fmt.Errorf("--nemesis freeze: the %s backend cannot freeze a node", b.Name())
		}
		if kind == "throttle" && !caps.Throttle {
			return fmt.Errorf("--nemesis throttle: the %s backend cannot cap a node's CPU", b.Name())
		}
	}
	return nil
}

// WriteSetupJUnit records in the run directory's junit.xml that the
// harness could not run or check the test, or was interrupted (exit 3):
// a CI job that reads junit.xml sees an error, never a missing file or a
// green suite. A junit.xml already there holds a verdict the check
// reached (the run ended, then its cluster could not be removed): the
// error is added to it as a test case of its own.
func WriteSetupJUnit(dir histories.RunDir, cfg Config, cause error, stderr io.Writer) {
	setupJUnitMu.Lock()
	defer setupJUnitMu.Unlock()
	tc := reports.JUnitCase{Name: "harness setup and cleanup", Classname: "election." + cfg.Test,
		Error: &reports.JUnitProblem{Message: "setup failed (exit 3): " + cause.Error(), Type: "setup",
			Body: "The harness could not run or check the test, or it was interrupted: this is no verdict on the recipe or the database.\n" + cause.Error() + "\n"}}
	path := dir.Path(histories.JUnitFile)
	var err error
	if _, serr := os.Stat(path); serr == nil {
		err = reports.AddJUnitCase(path, tc)
	} else {
		tmp := path + tmpSuffix
		err = reports.WriteJUnitSuite(tmp, reports.JUnitSuite{Name: cfg.SuiteName(), Package: "election", Started: cfg.Started,
			Hostname: cfg.hostname(), Duration: time.Since(cfg.Started), Properties: cfg.junitProperties(dir), Cases: []reports.JUnitCase{tc},
			SystemOut: "SETUP FAILED (exit 3): " + cause.Error() + "\n"})
		if err == nil {
			err = os.Rename(tmp, path)
		}
	}
	if err != nil && stderr != nil {
		fmt.Fprintf(stderr, "harness: writing junit.xml of the failed setup: %v\n", err)
	}
}

// setupJUnitMu keeps two writers of one junit.xml (an exit path and a
// second Ctrl-C) apart.
var setupJUnitMu sync.Mutex

func newRunID() string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}
