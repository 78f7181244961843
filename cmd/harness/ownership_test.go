package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/election-harness/harness/cluster"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/run"
)

// shortRun is about the shortest run the harness accepts: 15 s with
// faults every 3 s, which its plan for seed 1 deals at least 3 of.
var shortRun = []string{"run", "--recipe", "etcd-election", "--nemesis", "partition", "--nemesis-interval", "3s", "--time-limit", "15s", "--seed", "1"}

// bgRun is a harness run in the background.
type bgRun struct {
	cmd            *exec.Cmd
	store          string
	stdout, stderr bytes.Buffer
	done           chan struct{}
	code           int
}

func startRun(t *testing.T, env []string, args ...string) *bgRun {
	t.Helper()
	r := &bgRun{store: t.TempDir(), done: make(chan struct{})}
	r.cmd = exec.Command(harnessBin, append(append(append([]string{}, shortRun...), "--store", r.store), args...)...)
	r.cmd.Env = append(os.Environ(), env...)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := r.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			r.code = ee.ExitCode()
		}
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// waitFor waits until the run's history holds s (and returns the run's
// directory and ID), failing if it ends or time runs out first.
func (r *bgRun) waitFor(t *testing.T, s string, within time.Duration) (string, string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case <-r.done:
			t.Fatalf("run ended (exit %d) before %s\n%s", r.code, s, tail(r.stderr.String(), 2000))
		default:
		}
		if dir, err := filepath.EvalSymlinks(filepath.Join(r.store, "latest")); err == nil {
			h, _ := os.ReadFile(filepath.Join(dir, histories.HistoryFile))
			if bytes.Contains(h, []byte(s)) {
				return dir, runID(t, dir)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no %s in the run's history within %v\n%s", s, within, tail(r.stderr.String(), 2000))
	return "", ""
}

func (r *bgRun) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
		return r.code
	case <-time.After(within):
		t.Fatalf("run did not end within %v\n%s", within, tail(r.stderr.String(), 2000))
		return -1
	}
}

func runID(t *testing.T, dir string) string {
	t.Helper()
	var cfg run.Config
	b, err := os.ReadFile(filepath.Join(dir, histories.ConfigFile))
	if err == nil {
		err = json.Unmarshal(b, &cfg)
	}
	if err != nil || cfg.RunID == "" {
		t.Fatalf("reading the run id of %s: %v", dir, err)
	}
	return cfg.RunID
}

// workloadStarted is in a history once the workload runs.
const workloadStarted = `"f":"phase","value":"start"`

// TestCleanLeavesLiveRuns: two runs at once on one daemon, `harness
// clean` between them while both are live: it lists both as left
// (their owners run), and both finish with their verdicts, nothing of
// theirs removed.
func TestCleanLeavesLiveRuns(t *testing.T) {
	needDocker(t)
	a, b := startRun(t, nil), startRun(t, nil)
	dirA, idA := a.waitFor(t, workloadStarted, 3*time.Minute)
	dirB, idB := b.waitFor(t, workloadStarted, 3*time.Minute)
	c := harness(t, "clean")
	t.Logf("clean:\n%s%s", c.stdout, c.stderr)
	if c.code != 0 {
		t.Fatalf("clean exit %d", c.code)
	}
	for _, id := range []string{idA, idB} {
		if !strings.Contains(c.stdout, "left run "+id+" ") || strings.Contains(c.stdout, "removed run "+id+" ") {
			t.Errorf("clean did not leave live run %s", id)
		}
	}
	for _, r := range []struct {
		run *bgRun
		dir string
	}{{a, dirA}, {b, dirB}} {
		code := r.run.wait(t, 3*time.Minute)
		t.Logf("%s: exit %d\n%s", r.dir, code, tail(r.run.stdout.String(), 600))
		if code < 0 || code > exitUnknown {
			t.Errorf("run %s: exit %d, want a verdict\n%s", r.dir, code, tail(r.run.stderr.String(), 2000))
		}
		if _, err := os.Stat(filepath.Join(r.dir, histories.ResultsFile)); err != nil {
			t.Errorf("no results: %v", err)
		}
		if l := leftovers(t, r.dir); l != "" {
			t.Errorf("left behind: %s", l)
		}
	}
}

// TestCleanRemovesAKilledRun: after kill -9 of a run, its history is
// checkable and `harness clean` removes exactly its leftovers, its owner
// being dead.
func TestCleanRemovesAKilledRun(t *testing.T) {
	needDocker(t)
	r := startRun(t, nil)
	dir, id := r.waitFor(t, workloadStarted, 3*time.Minute)
	time.Sleep(2 * time.Second)
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-r.done // reaped: a zombie is dead too, but no test should lean on it
	if leftovers(t, dir) == "" {
		t.Fatalf("a killed run left nothing: nothing to test")
	}
	c := harness(t, "check", dir)
	t.Logf("check of the killed run: exit %d\n%s%s", c.code, tail(c.stdout, 800), tail(c.stderr, 800))
	if c.code > exitUnknown {
		t.Errorf("check of a killed run's history: exit %d, want a verdict", c.code)
	}
	d := harness(t, "clean", "--dry-run")
	t.Logf("clean --dry-run:\n%s", d.stdout)
	if !strings.Contains(d.stdout, "would remove run "+id+" ") || leftovers(t, dir) == "" {
		t.Fatalf("clean --dry-run: does not list %s, or removed it", id)
	}
	cl := harness(t, "clean")
	t.Logf("clean:\n%s%s", cl.stdout, cl.stderr)
	if cl.code != 0 || !strings.Contains(cl.stdout, "removed run "+id+" ") {
		t.Fatalf("clean exit %d, did not remove %s", cl.code, id)
	}
	for _, line := range strings.Split(cl.stdout, "\n") {
		if strings.HasPrefix(line, "removed run ") && !strings.Contains(line, "has exited") && !strings.Contains(line, "rebooted") {
			t.Errorf("clean removed a run whose owner is not known gone: %s", line)
		}
	}
	if l := leftovers(t, dir); l != "" {
		t.Errorf("clean left the killed run's %s", l)
	}
}

// TestUnreachableEngineExits3: a DOCKER_HOST that does not answer is
// named and exits 3 within seconds; no other engine is tried, and
// nothing is created on the local one.
func TestUnreachableEngineExits3(t *testing.T) {
	needDocker(t)
	host := "unix:///nonexistent/docker.sock"
	store := t.TempDir()
	start := time.Now()
	cmd := exec.Command(harnessBin, append(append([]string{}, shortRun...), "--store", store)...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+host)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	took := time.Since(start)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitSetup {
		t.Fatalf("exit %v, want 3\n%s", err, errb.String())
	}
	if took > 10*time.Second {
		t.Errorf("took %v, want under 10 s", took)
	}
	if !strings.Contains(errb.String(), host) {
		t.Errorf("stderr does not name %s: %s", host, errb.String())
	}
	out, err := exec.Command("docker", "ps", "-aq", "--filter", fmt.Sprintf("label=%s=%d", cluster.LabelOwnerPID, cmd.Process.Pid)).Output()
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("containers created on the local engine: %s", s)
	}
	if _, err := os.Stat(filepath.Join(store, "latest")); err == nil {
		t.Errorf("a run directory was made")
	}
}

// TestNodeRemovedMidRun: a run whose member container is removed under
// it notices within seconds, checks what it recorded (results.json and
// the report written) and exits 3 saying what happened.
func TestNodeRemovedMidRun(t *testing.T) {
	needDocker(t)
	r := startRun(t, nil, "--time-limit", "21s")
	dir, id := r.waitFor(t, workloadStarted, 3*time.Minute)
	time.Sleep(2 * time.Second)
	name := "eh-" + id + "-n2"
	if out, err := exec.Command("docker", "rm", "-f", name).CombinedOutput(); err != nil {
		t.Fatalf("docker rm -f %s: %v\n%s", name, err, out)
	}
	removed := time.Now()
	code := r.wait(t, 2*time.Minute)
	t.Logf("exit %d after %v\nstdout:\n%s\nstderr:\n%s", code, time.Since(removed), tail(r.stdout.String(), 1500), tail(r.stderr.String(), 2000))
	if code != exitSetup {
		t.Fatalf("exit %d, want 3", code)
	}
	for _, want := range []string{"container " + name + " (node n2) of run " + id + " disappeared at ", "results cover until then"} {
		if !strings.Contains(r.stderr.String(), want) {
			t.Errorf("stderr does not say %q", want)
		}
	}
	for _, f := range []string{histories.ResultsFile, histories.ReportFile, histories.JUnitFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("no %s: %v", f, err)
		}
	}
	if l := leftovers(t, dir); l != "" {
		t.Errorf("left behind: %s", l)
	}
}
