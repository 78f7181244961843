package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/election-harness/harness/run"
)

// refusedUpFront runs the harness with an empty cache, so that a run
// would have to build its database first, and asserts that it exits 3
// saying want, having built nothing. In process, the refusal must take
// under a second (a build takes a minute or more); the same command as a
// subprocess checks the real exit path, with a looser bound, since a
// loaded machine can take most of a second just to start a process.
// (Containers are started only after the build and the run directory:
// the callers check that the store holds no run.)
func refusedUpFront(t *testing.T, want string, args ...string) {
	t.Helper()
	home := t.TempDir()
	cache := filepath.Join(home, "cache")
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", cache)
	built := func(how string) {
		t.Helper()
		if _, err := os.Stat(filepath.Join(cache, "election-harness")); err == nil {
			t.Errorf("harness %v (%s): a database build was started (its cache exists)", args, how)
		}
	}

	root := newRoot()
	root.SetArgs(args)
	var stdout, stderr strings.Builder
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	// Should the gate let a run through, its build ends here.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	code, msg := exitCode(root.ExecuteContext(ctx))
	elapsed := time.Since(start)
	if code != exitSetup || !strings.Contains(msg, want) {
		t.Errorf("harness %v (in process): exit %d, %q; want exit %d saying %q", args, code, msg, exitSetup, want)
	}
	if elapsed >= time.Second {
		t.Errorf("harness %v (in process): refused after %v; want under a second", args, elapsed)
	}
	built("in process")

	// The subprocess, and whatever it starts, is killed after 10 s.
	cmd := exec.Command(harnessBin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CACHE_HOME="+cache)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var errb strings.Builder
	cmd.Stderr = &errb
	start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(10*time.Second, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	cmd.Wait()
	timer.Stop()
	elapsed = time.Since(start)
	if c := cmd.ProcessState.ExitCode(); c != exitSetup || !strings.Contains(errb.String(), want) {
		t.Errorf("harness %v: exit %d, stderr %q; want exit %d saying %q", args, c, errb.String(), exitSetup, want)
	}
	if strings.Contains(errb.String(), "building") || elapsed >= 5*time.Second {
		t.Errorf("harness %v: %v, stderr %q: it went on to build", args, elapsed, errb.String())
	}
	built("subprocess")
}

// TestRunRefusesUpFront: flags that cannot mean what they say, a named
// rule that cannot run, a run that would deal too few faults and a store
// that cannot be written are refused before any build or container.
func TestRunRefusesUpFront(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ttl", "0s"}, "--ttl 0s: want a positive duration (leave --ttl out for etcd's default, 3s)"},
		{[]string{"--ttl", "-3s"}, "--ttl -3s: want a positive duration"},
		{[]string{"--time-limit", "0s"}, "--time-limit 0s: want a positive duration"},
		{[]string{"--time-limit", "-1m"}, "--time-limit -1m0s: want a positive duration"},
		{[]string{"--nemesis-interval", "0s"}, "--nemesis-interval 0s: want a positive duration"},
		{[]string{"--nemesis", "none", "--nemesis-interval", "-5s"}, "--nemesis-interval -5s: want a positive duration"},
		{[]string{"--db", "consul", "--ttl", "0s"}, "leave --ttl out for consul's default, 10s"},
		// Too few faults: seed 1's plan at 20 s deals 2.
		{[]string{"--time-limit", "20s", "--seed", "1"}, "--time-limit 20s with --nemesis-interval 5s deals 2 faults (seed 1, --nemesis " + run.DefaultNemesis + "): a run under faults needs at least 3"},
		{[]string{"--time-limit", "20s", "--seed", "1"}, "give --time-limit 26s or more"},
		{[]string{"--db", "consul", "--nemesis", "pause", "--time-limit", "40s"}, "a run under faults needs at least 3"},
		// Named rules that cannot run are refused, never substituted.
		{[]string{"--nodes", "3", "--nemesis", "partition:majorities-ring"}, "partition:majorities-ring needs 5 members, not 3, and a named rule is never replaced by another"},
		{[]string{"--nodes", "2", "--nemesis", "partition:bridge"}, "partition:bridge needs 3 members, not 2"},
		{[]string{"--nodes", "1", "--nemesis", "clock:others-slow"}, "clock:others-slow needs 2 members, not 1"},
		{[]string{"--nodes", "2", "--nemesis", "wipe"}, "wipe: no rule of it can run with 2 members (it needs 3)"},
		{[]string{"--db", "consul", "--nemesis", "compact"}, "--nemesis compact: not supported for consul"},
		{[]string{"--db", "consul", "--nemesis", "defrag:raft-leader"}, "--nemesis defrag: not supported for consul"},
		// Versions: the upgrade fault needs two; a pair etcd does not
		// move between is refused with the reason, before any build.
		{[]string{"--nemesis", "upgrade,partition"}, "give two, --version OLD,NEW"},
		{[]string{"--version", "v3.5.35,v3.7.3", "--nemesis", "upgrade"}, "etcd moves one minor version at a time"},
		{[]string{"--db", "consul", "--nemesis", "upgrade"}, "--nemesis upgrade: not supported for consul"},
		// Apiserver nodes are the Kubernetes recipes' alone.
		{[]string{"--apiservers", "2"}, "--apiservers and --kube-version are for the Kubernetes recipes (k8s-leaderelection, k8s-leaderelection-fenced), not etcd-election"},
		{[]string{"--nemesis", "pause:random-apiserver"}, "--nemesis pause:random-apiserver: it acts on kube-apiserver nodes, which only the Kubernetes recipes"},
		{[]string{"--recipe", "k8s-leaderelection", "--apiservers", "4"}, "--apiservers 4: want 1 to 3"},
		{[]string{"--recipe", "k8s-leaderelection", "--readers", "pinned"}, "k8s-leaderelection cannot pin its reads"},
		{[]string{"--db", "consul", "--recipe", "k8s-leaderelection"}, "recipe k8s-leaderelection elects through etcd, not db consul"},
		// The store, before the build.
		{[]string{"--store", "/proc/x"}, "--store /proc/x: cannot create it"},
		{[]string{"--nemesis", "none", "--time-limit", "5s", "--store", "/proc/x/y"}, "--store /proc/x/y: cannot create it"},
	} {
		store := filepath.Join(t.TempDir(), "store")
		refusedUpFront(t, tc.want, append([]string{"run", "--store", store}, tc.args...)...)
		if entries, _ := os.ReadDir(store); len(entries) > 0 {
			t.Errorf("run %v: the store holds %d entries; want no run", tc.args, len(entries))
		}
	}
}

// TestSuiteRefusesBeforeRunningAny: a suite with one entry that cannot
// run is refused whole, naming the entry, before any run.
func TestSuiteRefusesBeforeRunningAny(t *testing.T) {
	for body, want := range map[string]string{
		"defaults: {time_limit: 60s}\nmatrix:\n  recipe: [etcd-election]\n  nemesis: [pause, \"partition:majorities-ring\"]\n": "1 of 2 runs cannot run (none was started):\n  [1] etcd default etcd-election partition:majorities-ring seed 1: --nemesis partition:majorities-ring needs 5 members",
		"defaults: {time_limit: 20s}\nmatrix:\n  recipe: [etcd-election]\n  seeds: [1, 2]\n":                                   "[0] etcd default etcd-election " + run.DefaultNemesis + " seed 1: --time-limit 20s with --nemesis-interval 5s deals 2 faults",
		"defaults: {ttl: 0s}\nmatrix:\n  recipe: [etcd-election]\n":                                                            "--ttl 0s: want a positive duration",
		"defaults: {nemesis_interval: -1s}\nmatrix:\n  recipe: [etcd-election]\n  nemesis: [none]\n":                           "--nemesis-interval -1s: want a positive duration",
		"defaults: {nodes: 2}\nmatrix:\n  recipe: [etcd-election]\n  nemesis: [wipe]\n":                                        "wipe: no rule of it can run with 2 members",
	} {
		store := filepath.Join(t.TempDir(), "store")
		refusedUpFront(t, want, "suite", writeSuite(t, body), "--store", store, "--out", t.TempDir())
		if _, err := os.Stat(store); err == nil {
			t.Errorf("%q: the store was made: a run started", body)
		}
	}
	refusedUpFront(t, "--store /proc/x: cannot create it", "suite", writeSuite(t, "matrix:\n  recipe: [etcd-election]\n"), "--store", "/proc/x")
}
