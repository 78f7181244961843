package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe starts `harness serve` on a store holding one checked run
// and fetches the run list and the run's report over HTTP.
func TestServe(t *testing.T) {
	run := offlineRun(t, []string{lineProbeN1, lineProbeN2, lineInvoke, lineOK})
	if r := harness(t, "check", run); r.code != exitInvalid {
		t.Fatalf("check exit %d", r.code)
	}
	store := t.TempDir()
	if err := os.MkdirAll(filepath.Join(store, "etcd-election-none"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(run, filepath.Join(store, "etcd-election-none", "20261124T060000")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(harnessBin, "serve", "--store", store, "--addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no first line from serve: %v", err)
	}
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("serve said %q, want its URL", line)
	}
	url := strings.TrimSpace(strings.Fields(line[i:])[0])
	get := func(path string) string {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", path, resp.StatusCode)
		}
		return string(b)
	}
	if list := get(""); !strings.Contains(list, `class="verdict invalid">invalid`) || !strings.Contains(list, "two leaders in raft term 2") {
		t.Errorf("the run list does not show the invalid run:\n%s", list)
	}
	if report := get("etcd-election-none/20261124T060000/report.html"); !strings.Contains(report, `id="verdict" class="banner invalid"`) {
		t.Errorf("the report is not served")
	}
}

func TestServeWithoutAStore(t *testing.T) {
	r := harness(t, "serve", "--store", filepath.Join(t.TempDir(), "nothing"))
	if r.code != exitSetup || !strings.Contains(r.stderr, "no store at") {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
}
