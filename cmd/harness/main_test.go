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

	"github.com/election-harness/harness/cluster"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/run"
)

// harnessBin is the harness built once for these tests, static like the
// real one, so the node images can run it.
var harnessBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "harness-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	harnessBin = filepath.Join(dir, "harness")
	build := exec.Command("go", "build", "-trimpath", "-o", harnessBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the harness: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result of one harness invocation.
type result struct {
	code           int
	stdout, stderr string
}

func harness(t *testing.T, args ...string) result {
	t.Helper()
	return harnessEnv(t, nil, args...)
}

// harnessEnv runs the harness with env added to the environment.
func harnessEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(harnessBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("running harness %v: %v", args, err)
	}
	return r
}

// needDocker skips when Docker is absent, except in CI, where the
// integration tests must run.
func needDocker(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test; -short")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but Docker is not reachable: %v", err)
		}
		t.Skipf("Docker not reachable: %v", err)
	}
}

// readResults loads results.json of a run directory as generic JSON.
func readResults(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatalf("reading results: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("parsing results.json: %v", err)
	}
	return m
}

// latestRun resolves STORE/latest.
func latestRun(t *testing.T, store string) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(filepath.Join(store, "latest"))
	if err != nil {
		t.Fatalf("no latest run in %s: %v", store, err)
	}
	return dir
}

// leftovers lists the containers and networks of the run stored in dir
// that are still present. Only that run's: a Docker daemon shared with
// other runs (or with what an earlier, killed job left) must not fail
// this run's test.
func leftovers(t *testing.T, dir string) string {
	t.Helper()
	var cfg run.Config
	b, err := os.ReadFile(filepath.Join(dir, histories.ConfigFile))
	if err == nil {
		err = json.Unmarshal(b, &cfg)
	}
	if err != nil || cfg.RunID == "" {
		t.Fatalf("reading the run id of %s: %v", dir, err)
	}
	label := "label=" + cluster.LabelRun + "=" + cfg.RunID
	var out strings.Builder
	for _, args := range [][]string{
		{"ps", "-aq", "--filter", label},
		{"network", "ls", "-q", "--filter", label},
	} {
		got, err := exec.Command("docker", args...).Output()
		if err != nil {
			t.Fatalf("docker %v: %v", args, err)
		}
		out.WriteString(strings.TrimSpace(string(got)))
	}
	return out.String()
}
