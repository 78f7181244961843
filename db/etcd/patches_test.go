package etcd

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/election-harness/harness/db"
)

// moduleSource downloads (or finds in the module cache) the etcd server
// module at version and returns its directory; the test is skipped
// under -short, which must not touch the network.
func moduleSource(t *testing.T, version string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("downloads etcd's server module")
	}
	cmd := exec.Command("go", "mod", "download", "-json", serverModule+"@"+version)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download %s@%s: %v", serverModule, version, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		t.Fatalf("go mod download: %s", out)
	}
	return m.Dir
}

// The control build's patch applies to the releases that have the
// isActive shortcut (v3.6.16) and removes exactly it, and is refused,
// naming itself, where the shortcut never was (v3.5.15): a control
// build that silently lacked its change would prove nothing.
func TestEnsureLeadershipPatch(t *testing.T) {
	ps, err := db.LookupPatches(sourcePatches, []string{"ensure-leadership-always-checks"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		version string
		applies bool
	}{{"v3.6.16", true}, {"v3.5.15", false}} {
		t.Run(tc.version, func(t *testing.T) {
			src := moduleSource(t, tc.version)
			dst := t.TempDir()
			file := filepath.Join(dst, ps[0].File)
			os.MkdirAll(filepath.Dir(file), 0o755)
			b, err := os.ReadFile(filepath.Join(src, ps[0].File))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(file, b, 0o644)
			err = db.ApplySourcePatches(dst, ps)
			if !tc.applies {
				if err == nil || !strings.Contains(err.Error(), "ensure-leadership-always-checks") {
					t.Fatalf("err %v, want a refusal naming the patch", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(file)
			if strings.Contains(string(got), "skip checking leadership") || strings.Count(string(b), "\n")-strings.Count(string(got), "\n") != 5 {
				t.Fatalf("the shortcut is still there, or more than its six lines changed")
			}
			if !strings.Contains(string(got), "s.linearizableReadNotify(ctx)") {
				t.Fatal("the linearizable check went too")
			}
		})
	}
}
