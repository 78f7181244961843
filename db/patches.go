package db

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// SourcePatch is a named change to a database's sources, applied to a
// copy of its module before it is built: a control build that removes a
// suspected cause (a proposed fix), run against the stock build of the
// same version to show that the cause is the cause.
type SourcePatch struct {
	// Name is the --patch value.
	Name string
	// Does says what the patch changes and why, for `harness faults`
	// and the run's facts.
	Does string
	// File is the source file, relative to the module's root.
	File string
	// Old are the lines replaced, compared without their leading and
	// trailing white space; they must occur exactly once, in a row.
	Old []string
	// New replaces them, each line indented as Old's first.
	New []string
}

// Tag names the patch in a cached build's file name: its name and a
// hash of what it changes, so that a patch edited builds anew.
func (p SourcePatch) Tag() string {
	h := sha256.Sum256([]byte(p.File + "\x00" + strings.Join(p.Old, "\n") + "\x00" + strings.Join(p.New, "\n")))
	return p.Name + "." + hex.EncodeToString(h[:4])
}

// SourcePatches is a database whose server can be built from patched
// sources (--patch NAME), cached apart from the stock build.
type SourcePatches interface {
	// Patches lists the patches the driver knows.
	Patches() []SourcePatch
	// PatchedServer is Server built from sources changed by the named
	// patches, with failpoints too if failpoints is set. A patch whose
	// lines are not in version's sources is an error naming them: a
	// control build that silently lacked its change would prove nothing.
	PatchedServer(ctx context.Context, version string, patches []string, failpoints bool, cacheDir string, log io.Writer) (ServerImage, error)
}

// LookupPatches finds each named patch among known.
func LookupPatches(known []SourcePatch, names []string) ([]SourcePatch, error) {
	var out []SourcePatch
	for _, n := range names {
		i := slices.IndexFunc(known, func(p SourcePatch) bool { return p.Name == n })
		if i < 0 {
			var all []string
			for _, p := range known {
				all = append(all, p.Name)
			}
			return nil, fmt.Errorf("no source patch %q (known: %s)", n, strings.Join(all, ", "))
		}
		out = append(out, known[i])
	}
	return out, nil
}

// ApplySourcePatches applies patches to the module copy at src.
func ApplySourcePatches(src string, patches []SourcePatch) error {
	for _, p := range patches {
		path := filepath.Join(src, p.File)
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("source patch %s: %w", p.Name, err)
		}
		out, err := replaceLines(string(b), p)
		if err != nil {
			return fmt.Errorf("source patch %s does not apply to %s: %w", p.Name, p.File, err)
		}
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			return fmt.Errorf("source patch %s: %w", p.Name, err)
		}
	}
	return nil
}

// replaceLines replaces the one run of lines of src that matches p.Old
// (runs of white space aside: gofmt aligns fields differently from one
// release to the next) with p.New.
func replaceLines(src string, p SourcePatch) (string, error) {
	if len(p.Old) == 0 {
		return "", fmt.Errorf("the patch replaces no lines")
	}
	lines := strings.Split(src, "\n")
	at := -1
	for i := 0; i+len(p.Old) <= len(lines); i++ {
		match := true
		for j, o := range p.Old {
			if !slices.Equal(strings.Fields(lines[i+j]), strings.Fields(o)) {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		if at >= 0 {
			return "", fmt.Errorf("its lines occur more than once (from %q)", p.Old[0])
		}
		at = i
	}
	if at < 0 {
		return "", fmt.Errorf("its lines are not there (from %q)", strings.TrimSpace(p.Old[0]))
	}
	indent := lines[at][:len(lines[at])-len(strings.TrimLeft(lines[at], " \t"))]
	var repl []string
	for _, n := range p.New {
		repl = append(repl, indent+strings.TrimSpace(n))
	}
	lines = slices.Replace(lines, at, at+len(p.Old), repl...)
	return strings.Join(lines, "\n"), nil
}

// Snapshots is a database whose members' snapshot frequency can be set
// (--snapshot-count): a follower cut off for longer than count entries
// catches up by a snapshot sent by the leader, the path etcd #15271 and
// #18055 broke.
type Snapshots interface {
	// SnapshotEnv is what the environment of a member of version needs
	// to snapshot every count entries and keep no more than count
	// entries for followers.
	SnapshotEnv(version string, count int) []string
}

// ServerLogLevels is a database whose members' log level can be set
// (--server-log-level): debug lines are often the evidence a database
// bug's report needs.
type ServerLogLevels interface {
	// LogLevels are the levels the server takes, the default first.
	LogLevels() []string
	// LogLevelEnv is what a member's environment needs to log at level.
	LogLevelEnv(level string) []string
}
