package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/etcd"
	"github.com/election-harness/harness/run"
)

// userImage builds a FROM-scratch image the way a team might ship its own
// etcd: the binary in /usr/local/bin, found through PATH. files maps
// paths in the image to host files. The image is removed afterwards.
func userImage(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	var df strings.Builder
	df.WriteString("FROM scratch\nENV PATH=/usr/local/bin\n")
	i := 0
	for dst, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("f%d", i)
		i++
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&df, "COPY %s %s\n", name, dst)
	}
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df.String()), 0o644)
	ref := fmt.Sprintf("election-harness-test/user-etcd:%d", time.Now().UnixNano())
	build := exec.Command("docker", "build", "-q", "-t", ref, dir)
	build.Env = append(os.Environ(), "DOCKER_BUILDKIT=0") // the classic builder: FROM scratch, no pull
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", ref).Run() })
	return ref
}

// TestRunFromAnImage: --image takes an image that holds the database
// binary where its PATH says, copies the agent in, and runs; an image
// that is not there, or lacks the binary, is refused with the reason.
func TestRunFromAnImage(t *testing.T) {
	needDocker(t)
	srv, err := etcd.DB{}.Server(context.Background(), etcd.DB{}.DefaultVersion(), db.DefaultCacheDir(), os.Stderr)
	if err != nil {
		t.Fatalf("building etcd: %v", err)
	}
	etcdBin := srv.Binary
	ref := userImage(t, map[string]string{"/usr/local/bin/etcd": etcdBin})
	store := t.TempDir()
	// Not the raft leader: a raft leader paused past the lease may, as it
	// resumes, revoke a lease renewed through its successor, an etcd bug
	// P8 finds in about one run in 20 (docs/findings/); this test is
	// about running from an image, not about that.
	r := harness(t, "run", "--image", ref, "--nemesis", "pause:election-leader,pause:random-campaigner", "--time-limit", "35s", "--seed", "1", "--store", store)
	t.Logf("stdout:\n%s\nstderr tail:\n%s", r.stdout, tail(r.stderr, 2000))
	if r.code != 0 {
		t.Fatalf("run --image %s: exit %d, want 0", ref, r.code)
	}
	dir := latestRun(t, store)
	checkCounts(t, readResults(t, dir))
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg run.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", cfg.Image).Run() }) // the node image made from ref
	if !strings.Contains(string(b), `"from_image": "`+ref+`"`) || !strings.Contains(string(b), "--image "+ref) {
		t.Errorf("config.json does not record the image or reproduce with it:\n%s", b)
	}
	if l := leftovers(t, dir); l != "" {
		t.Errorf("left behind: %s", l)
	}

	empty := userImage(t, map[string]string{"/usr/local/bin/not-etcd": etcdBin})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--image", "election-harness-test/absent:none"}, "is not on the Docker daemon"},
		{[]string{"--image", empty}, "has no etcd binary (looked in /etcd, /usr/local/bin/etcd"},
		{[]string{"--image", ref, "--binary", etcdBin}, "--binary and --image: give one"},
	} {
		r := harness(t, append([]string{"run", "--nemesis", "none", "--time-limit", "5s", "--store", t.TempDir()}, tc.args...)...)
		if r.code != exitSetup || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("harness run %v: exit %d, stderr %q; want exit %d naming %q", tc.args, r.code, tail(r.stderr, 500), exitSetup, tc.want)
		}
	}
}
