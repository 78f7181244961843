package db

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// renewBuggy is the end of Renew in etcd v3.5.22's lease/lessor.go.
const renewBuggy = `	le.mu.RUnlock()
	if l.expired() {
		select {
		case <-le.stopC:
			return -1, ErrNotPrimary
		}
	}

	// Clear remaining TTL when we renew if it is set
	// By applying a RAFT entry only when the remainingTTL is already set, we limit the number
	// of RAFT entries written per lease to a max of 2 per checkpoint interval.
	if clearRemainingTTL {
		if err := le.cp(context.Background(), nil); err != nil {
			return -1, err
		}
	}
`

// renewMarked is the same in v3.5.23, which added the failpoint (its
// re-check after le.mu.Lock() is not part of this excerpt).
const renewMarked = `	le.mu.RUnlock()
	if l.expired() {
		select {
		case <-le.stopC:
			return -1, ErrNotPrimary
		}
	}

	// gofail: var beforeCheckpointInLeaseRenew struct{}

	// Clear remaining TTL when we renew if it is set
	// By applying a RAFT entry only when the remainingTTL is already set, we limit the number
	// of RAFT entries written per lease to a max of 2 per checkpoint interval.
	if clearRemainingTTL {
		if err := le.cp(context.Background(), nil); err != nil {
			return -1, err
		}
	}
`

var renewPatch = FailpointPatch{File: "lease/lessor.go", Line: "// gofail: var beforeCheckpointInLeaseRenew struct{}", Anchor: "if clearRemainingTTL {"}

func TestApplyFailpointPatches(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
		applied         int
	}{
		{"buggy version: added where the fix has it", renewBuggy, renewMarked, 1},
		{"fixed version: left as it is", renewMarked, renewMarked, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, renewPatch.File)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(tc.src), 0o444); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
			applied, err := ApplyFailpointPatches(dir, []FailpointPatch{renewPatch})
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) != tc.applied {
				t.Errorf("applied %v, want %d", applied, tc.applied)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("patched file:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestApplyFailpointPatchesRefusesWithoutAnchor(t *testing.T) {
	for _, src := range []string{
		"func Renew() {}\n",                            // neither marker nor anchor
		renewBuggy + "\tif clearRemainingTTL {\n\t}\n", // anchor twice
	} {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "lease"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, renewPatch.File), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ApplyFailpointPatches(dir, []FailpointPatch{renewPatch}); err == nil || !strings.Contains(err.Error(), "anchor") {
			t.Errorf("patching %q: err %v, want one about the anchor", src, err)
		}
	}
	if _, err := ApplyFailpointPatches(t.TempDir(), []FailpointPatch{renewPatch}); err == nil {
		t.Error("patching a missing file: no error")
	}
}
