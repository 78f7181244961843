// Package electiontest gates a Go project's own election code from `go
// test`. Run starts a real cluster in Docker and runs the project's
// campaigner under the nemesis. The campaigner is a main package that
// speaks the campaigner protocol (docs/campaigner-protocol.md). Run then
// checks the history and fails the test unless it is VALID, naming the
// first anomaly and the report to read.
//
//	func TestElection(t *testing.T) {
//		electiontest.Run(t, electiontest.Options{
//			Campaigner: "./cmd/mycampaigner",
//			Nemesis:    "partition,pause,kill",
//			TimeLimit:  time.Minute,
//		})
//	}
//
// Without Docker the test is skipped with a message saying so, except
// under CI=true, where it fails, since a gate that cannot run is not green.
package electiontest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/conformance"
	"github.com/election-harness/harness/run"
	"github.com/election-harness/harness/workloads"
)

// Options are one test. Zero values take the harness's defaults (as
// `harness run` with no flags).
type Options struct {
	// DB and Version name the database ("" is the default database, at
	// its pinned version).
	DB, Version string
	// Campaigner is the Go package of the campaigner under test (a
	// path, "./cmd/mycampaigner", or an import path), built static for
	// the campaigner nodes with BuildFlags; "" runs Recipe instead.
	Campaigner string
	BuildFlags []string
	// Recipe is a built-in recipe, when Campaigner is "".
	Recipe string
	// Nemesis is the faults, as --nemesis ("partition,pause,kill";
	// "none" for none); "" is the default (run.DefaultNemesis).
	Nemesis            string
	TimeLimit          time.Duration
	NemesisInterval    time.Duration
	TTL                time.Duration
	Seed               int64
	Nodes, Campaigners int
	// Store keeps the run's directory (history, results, report); ""
	// is $TMPDIR/electiontest, kept after the test so that a failure
	// can be read.
	Store string
}

// Run runs the test and fails t unless the verdict is VALID. It returns
// the run's Result.
func Run(t testing.TB, o Options) run.Result {
	t.Helper()
	res, err := Test(t, o)
	if err != nil {
		t.Fatalf("election test could not run: %v", err)
	}
	if res.Verdict != checker.Valid {
		t.Fatal(Describe(res))
	}
	return res
}

// Test runs the test and returns what it found, failing t only when it
// cannot run (Docker present but a build or the cluster failing): a test
// of a build known to be broken asserts its verdict itself.
func Test(t testing.TB, o Options) (run.Result, error) {
	t.Helper()
	ctx, cfg, opts, cancel, err := prepare(t, o)
	if err != nil {
		return run.Result{}, err
	}
	defer cancel()
	res, err := run.Run(ctx, cfg, opts)
	if err != nil {
		return res, err
	}
	t.Logf("%s: %s; report %s", strings.ToUpper(string(res.Verdict)), res.Results.Summary, res.Dir.Path("report.html"))
	return res, nil
}

// CheckCampaigner runs the campaigner check (package conformance) on
// o's campaigner or recipe, o's faults and durations aside, and fails t
// with the report unless every rule held. It returns the report.
func CheckCampaigner(t testing.TB, o Options) conformance.Report {
	t.Helper()
	ctx, cfg, opts, cancel, err := prepare(t, o)
	if err != nil {
		t.Fatalf("the campaigner check could not run: %v", err)
	}
	defer cancel()
	report, res, err := conformance.Run(ctx, cfg, opts)
	if err != nil {
		t.Fatalf("the campaigner check could not run: %v", err)
	}
	if !report.Passed() {
		t.Fatalf("the campaigner broke the protocol:\n%s\nrun directory: %s", report, res.Dir)
	}
	t.Logf("every rule held:\n%s", report)
	return report
}

// prepare builds o's campaigner and the run's settings and options; its
// context ends a minute before t's deadline.
func prepare(t testing.TB, o Options) (context.Context, run.Config, run.Options, context.CancelFunc, error) {
	t.Helper()
	needDocker(t)
	cfg := run.NewConfig()
	if o.DB != "" {
		cfg.DB = o.DB
	}
	cfg.Version, cfg.Recipe, cfg.Seed = o.Version, o.Recipe, max(o.Seed, 1)
	cfg.TimeLimit, cfg.NemesisInterval, cfg.TTL = run.Duration(o.TimeLimit), run.Duration(o.NemesisInterval), run.Duration(o.TTL)
	if o.Nemesis != "" {
		cfg.Nemesis = nil
		if o.Nemesis != "none" {
			cfg.Nemesis = strings.Split(o.Nemesis, ",")
		}
	}
	if o.Nodes > 0 {
		cfg.Nodes = o.Nodes
	}
	if o.Campaigners > 0 {
		cfg.Campaigners = o.Campaigners
	}
	cfg.Store = o.Store
	if cfg.Store == "" {
		cfg.Store = filepath.Join(os.TempDir(), "electiontest")
	}
	nothing := func() {}
	harness, err := harnessBinary()
	if err != nil {
		return nil, cfg, run.Options{}, nothing, err
	}
	if o.Campaigner != "" {
		bin := filepath.Join(t.TempDir(), "campaigner")
		if err := goBuild(bin, o.Campaigner, o.BuildFlags...); err != nil {
			return nil, cfg, run.Options{}, nothing, fmt.Errorf("building the campaigner %s: %w", o.Campaigner, err)
		}
		cfg.Recipe = workloads.ExecPrefix + bin
	}
	ctx, cancel := context.Background(), nothing
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok {
			ctx, cancel = context.WithDeadline(ctx, dl.Add(-time.Minute))
		}
	}
	return ctx, cfg, run.Options{Harness: harness, HarnessVersion: "electiontest", Stderr: &testLog{t: t}}, cancel, nil
}

// Describe says what a run found: the verdict, the first anomaly and
// where the report is.
func Describe(res run.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", strings.ToUpper(string(res.Verdict)))
	if res.Results != nil {
		fmt.Fprintf(&b, ": %s", res.Results.Summary)
		for _, c := range res.Results.Checks {
			if c.Informational || c.Verdict != checker.Invalid || len(c.Evidence) == 0 {
				continue
			}
			fmt.Fprintf(&b, "\nfirst anomaly (%s %s): %s", c.Property, c.Name, c.Evidence[0].Message)
			break
		}
	}
	fmt.Fprintf(&b, "\nreport: %s\nreproduce: %s", res.Dir.Path("report.html"), res.Config.Command)
	return b.String()
}

// needDocker skips t without Docker, except under CI=true, and under
// -short.
func needDocker(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("electiontest: an integration test (a real cluster in Docker); skipped under -short")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("electiontest: CI=true but Docker is not reachable (%v): the election test cannot run", err)
		}
		t.Skipf("electiontest: Docker is not reachable (%v): skipping the election test", err)
	}
}

// harnessBinary is the harness built static once per test process: every
// node image holds it as its agent.
var harnessBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "electiontest-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "harness")
	if err := goBuild(bin, "github.com/election-harness/harness/cmd/harness", "-trimpath"); err != nil {
		return "", fmt.Errorf("building the harness: %w", err)
	}
	return bin, nil
})

// goBuild builds pkg static into out.
func goBuild(out, pkg string, flags ...string) error {
	cmd := exec.Command("go", append(append([]string{"build", "-o", out}, flags...), pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w\n%s", err, b)
	}
	return nil
}

// testLog is the run's stderr, as test log lines.
type testLog struct {
	t  testing.TB
	mu sync.Mutex
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := strings.TrimSpace(string(p)); s != "" {
		l.t.Log(s)
	}
	return len(p), nil
}
