package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Consul integration tests: a real Consul cluster built from its module
// (cached; the first build takes minutes).

func TestConsulBuildIsCachedByVersion(t *testing.T) {
	needDocker(t)
	first := harness(t, "build", "--db", "consul")
	if first.code != 0 {
		t.Fatalf("harness build --db consul: exit %d\n%s%s", first.code, first.stdout, tail(first.stderr, 3000))
	}
	second := harness(t, "build", "--db", "consul")
	if second.code != 0 {
		t.Fatalf("second build: exit %d\n%s%s", second.code, second.stdout, second.stderr)
	}
	if strings.Contains(second.stderr, "building consul") {
		t.Errorf("the second build built Consul again:\n%s", second.stderr)
	}
	if !strings.Contains(second.stdout, "consul v1.20.6: binary ") {
		t.Errorf("build did not name the cached binary:\n%s", second.stdout)
	}
}

func TestConsulSafeRecipesUnderFaults(t *testing.T) {
	needDocker(t)
	// Faults every 10s, more often than Consul's default, so that a
	// short run sees several.
	for _, tc := range []struct {
		recipe, nemesis, timeLimit, consistency string
	}{
		{"consul-lock", "partition,pause,kill", "90s", "default"},
		{"consul-session", "partition,pause", "60s", "consistent"},
	} {
		t.Run(tc.recipe, func(t *testing.T) {
			store := t.TempDir()
			r := harness(t, "run", "--db", "consul", "--recipe", tc.recipe, "--nemesis", tc.nemesis,
				"--time-limit", tc.timeLimit, "--nemesis-interval", "10s", "--consistency", tc.consistency, "--seed", "1", "--store", store)
			t.Logf("stdout:\n%s\nstderr tail:\n%s", r.stdout, tail(r.stderr, 2000))
			if r.code != 0 {
				t.Fatalf("%s exit %d, want 0", tc.recipe, r.code)
			}
			dir := latestRun(t, store)
			res := readResults(t, dir)
			checkCounts(t, res)
			b, err := os.ReadFile(filepath.Join(dir, "results.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "reads were made in "+tc.consistency+" mode") {
				t.Errorf("results.json does not say the reads' consistency mode (%s)", tc.consistency)
			}
			if l := leftovers(t, dir); l != "" {
				t.Errorf("left behind: %s", l)
			}
			reproduces(t, dir, 0)
		})
	}
}

func TestConsulUnfencedControlIsCaught(t *testing.T) {
	expectStaleLeaderWrite(t, "--db", "consul", "--recipe", "consul-unfenced", "--nemesis", "pause", "--time-limit", "180s", "--seed", "1")
}

func TestConsulRefusesWhatItCannotDo(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--db", "consul", "--nemesis", "wipe"}, "--nemesis wipe: not supported for consul"},
		{[]string{"--db", "consul", "--ttl", "5s"}, "--ttl 5s: want at least 10s for consul"},
		{[]string{"--db", "consul", "--consistency", "strong"}, `--consistency "strong": want one of default, consistent, stale`},
		{[]string{"--db", "etcd", "--consistency", "stale"}, "--consistency is consul's"},
		{[]string{"--db", "consul", "--recipe", "etcd-election"}, "elects through etcd, not db consul"},
	} {
		r := harness(t, append([]string{"run", "--store", t.TempDir()}, tc.args...)...)
		if r.code != exitSetup || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("harness run %v: exit %d, stderr %q; want exit %d naming %q", tc.args, r.code, r.stderr, exitSetup, tc.want)
		}
	}
}
