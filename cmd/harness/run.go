package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/cluster"
	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/registry"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/wait"
	"github.com/election-harness/harness/nemesis"
	"github.com/election-harness/harness/reports"
	"github.com/election-harness/harness/workloads"
)

type runFlags struct {
	db                  string
	src                 dbSource
	nodes, campaigners  int
	recipe              string
	ttl                 time.Duration
	nemesis             string
	interval, timeLimit time.Duration
	seed                int64
	store, cacheDir     string
	consistency         string
	verbose             bool
	// explicit are the flags given on the command line: a duration
	// given must be positive, where one left out takes the default.
	explicit map[string]bool
	// notes are what validate found worth saying once at the start: the
	// rules of a kind dealt at random that degrade with --nodes.
	notes []string
}

func runCmd() *cobra.Command {
	var f runFlags
	return runCmdWith(&f, func(cmd *cobra.Command) error { return runTest(cmd.Context(), f) })
}

// runCmdWith is `harness run` parsing its flags into f; suites parse
// their entries with it, so an entry is checked as its run would be.
func runCmdWith(f *runFlags, run func(cmd *cobra.Command) error) *cobra.Command {
	c := &cobra.Command{
		Use:   "run",
		Short: "Run one test: cluster, campaigners, nemesis, check, report",
		Long: `Run one test and exit with its verdict.

Everything that can be checked before a build or a container is: a duration
given must be positive (leave a flag out for its default); a rule named as
KIND:RULE must be able to run with --nodes (` + "`harness faults`" + ` lists the rules and
what they need; it is never replaced by another); the fault plan, a function
of --seed, --nemesis, --nemesis-interval, --time-limit and the TTL, must
deal at least ` + fmt.Sprint(minFaults) + ` faults (about one every two intervals after a quiet
first one), or the run would test little under failure (--nemesis none is
allowed, and says it tested nothing under failure); --store must be
writable. Any of these exits 3 at once.

Exit codes:
` + exitCodesHelp,
		Example: `  harness run                                        # ` + registry.Default().Name() + `, partition,pause,kill, 90 s
  harness run --nemesis pause:election-leader --seed 7
  harness run --db consul --recipe consul-session --nemesis partition,clock
  harness run --nodes 5 --nemesis partition:majorities-ring --time-limit 120s
  harness run --recipe exec:./campaigner --nemesis none --time-limit 30s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.explicit = givenFlags(cmd)
			return run(cmd)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.db, "db", registry.Default().Name(), "database: "+registry.Or(registry.Names()))
	f.src.flags(fl)
	fl.IntVar(&f.nodes, "nodes", 3, "database members (3 or 5)")
	fl.IntVar(&f.campaigners, "campaigners", 5, "competing campaigners")
	fl.StringVar(&f.recipe, "recipe", "", "election recipe: "+strings.Join(registry.Recipes().Names(), ", ")+", or exec:PATH (your own campaigner) (default "+registry.DefaultRecipes()+")")
	fl.DurationVar(&f.ttl, "ttl", 0, "session (lease) TTL (default "+perDB(func(d db.Defaults) time.Duration { return d.TTL })+")")
	fl.StringVar(&f.consistency, "consistency", "", "read consistency, for "+registry.ReadModesHelp()+" (default: the first)")
	fl.StringVar(&f.nemesis, "nemesis", "partition,pause,kill", "faults: a comma-separated list of "+strings.Join(nemesis.Kinds, ", ")+" (KIND:RULE for one rule of a kind), or none")
	fl.DurationVar(&f.interval, "nemesis-interval", 0, "mean time between faults (default "+perDB(func(d db.Defaults) time.Duration { return d.NemesisInterval })+")")
	fl.DurationVar(&f.timeLimit, "time-limit", 0, "how long the workload runs under faults (default "+perDB(func(d db.Defaults) time.Duration { return d.TimeLimit })+")")
	fl.Int64Var(&f.seed, "seed", 1, "seed of the fault schedule and the workload")
	fl.StringVar(&f.store, "store", "store", "directory of run results")
	fl.StringVar(&f.cacheDir, "cache", db.DefaultCacheDir(), "cache of built database binaries")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log every step")
	return c
}

// parseRunFlags parses `harness run`'s flags as the command does,
// without running anything.
func parseRunFlags(args []string) (runFlags, error) {
	var f runFlags
	c := runCmdWith(&f, nil)
	if err := c.ParseFlags(args); err != nil {
		return f, err
	}
	f.explicit = givenFlags(c)
	return f, nil
}

// givenFlags are the flags given on c's command line.
func givenFlags(c *cobra.Command) map[string]bool {
	given := map[string]bool{}
	c.Flags().Visit(func(fl *pflag.Flag) { given[fl.Name] = true })
	return given
}

// minFaults is the fewest faults a run with a nemesis must plan: fewer,
// and a valid verdict would say little about failure.
const minFaults = 3

// validate checks flag values before anything is started, filling in
// the database's defaults for those left out. It starts, builds and
// writes nothing, and takes no time: a run it refuses exits at once.
func (f *runFlags) validate() (db.DB, []string, error) {
	d, err := registry.Lookup(f.db)
	if err != nil {
		return nil, nil, err
	}
	def := d.Defaults()
	for _, dur := range []struct {
		flag string
		v    time.Duration
		def  time.Duration
	}{{"ttl", f.ttl, def.TTL}, {"time-limit", f.timeLimit, def.TimeLimit}, {"nemesis-interval", f.interval, def.NemesisInterval}} {
		if f.explicit[dur.flag] && dur.v <= 0 {
			return nil, nil, fmt.Errorf("--%s %v: want a positive duration (leave --%s out for %s's default, %v)", dur.flag, dur.v, dur.flag, d.Name(), dur.def)
		}
	}
	if f.recipe == "" {
		f.recipe = def.Recipe
	}
	if f.ttl == 0 {
		f.ttl = def.TTL
	}
	if f.timeLimit == 0 {
		f.timeLimit = def.TimeLimit
	}
	if f.interval == 0 {
		f.interval = def.NemesisInterval
	}
	if f.consistency, err = registry.ReadMode(d, f.consistency); err != nil {
		return nil, nil, err
	}
	if f.nodes < 1 || f.nodes > 9 {
		return nil, nil, fmt.Errorf("--nodes %d: want 1 to 9 members (3 or 5 are usual)", f.nodes)
	}
	if f.campaigners < 1 || f.campaigners > 32 {
		return nil, nil, fmt.Errorf("--campaigners %d: want 1 to 32", f.campaigners)
	}
	info, err := registry.RecipeFor(f.recipe, d.Name())
	if err != nil {
		return nil, nil, fmt.Errorf("--recipe: %w", err)
	}
	if info.Exec != "" {
		if err := checkStatic(info.Exec); err != nil {
			return nil, nil, fmt.Errorf("--recipe: %w; node images are FROM scratch: build it with CGO_ENABLED=0", err)
		}
	}
	if f.ttl < def.MinTTL {
		return nil, nil, fmt.Errorf("--ttl %v: want at least %v for %s", f.ttl, def.MinTTL, d.Name())
	}
	kinds, err := nemesis.ParseKinds(f.nemesis)
	if err != nil {
		return nil, nil, fmt.Errorf("--nemesis: %w", err)
	}
	for _, k := range kinds {
		kind, _, _ := strings.Cut(k, ":")
		if slices.Contains(db.Unsupported(d), kind) {
			return nil, nil, fmt.Errorf("--nemesis %s: not supported for %s", kind, d.Name())
		}
	}
	if f.timeLimit < 5*time.Second {
		return nil, nil, fmt.Errorf("--time-limit %v: want at least 5s", f.timeLimit)
	}
	if len(kinds) > 0 && f.interval < time.Second {
		return nil, nil, fmt.Errorf("--nemesis-interval %v: want at least 1s", f.interval)
	}
	if f.notes, err = nemesis.Preconditions(kinds, f.nodes); err != nil {
		return nil, nil, fmt.Errorf("--nemesis %w", err)
	}
	if err := f.checkFaultCount(d, kinds); err != nil {
		return nil, nil, err
	}
	return d, kinds, nil
}

// checkFaultCount refuses a run whose fault plan deals fewer than
// minFaults faults, naming the time limit and the interval that would
// deal enough. The plan is the one the run would follow: the same seed,
// kinds and pace give the same steps.
func (f *runFlags) checkFaultCount(d db.DB, kinds []string) error {
	if len(kinds) == 0 {
		return nil
	}
	planned := func(interval, limit time.Duration) int {
		return len(nemesis.Plan(f.seed, kinds, nemesis.Pace{Interval: interval, TimeLimit: limit, LeaseExpiry: d.LeaseExpiry(f.ttl)}))
	}
	n := planned(f.interval, f.timeLimit)
	if n >= minFaults {
		return nil
	}
	// A longer time limit keeps the plan's steps and adds to them.
	limit := f.timeLimit.Truncate(time.Second)
	for planned(f.interval, limit) < minFaults && limit < f.timeLimit+100*f.interval {
		limit += time.Second
	}
	fix := fmt.Sprintf("give --time-limit %v or more", limit)
	for i := f.interval.Truncate(time.Second); i >= time.Second; i -= time.Second {
		if i < f.interval && planned(i, f.timeLimit) >= minFaults {
			fix += fmt.Sprintf(", or --nemesis-interval %v or less", i)
			break
		}
	}
	faults := "faults"
	if n == 1 {
		faults = "fault"
	}
	return fmt.Errorf("--time-limit %v with --nemesis-interval %v deals %d %s (seed %d, --nemesis %s): a run under faults needs at least %d "+
		"(the first comes after one quiet interval, then about one every two intervals): %s; or --nemesis none for a run without faults",
		f.timeLimit, f.interval, n, faults, f.seed, strings.Join(kinds, ","), minFaults, fix)
}

// checkStore makes the store directory and proves it writable (a probe
// file created and removed), before anything is built or started.
func checkStore(store string) error {
	if err := os.MkdirAll(store, 0o755); err != nil {
		return fmt.Errorf("--store %s: cannot create it: %w (give a writable directory)", store, err)
	}
	probe, err := os.CreateTemp(store, ".write-probe-*")
	if err != nil {
		return fmt.Errorf("--store %s: not writable: %w (give a writable directory)", store, err)
	}
	name := probe.Name()
	err = errors.Join(probe.Close(), os.Remove(name))
	if err != nil {
		return fmt.Errorf("--store %s: %w", store, err)
	}
	return nil
}

// perDB says a default per database, for flag help: "5s for etcd, 10s
// for consul".
func perDB(value func(db.Defaults) time.Duration) string {
	var parts []string
	for _, d := range registry.All() {
		parts = append(parts, fmt.Sprintf("%gs for %s", value(d.Defaults()).Seconds(), d.Name()))
	}
	return strings.Join(parts, ", ")
}

// runTest is `harness run`: every exit path heals faults and removes the
// cluster, and the verdict becomes the exit code. Once the run has a
// directory, an exit 3 leaves a junit.xml there saying so.
func runTest(parent context.Context, f runFlags) (err error) {
	if path, ok := strings.CutPrefix(f.recipe, workloads.ExecPrefix); ok && path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return setupError("--recipe: %v", err)
		}
		f.recipe = workloads.ExecPrefix + abs // config.json reproduces the run from anywhere
	}
	d, kinds, err := f.validate()
	if err != nil {
		return setupError("%v", err)
	}
	if err := checkStore(f.store); err != nil {
		return setupError("%v", err)
	}
	for _, n := range f.notes {
		fmt.Fprintf(os.Stderr, "harness: note: --nemesis %s\n", n)
	}
	f.src.defaultVersion(d)
	logLevel := slog.LevelWarn
	if f.verbose {
		logLevel = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))

	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	interrupted := make(chan struct{})
	// abandoned is what a second Ctrl-C does before it exits: once there
	// is a run directory, write its junit.xml.
	var abandonMu sync.Mutex
	abandoned := func() {}
	go func() {
		select {
		case <-sigs:
			fmt.Fprintln(os.Stderr, "\ninterrupted: healing faults and removing containers (Ctrl-C again abandons them; `harness clean` removes them later)")
			close(interrupted)
			cancel()
		case <-ctx.Done():
			return
		}
		<-sigs
		abandonMu.Lock() // held until the exit: nothing else writes junit.xml
		abandoned()
		os.Exit(exitSetup)
	}()

	prep, err := prepareImage(ctx, d, f.src, f.cacheDir, os.Stderr)
	if err != nil {
		return setupError("%v", err)
	}

	runID := newRunID()
	// No leading "/": Consul's HTTP API takes keys as URL paths.
	prefix := fmt.Sprintf("eh/%s/", runID)
	cfg := RunConfig{
		Test: testName(d.Name(), f.recipe, kinds), RunID: runID, Started: time.Now().UTC(),
		DB: d.Name(), Version: f.src.version, Binary: f.src.binary, FromImage: f.src.image, Image: prep.image,
		Nodes: f.nodes, Campaigners: f.campaigners, Recipe: f.recipe, TTL: Duration(f.ttl), Consistency: f.consistency,
		Nemesis: kinds, NemesisInterval: Duration(f.interval), LeaseExpiry: Duration(d.LeaseExpiry(f.ttl)), TimeLimit: Duration(f.timeLimit),
		Seed: f.seed, Store: f.store,
		ElectionPrefix: prefix + "election/", RegisterPrefix: prefix + "register/", RegisterKey: prefix + "register/r",
		LivenessBound: Duration(d.LivenessBound(f.ttl)), HarnessVersion: harnessVersion(),
	}
	cfg.Hostname, _ = os.Hostname()
	cfg.Command = reproduceCommand(cfg)
	dir, err := histories.NewRunDir(f.store, cfg.Test, cfg.Started)
	if err != nil {
		return setupError("%v", err)
	}
	abandonMu.Lock()
	abandoned = func() {
		writeSetupJUnit(dir, cfg, errors.New("interrupted twice: the run was abandoned, its containers left behind (`harness clean` removes them)"))
	}
	abandonMu.Unlock()
	defer func() {
		var ee *exitError
		if errors.As(err, &ee) && ee.code == exitSetup {
			abandonMu.Lock()
			defer abandonMu.Unlock()
			writeSetupJUnit(dir, cfg, err)
		}
	}()
	if err := writeConfig(dir, cfg); err != nil {
		return setupError("%v", err)
	}
	rec, err := histories.NewRecorder(dir.Path(histories.HistoryFile))
	if err != nil {
		return setupError("%v", err)
	}
	defer rec.Close()

	// The store's index lists this run however it ends.
	defer func() {
		if err := reports.WriteIndex(f.store); err != nil {
			fmt.Fprintf(os.Stderr, "harness: updating the store's index: %v\n", err)
		}
	}()
	r := &runner{cfg: cfg, db: d, dir: dir, rec: rec, log: log, kinds: kinds, live: workloads.NewLive(), stop: cancel}
	rec.OnRecord(r.live.Observe)
	runErr := r.run(ctx, prep.docker)
	if cerr := rec.Close(); cerr != nil && runErr == nil {
		runErr = cerr
	}
	select {
	case <-interrupted:
		r.interrupted = true
	default:
	}
	if l := r.lost.Load(); l != nil {
		return r.lostVerdict(*l, runErr)
	}
	var leftBehind *cleanupError
	if errors.As(runErr, &leftBehind) && !r.interrupted {
		// The test ran to its end: check it and write its report, so that
		// nothing is lost, then fail for what the machine was left with.
		if err := checkRun(dir, os.Stdout, false); err != nil {
			var ee *exitError
			if !errors.As(err, &ee) || ee.code == exitSetup {
				return err
			}
			if ee.code == exitCrash {
				fmt.Fprintf(os.Stderr, "harness: %v\n", runErr)
				return err
			}
		}
		return setupError("%v", runErr)
	}
	if runErr != nil && !r.interrupted {
		fmt.Fprintf(os.Stderr, "run directory: %s\n", dir)
		return setupError("%v", runErr)
	}
	return checkRun(dir, os.Stdout, r.interrupted)
}

// writeSetupJUnit records in the run directory's junit.xml that the
// harness could not run or check the test, or was interrupted (exit 3;
// `run` and `check` write it): a CI job
// that reads junit.xml sees an error, never a missing file or a green
// suite. A junit.xml already there holds a verdict the check reached
// (the run ended, then its cluster could not be removed): the error is
// added to it as a test case of its own.
func writeSetupJUnit(dir histories.RunDir, cfg RunConfig, cause error) {
	tc := reports.JUnitCase{Name: "harness setup and cleanup", Classname: "election." + cfg.Test,
		Error: &reports.JUnitProblem{Message: "setup failed (exit 3): " + cause.Error(), Type: "setup",
			Body: "The harness could not run or check the test, or it was interrupted: this is no verdict on the recipe or the database.\n" + cause.Error() + "\n"}}
	path := dir.Path(histories.JUnitFile)
	var err error
	if _, serr := os.Stat(path); serr == nil {
		err = reports.AddJUnitCase(path, tc)
	} else {
		tmp := path + tmpSuffix
		err = reports.WriteJUnitSuite(tmp, reports.JUnitSuite{Name: cfg.suiteName(), Package: "election", Started: cfg.Started,
			Hostname: cfg.hostname(), Duration: time.Since(cfg.Started), Properties: cfg.junitProperties(dir), Cases: []reports.JUnitCase{tc},
			SystemOut: "SETUP FAILED (exit 3): " + cause.Error() + "\n"})
		if err == nil {
			err = os.Rename(tmp, path)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "harness: writing junit.xml of the failed setup: %v\n", err)
	}
}

// cleanupError is a run that ended but whose cluster could not be
// removed: its history is whole and is checked.
type cleanupError struct{ err error }

func (e *cleanupError) Error() string { return e.err.Error() }
func (e *cleanupError) Unwrap() error { return e.err }

// runner holds one run's moving parts.
type runner struct {
	cfg         RunConfig
	db          db.DB
	dir         histories.RunDir
	rec         *histories.Recorder
	log         *slog.Logger
	kinds       []string
	live        *workloads.Live
	interrupted bool
	// stop ends the run as Ctrl-C does: the nemesis and the workload
	// stop, faults are healed, the cluster removed, the history checked.
	stop context.CancelFunc
	// lost is set when the run's cluster went from under it.
	lost atomic.Pointer[cluster.Lost]
}

// watchInterval is how often a run checks that its containers are there.
const watchInterval = time.Second

// watch stops the run, as Ctrl-C does, as soon as one of its node
// containers disappears or stops, or the engine stops answering.
func (r *runner) watch(ctx context.Context, cl cluster.Cluster) {
	w, ok := cl.(cluster.Watcher)
	if !ok {
		return
	}
	go func() {
		l, ok := <-w.Watch(ctx, watchInterval)
		if !ok {
			return
		}
		r.lost.Store(&l)
		fmt.Fprintf(os.Stderr, "\n%s at %s: stopping the nemesis and the workload, then checking what was recorded\n",
			l.What, l.At.UTC().Format(time.RFC3339))
		r.stop()
	}()
}

// lostVerdict ends a run whose cluster went from under it: what was
// recorded until then is checked and reported (history.jsonl is whole
// up to there), and the run exits 3 saying what happened; a crash of
// the checker is still exit 4.
func (r *runner) lostVerdict(l cluster.Lost, runErr error) error {
	what := fmt.Sprintf("%s at %s; results cover until then", l.What, l.At.UTC().Format(time.RFC3339))
	checked := "the recorded part checks VALID (but the run did not finish: no verdict)"
	if err := checkRun(r.dir, os.Stdout, true); err != nil {
		var ee *exitError
		switch {
		case !errors.As(err, &ee):
			checked = fmt.Sprintf("checking the recorded part failed: %v", err)
		case ee.code == exitCrash:
			fmt.Fprintf(os.Stderr, "harness: %s\n", what)
			return err
		case ee.code == exitInvalid:
			checked = "the recorded part is INVALID: anomalies found before the loss (see results.json)"
		case ee.code == exitUnknown:
			checked = "the recorded part is UNKNOWN"
		default:
			checked = fmt.Sprintf("checking the recorded part failed: %v", ee)
		}
	}
	var leftBehind *cleanupError
	if errors.As(runErr, &leftBehind) {
		checked += fmt.Sprintf("; %v", leftBehind)
	}
	return setupError("%s (%s); run directory %s", what, checked, r.dir)
}

func (r *runner) run(ctx context.Context, docker *cluster.Docker) (err error) {
	cl, err := docker.Start(ctx, r.clusterSpec())
	if err != nil {
		return fmt.Errorf("starting the cluster: %w", err)
	}
	var members []db.Member
	// Every exit path: heal, save logs, remove the cluster, even if ctx
	// is cancelled (Ctrl-C).
	cleanup := context.WithoutCancel(ctx)
	var memberNodes, campaignerNodes []nemesis.Node
	for _, n := range cl.Nodes() {
		if n.Role() == cluster.RoleMember {
			memberNodes = append(memberNodes, n)
			members = append(members, db.Member{Name: n.Name(), IP: n.IP()})
		} else {
			campaignerNodes = append(campaignerNodes, n)
		}
	}
	exec := &nemesis.Executor{Members: memberNodes, Campaigners: campaignerNodes, Leaders: r.live, Recorder: r.rec, Log: r.log,
		AimWait:    time.Duration(r.cfg.LeaseExpiry),
		Membership: membership{db: r.db, members: members, dataDir: memberDataDir}}
	defer func() {
		healFor := 30 * time.Second
		if r.lost.Load() != nil {
			healFor = 5 * time.Second // a node that is gone never heals
		}
		hctx, cancel := context.WithTimeout(cleanup, healFor)
		if herr := exec.HealAll(hctx); herr != nil {
			r.log.Warn("healing before removal", "err", herr)
		}
		cancel()
		lctx, cancel := context.WithTimeout(cleanup, 30*time.Second)
		saveLogs(lctx, r.dir, cl.Nodes(), r.log)
		cancel()
		cctx, cancel := context.WithTimeout(cleanup, 2*time.Minute)
		if cerr := cl.Close(cctx); cerr != nil && err == nil {
			err = &cleanupError{fmt.Errorf("removing the cluster: %w (run `harness clean`)", cerr)}
		}
		cancel()
	}()
	// Deferred after the cleanup above, so that it runs before it: the
	// run's own removal of its cluster is no loss.
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	r.watch(watchCtx, cl)

	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	err = r.db.WaitReady(rctx, members)
	cancel()
	if err != nil {
		return fmt.Errorf("waiting for %s to serve: %w", r.db.Name(), err)
	}
	return r.workload(ctx, members, cl, exec)
}

// workload runs the test proper: probes, store record, campaigners and
// nemesis for the time limit; then heal, recovery, final reads.
func (r *runner) workload(ctx context.Context, members []db.Member, cl cluster.Cluster, exec *nemesis.Executor) error {
	var bg sync.WaitGroup
	defer bg.Wait()
	bgCtx, stopBg := context.WithCancel(ctx)
	defer stopBg()

	// The store's own record, live, from the first revision.
	record, err := r.db.NewRecord(members, "eh/"+r.cfg.RunID+"/")
	if err != nil {
		return fmt.Errorf("opening the store record: %w", err)
	}
	r.rec.Record(histories.Event{Type: histories.Info, Process: histories.ProcessStore, F: histories.FStoreRecord, Value: record.Kind()})
	bg.Add(1)
	go func() {
		defer bg.Done()
		if err := record.Run(bgCtx, func(e histories.Event) { r.rec.Record(e) }); err != nil && bgCtx.Err() == nil {
			r.log.Warn("store record stopped", "err", err)
		}
	}()

	probes := map[string]db.Probe{}
	for _, m := range members {
		p, err := r.db.NewProbe(m)
		if err != nil {
			return fmt.Errorf("probing %s: %w", m.Name, err)
		}
		defer p.Close()
		probes[m.Name] = p
	}
	bg.Add(1)
	go func() {
		defer bg.Done()
		workloads.RunProbes(bgCtx, r.rec, probes, 250*time.Millisecond, 500*time.Millisecond)
	}()

	var clients []*workloads.Client
	var conns []net.Conn
	for i, n := range cl.Nodes() {
		if n.Role() != cluster.RoleCampaigner {
			continue
		}
		conn, err := n.Agent().DialStdio(ctx, netip.AddrPortFrom(n.IP(), agent.StdioPort).String())
		if err != nil {
			return fmt.Errorf("connecting to campaigner %s: %w", n.Name(), err)
		}
		defer conn.Close()
		conns = append(conns, conn)
		wc := workloads.NewConn(n.Name(), conn, r.rec, r.log)
		clients = append(clients, workloads.NewClient(n.Name(), wc, workloads.DefaultClientConfig(r.cfg.RegisterKey, uint64(r.cfg.Seed)*1000+uint64(i))))
	}

	status := newStatusLine(os.Stderr, r.rec, r.live, time.Duration(r.cfg.TimeLimit))
	bg.Add(1)
	go func() { defer bg.Done(); status.run(bgCtx) }()

	start := time.Now()
	r.rec.Record(histories.Event{Type: histories.Info, Process: histories.ProcessHarness, F: histories.FPhase, Value: histories.PhaseStart})
	wctx, stopWorkload := context.WithCancel(ctx)
	defer stopWorkload()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); c.Run(wctx) }()
	}

	// Faults until the time limit.
	nctx, stopNemesis := context.WithTimeout(ctx, time.Duration(r.cfg.TimeLimit))
	exec.Run(nctx, start, nemesis.Plan(r.cfg.Seed, r.kinds, nemesis.Pace{
		Interval: time.Duration(r.cfg.NemesisInterval), TimeLimit: time.Duration(r.cfg.TimeLimit), LeaseExpiry: time.Duration(r.cfg.LeaseExpiry)}))
	<-nctx.Done()
	stopNemesis()
	if ctx.Err() != nil {
		return ctx.Err()
	}

	// Heal everything, then give the election time to recover: until a
	// leader has written since the heal (plus a margin for the checker's
	// liveness window), or the liveness bound has passed.
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = exec.HealAll(hctx)
	cancel()
	if err != nil {
		return fmt.Errorf("healing faults: %w", err)
	}
	r.rec.Record(histories.Event{Type: histories.Info, Process: histories.ProcessHarness, F: histories.FPhase, Value: histories.PhaseHeal})
	status.setPhase("recovering")
	bound := time.Duration(r.cfg.LivenessBound)
	healed := time.Now()
	for time.Since(healed) < bound+2*time.Second && !r.live.LeaderSinceHeal() && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	quiet := 3 * time.Second
	if !wait.For(ctx, quiet) {
		return ctx.Err()
	}
	r.rec.Record(histories.Event{Type: histories.Info, Process: histories.ProcessHarness, F: histories.FPhase, Value: histories.PhaseQuiet})

	// Final reads: every campaigner reads the register once more, with
	// the workload still running so a leader keeps leading.
	status.setPhase("final reads")
	r.rec.Record(histories.Event{Type: histories.Info, Process: histories.ProcessHarness, F: histories.FPhase, Value: histories.PhaseFinalReads})
	var fr sync.WaitGroup
	for _, c := range clients {
		fr.Add(1)
		go func() { defer fr.Done(); c.Read(ctx, 10*time.Second) }()
	}
	fr.Wait()
	stopWorkload()
	wg.Wait()
	// Nothing the campaigners say from here on belongs to the run: their
	// observers would report changes past the store record's horizon.
	for _, conn := range conns {
		conn.Close()
	}
	r.rec.Record(histories.Event{Type: histories.Info, Process: histories.ProcessHarness, F: histories.FPhase, Value: histories.PhaseEnd})

	// The store's record must be complete before it is checked.
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = record.Sync(sctx)
	cancel()
	if err != nil {
		return fmt.Errorf("reading the store's record to the end: %w", err)
	}
	r.rec.Record(histories.Event{Type: histories.Info, Process: histories.ProcessHarness, F: histories.FPhase, Value: histories.PhaseRecord})
	stopBg()
	status.finish()
	return nil
}

// userCampaigner is where a user's campaigner lives in its node.
const userCampaigner = "/campaigner"

// memberDataDir is where a member keeps its data inside its node.
const memberDataDir = "/data"

// membership lets the nemesis remove a wiped member and add it back.
type membership struct {
	db      db.DB
	members []db.Member
	dataDir string
}

func (m membership) member(name string) (db.Member, error) {
	for _, mem := range m.members {
		if mem.Name == name {
			return mem, nil
		}
	}
	return db.Member{}, fmt.Errorf("no member %q", name)
}

// operator is the database's Membership: validate refuses wipe for a
// database without one, so this error is a guard.
func (m membership) operator() (db.Membership, error) {
	op, ok := m.db.(db.Membership)
	if !ok {
		return nil, fmt.Errorf("%s: wipe is not supported: %w", m.db.Name(), errors.ErrUnsupported)
	}
	return op, nil
}

func (m membership) Remove(ctx context.Context, name string) error {
	mem, err := m.member(name)
	if err != nil {
		return err
	}
	op, err := m.operator()
	if err != nil {
		return err
	}
	return op.RemoveMember(ctx, m.members, mem)
}

func (m membership) Rejoin(ctx context.Context, name string) ([]string, error) {
	mem, err := m.member(name)
	if err != nil {
		return nil, err
	}
	op, err := m.operator()
	if err != nil {
		return nil, err
	}
	if err := op.RemoveMember(ctx, m.members, mem); err != nil {
		return nil, err
	}
	return op.AddMember(ctx, m.members, mem, m.dataDir)
}

// clusterSpec names members n1..nN and campaigners c1..cM.
func (r *runner) clusterSpec() cluster.Spec {
	spec := cluster.Spec{RunID: r.cfg.RunID, Image: r.cfg.Image}
	var names []string
	for i := 1; i <= r.cfg.Nodes; i++ {
		names = append(names, fmt.Sprintf("n%d", i))
	}
	membersOf := func(addrs map[string]netip.Addr) []db.Member {
		ms := make([]db.Member, len(names))
		for i, n := range names {
			ms[i] = db.Member{Name: n, IP: addrs[n]}
		}
		return ms
	}
	for _, n := range names {
		spec.Nodes = append(spec.Nodes, cluster.NodeSpec{Name: n, Role: cluster.RoleMember, DataDir: memberDataDir,
			Command: func(addrs map[string]netip.Addr) []string {
				return r.db.MemberCommand(db.Member{Name: n, IP: addrs[n]}, membersOf(addrs), memberDataDir)
			}})
	}
	// A user's campaigner (exec:PATH) is copied into each campaigner
	// node and started with the flags the built-in one takes.
	program := []string{"/harness", "campaigner", "--recipe", r.cfg.Recipe}
	program = append(program, registry.CampaignerArgs(r.db, db.RunSettings{ReadMode: r.cfg.Consistency})...)
	var files []cluster.File
	if path, ok := strings.CutPrefix(r.cfg.Recipe, workloads.ExecPrefix); ok {
		program = []string{userCampaigner}
		files = []cluster.File{{HostPath: path, NodePath: userCampaigner, Mode: 0o755}}
	}
	for i := 1; i <= r.cfg.Campaigners; i++ {
		name := fmt.Sprintf("c%d", i)
		spec.Nodes = append(spec.Nodes, cluster.NodeSpec{Name: name, Role: cluster.RoleCampaigner, DataDir: "/data", Files: files,
			Command: func(addrs map[string]netip.Addr) []string {
				return append(slices.Clone(program), "--name", name,
					"--endpoints", strings.Join(r.db.ClientEndpoints(membersOf(addrs)), ","),
					"--ttl", time.Duration(r.cfg.TTL).String(),
					// concurrency.Election adds the "/" itself.
					"--prefix", strings.TrimSuffix(r.cfg.ElectionPrefix, "/"))
			}})
	}
	return spec
}

// saveLogs writes every node's log under nodes/.
func saveLogs(ctx context.Context, dir histories.RunDir, nodes []cluster.Node, log *slog.Logger) {
	for _, n := range nodes {
		b, err := n.Logs(ctx)
		if err != nil {
			log.Warn("reading node log", "node", n.Name(), "err", err)
			continue
		}
		if err := os.WriteFile(filepath.Join(dir.Path(histories.NodesDir), n.Name()+".log"), b, 0o644); err != nil {
			log.Warn("saving node log", "node", n.Name(), "err", err)
		}
	}
}

func newRunID() string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// reproduceCommand is the command line that runs the same test again.
func reproduceCommand(c RunConfig) string {
	nem := "none"
	if len(c.Nemesis) > 0 {
		nem = strings.Join(c.Nemesis, ",")
	}
	argv := []string{"harness", "run", "--db", c.DB}
	if c.Version != "" {
		argv = append(argv, "--version", c.Version)
	}
	if c.Binary != "" {
		argv = append(argv, "--binary", c.Binary)
	}
	if c.FromImage != "" {
		argv = append(argv, "--image", c.FromImage)
	}
	argv = append(argv, "--nodes", fmt.Sprint(c.Nodes), "--campaigners", fmt.Sprint(c.Campaigners),
		"--recipe", c.Recipe, "--ttl", time.Duration(c.TTL).String(), "--nemesis", nem,
		"--nemesis-interval", time.Duration(c.NemesisInterval).String(),
		"--time-limit", time.Duration(c.TimeLimit).String(), "--seed", fmt.Sprint(c.Seed))
	if c.Consistency != "" {
		argv = append(argv, "--consistency", c.Consistency)
	}
	var parts []string
	for _, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$`\\|&;<>()*?[]#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
