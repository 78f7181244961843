package etcd

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/election-harness/harness/db"
)

var _ db.Failpoints = DB{}

// gofailModule is pinned in the harness's go.mod (a tool), so that the
// module cache always holds it: the failpoint build needs nothing more
// than the stock build does.
const (
	gofailModule  = "go.etcd.io/gofail"
	gofailVersion = "v0.2.0"
	serverModule  = "go.etcd.io/etcd/server/v3"
)

// failpointPort is where each member serves its failpoint control
// (GOFAIL_HTTP), on its own address: the harness sets failpoints from
// the host, as it probes members.
const failpointPort = 22381

// gofailDirs are the server packages whose failpoints are enabled, as
// etcd's own builds list them: v3.6 (tests/robustness/Makefile) and
// v3.5 (build.sh's toggle_failpoints, plus lease). A version has some
// of them; the others are skipped.
var gofailDirs = []string{
	"etcdserver", "lease", "lease/leasehttp",
	"storage", "storage/backend", "storage/mvcc", "storage/wal",
	"etcdserver/api/v3rpc", "etcdserver/api/membership", "etcdserver/api/rafthttp",
	"mvcc", "mvcc/backend", "wal", // v3.5
}

// failpointPatches add the failpoints a fix brought with it to the
// versions that have the bug: each goes where the fixed release has it.
var failpointPatches = []db.FailpointPatch{
	// etcd #20590 (issue #20547, fixed in v3.5.23 and v3.6.5): Renew
	// refreshes a lease it looked up before this point without looking
	// again, so a lease revoked meanwhile is answered as renewed.
	{File: "lease/lessor.go", Line: "// gofail: var beforeCheckpointInLeaseRenew struct{}", Anchor: "if clearRemainingTTL {"},
}

// failpointRecipe is part of the cached build's name: change it when
// the build changes (gofailDirs, failpointPatches), so that a binary an
// older recipe built is not reused. p1: the #20590 patch.
const failpointRecipe = "p1"

// FailpointServer builds etcd with its gofail failpoints enabled (see
// sourceServer), cached as etcd-failpoints-VERSION-RECIPE, apart from the
// stock build, so runs without failpoints keep the stock binary.
func (d DB) FailpointServer(ctx context.Context, version, cacheDir string, log io.Writer) (db.ServerImage, error) {
	return d.sourceServer(ctx, version, nil, true, cacheDir, log)
}

// PatchedServer builds etcd from sources changed by the named patches
// (sourcePatches), with failpoints too if asked.
func (d DB) PatchedServer(ctx context.Context, version string, patches []string, failpoints bool, cacheDir string, log io.Writer) (db.ServerImage, error) {
	ps, err := db.LookupPatches(sourcePatches, patches)
	if err != nil {
		return db.ServerImage{}, err
	}
	return d.sourceServer(ctx, version, ps, failpoints, cacheDir, log)
}

// sourceServer builds etcd from a copy of the server module's sources
// out of the module cache: the source patches applied, and if
// failpoints, the failpoint patches and `gofail enable` too; the
// wrapper's requirement of the module is replaced by the copy. The
// cached name says what changed (etcd-failpoints for failpoints, the
// recipe tag, each patch's tag).
func (d DB) sourceServer(ctx context.Context, version string, patches []db.SourcePatch, failpoints bool, cacheDir string, log io.Writer) (db.ServerImage, error) {
	name, recipe := "etcd", []string{}
	if failpoints {
		name, recipe = "etcd-failpoints", append(recipe, failpointRecipe)
	}
	for _, p := range patches {
		recipe = append(recipe, p.Tag())
	}
	b := db.GoModuleBuild{Name: name, Module: serverModule, MainGo: etcdMain, Version: version,
		// v3.6.16 asks for a newer toolchain than it needs: build with
		// the local one rather than download another.
		Env:    []string{"GOTOOLCHAIN=local"},
		Recipe: strings.Join(recipe, "-"),
		Prepare: func(ctx context.Context, src string, goCmd func(args ...string) (string, error)) error {
			copyDir := filepath.Join(src, "server")
			if err := db.CopyModule(serverModule, copyDir, goCmd); err != nil {
				return err
			}
			if err := db.ApplySourcePatches(copyDir, patches); err != nil {
				return fmt.Errorf("etcd %s: %w", version, err)
			}
			for _, p := range patches {
				fmt.Fprintf(log, "source patch applied: %s (%s)\n", p.Name, p.File)
			}
			if failpoints {
				if _, err := goCmd("get", gofailModule+"@"+gofailVersion); err != nil {
					return err
				}
				patched, err := db.ApplyFailpointPatches(copyDir, failpointPatches)
				if err != nil {
					return err
				}
				for _, p := range patched {
					fmt.Fprintf(log, "failpoint patched in: %s\n", p)
				}
				enabled, err := db.GofailEnable(copyDir, gofailModule, gofailDirs, goCmd)
				if err != nil {
					return err
				}
				fmt.Fprintf(log, "failpoints enabled in %d packages of %s %s\n", len(enabled), serverModule, version)
			}
			// The copy's own replace directives are ignored: only the
			// main module's count.
			_, err := goCmd("mod", "edit", "-replace", serverModule+"=./server")
			return err
		}}
	bin, err := b.Build(ctx, cacheDir, log)
	if err != nil {
		return db.ServerImage{}, err
	}
	return db.ServerImage{Binary: bin, PathInImage: d.ServerPath()}, nil
}

// FailpointEnv has gofail serve its control on every address of the
// member's node (its own, on the run's network).
func (DB) FailpointEnv(db.Member) []string {
	return []string{fmt.Sprintf("GOFAIL_HTTP=:%d", failpointPort)}
}

func failpoints(m db.Member) db.GofailClient {
	return db.NewGofailClient(fmt.Sprintf("http://%s:%d", m.IP, failpointPort))
}

func (DB) SetFailpoint(ctx context.Context, m db.Member, name, terms string) error {
	return failpoints(m).Set(ctx, name, terms)
}

func (DB) ClearFailpoint(ctx context.Context, m db.Member, name string) error {
	return failpoints(m).Clear(ctx, name)
}

func (DB) ListFailpoints(ctx context.Context, m db.Member) (map[string]string, error) {
	return failpoints(m).List(ctx)
}
