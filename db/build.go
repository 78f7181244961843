package db

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
)

// DefaultCacheDir is where built database binaries are kept:
// $XDG_CACHE_HOME/election-harness, else ~/.cache/election-harness.
func DefaultCacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "election-harness")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".cache", "election-harness")
	}
	return filepath.Join(os.TempDir(), "election-harness-cache")
}

var versionRE = regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)

// ValidVersion checks the form of a module version.
func ValidVersion(v string) error {
	if !versionRE.MatchString(v) {
		return fmt.Errorf("version %q is not of the form vX.Y.Z", v)
	}
	return nil
}

// GoModuleBuild describes a static binary built from a tiny wrapper
// module that requires the database's published Go module at a version:
// how the drivers of databases written in Go make their server.
type GoModuleBuild struct {
	Name    string // binary name, the database's
	Module  string // module required at Version
	MainGo  string // the wrapper's main.go
	Version string
	// ExtraGoMod is appended to the wrapper's go.mod (exclude lines).
	ExtraGoMod string
	// Env is added to every go command's environment.
	Env []string
	// BeforeGet, if set, changes the wrapper's go.mod before `go get`:
	// for a module that cannot be required at all without replace
	// directives of its own (k8s.io/kubernetes and its staging modules).
	BeforeGet func(ctx context.Context, src string, goCmd func(args ...string) (string, error)) error
	// Pin, if set, rewrites the wrapper's go.mod after `go get`, before
	// `go mod tidy`: for a module whose own go.mod relies on replace
	// directives that a dependent module does not inherit.
	Pin func(ctx context.Context, src string, goCmd func(args ...string) (string, error)) error
	// Prepare, if set, changes the wrapper after Pin, before `go mod
	// tidy`: a build of patched sources (failpoints) replaces the module
	// with a copy it has edited.
	Prepare func(ctx context.Context, src string, goCmd func(args ...string) (string, error)) error
	// Recipe, if set, names how Prepare changes the sources, and is part
	// of the cached binary's name (NAME-VERSION-RECIPE): a new recipe
	// builds anew instead of reusing a binary an older one made.
	Recipe string
}

// Build returns the cached binary, building it first if needed. Builds
// of one version are serialized with a lock file, so two runs starting
// together build once.
func (b GoModuleBuild) Build(ctx context.Context, cacheDir string, log io.Writer) (string, error) {
	if err := ValidVersion(b.Version); err != nil {
		return "", err
	}
	bin := filepath.Join(cacheDir, "bin", b.binName())
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", fmt.Errorf("creating cache: %w", err)
	}
	lock, err := os.OpenFile(bin+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("locking cache: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("locking cache: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil // another run built it while we waited
	}

	src := filepath.Join(cacheDir, "src", b.binName())
	if err := os.RemoveAll(src); err != nil {
		return "", fmt.Errorf("clearing build dir: %w", err)
	}
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", fmt.Errorf("creating build dir: %w", err)
	}
	goMod := fmt.Sprintf("module %swrap\n\ngo 1.24\n%s", b.Name, b.ExtraGoMod)
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte(goMod), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(b.MainGo), 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "building %s %s from %s (cached in %s; this takes minutes the first time)\n", b.Name, b.Version, b.Module, cacheDir)
	goCmd := func(args ...string) (string, error) { return runGo(ctx, src, b.Env, args) }
	if b.BeforeGet != nil {
		if err := b.BeforeGet(ctx, src, goCmd); err != nil {
			return "", fmt.Errorf("preparing to require %s: %w", b.Module, err)
		}
	}
	if _, err := goCmd("get", b.Module+"@"+b.Version); err != nil {
		return "", fmt.Errorf("%w\n(is %s published at %s? the Go module proxy must serve it)", err, b.Module, b.Version)
	}
	if b.Pin != nil {
		if err := b.Pin(ctx, src, goCmd); err != nil {
			return "", fmt.Errorf("pinning %s's own dependency versions: %w", b.Module, err)
		}
	}
	if b.Prepare != nil {
		if err := b.Prepare(ctx, src, goCmd); err != nil {
			return "", fmt.Errorf("preparing %s's sources: %w", b.Module, err)
		}
	}
	tmp := bin + ".tmp"
	for _, args := range [][]string{
		{"mod", "tidy"},
		{"build", "-trimpath", "-ldflags", "-s -w", "-o", tmp, "."},
	} {
		if _, err := goCmd(args...); err != nil {
			return "", err
		}
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("caching %s: %w", bin, err)
	}
	return bin, nil
}

// binName is the cached binary's file name.
func (b GoModuleBuild) binName() string {
	if b.Recipe != "" {
		return b.Name + "-" + b.Version + "-" + b.Recipe
	}
	return b.Name + "-" + b.Version
}

// runGo runs the go command in dir and returns its standard output.
func runGo(ctx context.Context, dir string, env, args []string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
		if _, serr := os.Stat(goBin); serr != nil {
			return "", fmt.Errorf("building needs the go command: not on PATH nor at %s", goBin)
		}
	}
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, lastLines(stdout.String()+stderr.String(), 20))
	}
	return stdout.String(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Releases is a database whose published versions the harness can
// list, from the Go module proxy: what `harness bisect` searches.
type Releases interface {
	// Releases are the versions published, in no particular order.
	Releases(ctx context.Context, cacheDir string) ([]string, error)
}

// ModuleVersions lists the versions of module the Go module proxy
// serves (`go list -m -versions`), from a scratch module under cacheDir.
// The proxy lists tagged versions only, never the commits between them.
func ModuleVersions(ctx context.Context, module, cacheDir string) ([]string, error) {
	dir := filepath.Join(cacheDir, "src", "versions")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("listing %s's versions: %w", module, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module versions\n\ngo 1.24\n"), 0o644); err != nil {
		return nil, fmt.Errorf("listing %s's versions: %w", module, err)
	}
	out, err := runGo(ctx, dir, []string{"GOTOOLCHAIN=local"}, []string{"list", "-m", "-versions", module})
	if err != nil {
		return nil, fmt.Errorf("listing %s's versions (the Go module proxy must answer): %w", module, err)
	}
	fields := strings.Fields(out)
	if len(fields) < 2 {
		return nil, fmt.Errorf("the Go module proxy lists no versions of %s", module)
	}
	return fields[1:], nil
}
