package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveEngine(t *testing.T) {
	dir := t.TempDir()
	sum := sha256.Sum256([]byte("big"))
	meta := filepath.Join(dir, "contexts", "meta", hex.EncodeToString(sum[:]))
	if err := os.MkdirAll(meta, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"currentContext":"big"}`), 0o644)
	os.WriteFile(filepath.Join(meta, "meta.json"), []byte(`{"Name":"big","Endpoints":{"docker":{"Host":"ssh://me@203.0.113.5"}}}`), 0o644)
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("DOCKER_CONTEXT", "")

	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	if e, err := ResolveEngine(); err != nil || e.Host != "unix:///nonexistent/docker.sock" || e.Source != "DOCKER_HOST" {
		t.Errorf("DOCKER_HOST: %+v %v", e, err)
	}
	t.Setenv("DOCKER_HOST", "")
	e, err := ResolveEngine()
	if err != nil || e.Host != "ssh://me@203.0.113.5" || !strings.Contains(e.Source, `"big"`) {
		t.Fatalf("current context: %+v %v", e, err)
	}
	if why := e.remote(); !strings.Contains(why, "203.0.113.5") {
		t.Errorf("remote engine not refused: %q", why)
	}
	t.Setenv("DOCKER_CONTEXT", "default")
	if e, err := ResolveEngine(); err != nil || e.Host != DefaultDockerHost {
		t.Errorf("default context: %+v %v", e, err)
	}
	t.Setenv("DOCKER_CONTEXT", "missing")
	if _, err := ResolveEngine(); err == nil {
		t.Errorf("a missing context resolved")
	}
	for host, local := range map[string]bool{
		"unix:///var/run/docker.sock": true, "tcp://127.0.0.1:2375": true, "tcp://localhost:2375": true,
		"tcp://203.0.113.5:2376": false, "ssh://me@203.0.113.5": false, "ssh://me@localhost": false,
	} {
		if got := (Engine{Host: host}).remote() == ""; got != local {
			t.Errorf("%s: usable here = %v, want %v", host, got, local)
		}
	}
}
