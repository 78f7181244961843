package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildVersion is what the binary knows of its own build: the main
// module's version and the VCS revision it was built from. `go build`
// stamps them in a git checkout (the Makefile passes -buildvcs=auto, so
// that a GOFLAGS=-buildvcs=false of the environment does not drop
// them); a test binary, or a build outside a checkout, has no VCS
// information, and says "(devel)" rather than guess.
type buildVersion struct {
	Module   string // the main module's version: "v0.0.0-2026…-abcdef123456+dirty" or "(devel)"
	Revision string // full VCS revision, "" when not stamped
	Time     string // the revision's commit time (RFC 3339), "" when not stamped
	Modified bool   // the work tree had uncommitted changes
}

// linkRevision and linkModified are set by the Makefile (-ldflags -X)
// from git, for where go build stamps nothing: a git worktree, whose
// .git is a file the go command does not take for a checkout. The go
// command's own stamp, where there is one, wins.
var (
	linkRevision string
	linkModified string // "true" when the tree had uncommitted changes
)

// currentVersion reads the running binary's build information.
func currentVersion() (v buildVersion) {
	v = buildVersion{Module: "(devel)"}
	defer func() {
		if v.Revision == "" && linkRevision != "" {
			v.Revision, v.Modified = linkRevision, linkModified == "true"
		}
	}()
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v.Module = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String is the version in one token-free line, as config.json,
// reports, junit.xml and the store's index record it: the module
// version, and the revision (12 digits, as pseudo-versions abbreviate
// it) with "+dirty" when the tree was modified.
func (v buildVersion) String() string {
	if v.Revision == "" {
		return v.Module
	}
	rev := v.Revision
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if v.Modified {
		rev += "+dirty"
	}
	return v.Module + " (" + rev + ")"
}

// harnessVersion is the running harness's version line.
func harnessVersion() string { return currentVersion().String() }

func versionCmd() *cobra.Command {
	var short bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the harness's module version and VCS revision",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := currentVersion()
			w := cmd.OutOrStdout()
			if short {
				fmt.Fprintln(w, v)
				return nil
			}
			fmt.Fprintf(w, "harness %s\n", v.Module)
			if v.Revision == "" {
				fmt.Fprintln(w, "revision: unknown (built without VCS information: a test binary, or outside a git checkout)")
				return nil
			}
			dirty := ""
			if v.Modified {
				dirty = " +dirty (uncommitted changes)"
			}
			fmt.Fprintf(w, "revision: %s%s\n", v.Revision, dirty)
			if v.Time != "" {
				fmt.Fprintf(w, "committed: %s\n", v.Time)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&short, "short", false, "print the one line that config.json, reports and junit.xml record")
	return c
}

// versionNote is the line `harness check` prints when the run was
// recorded by another harness than the one checking it; "" when they
// are the same.
func versionNote(recorded, checking string) string {
	switch {
	case recorded == checking:
		return ""
	case recorded == "":
		return fmt.Sprintf("harness: this run was recorded by a harness that did not record its version; checking with %s", checking)
	default:
		return fmt.Sprintf("harness: this run was recorded by harness %s; checking with %s", recorded, checking)
	}
}
