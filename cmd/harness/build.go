package main

import (
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/election-harness/harness/cluster"
	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/registry"
)

func buildCmd() *cobra.Command {
	var dbName, cacheDir string
	var src dbSource
	c := &cobra.Command{
		Use:   "build --db D --version V",
		Short: "Prebuild the database binary and the node image (cached by version)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := registry.Lookup(dbName)
			if err != nil {
				return setupError("%v", err)
			}
			src.defaultVersion(d)
			start := time.Now()
			p, err := prepareImage(cmd.Context(), d, src, cacheDir, os.Stderr)
			if err != nil {
				return setupError("%v", err)
			}
			from := "binary " + p.dbBinary
			if src.image != "" {
				from = "from image " + src.image
			}
			fmt.Printf("%s %s: %s\nimage %s (%.1fs)\n", d.Name(), src.version, from, p.image, time.Since(start).Seconds())
			return nil
		},
	}
	c.Flags().StringVar(&dbName, "db", registry.Default().Name(), "database: "+registry.Or(registry.Names()))
	src.flags(c.Flags())
	c.Flags().StringVar(&cacheDir, "cache", db.DefaultCacheDir(), "cache of built database binaries")
	return c
}

// prepared is what a run needs before it can start nodes.
type prepared struct {
	docker   *cluster.Docker
	dbBinary string
	image    string
}

// dbSource is where a run's database comes from: a version built from
// its Go module, a static binary, or an existing image that holds one.
type dbSource struct{ version, binary, image string }

// defaultVersion fills in the pinned version of d unless it comes from
// an image, which has the version it has. (A --binary keeps the pinned
// version as the label of its node image.)
func (s *dbSource) defaultVersion(d db.DB) {
	if s.version == "" && s.image == "" {
		s.version = d.DefaultVersion()
	}
}

func (s *dbSource) flags(fl *pflag.FlagSet) {
	fl.StringVar(&s.version, "version", "", "database version to build (default: the pinned version of --db)")
	fl.StringVar(&s.binary, "binary", "", "use this static database binary instead of building one")
	fl.StringVar(&s.image, "image", "", "use this image, already on the Docker daemon, which holds the database binary (the agent is copied in)")
}

// prepareImage connects to Docker, builds (or finds cached) the database
// binary and the node image holding it and this harness binary.
func prepareImage(ctx context.Context, d db.DB, src dbSource, cacheDir string, log io.Writer) (prepared, error) {
	self, err := staticSelf()
	if err != nil {
		return prepared{}, err
	}
	return prepareImageWith(ctx, d, src, cacheDir, self, log)
}

// prepareImageWith is prepareImage with the harness binary to put in the
// image given (tests build their own).
func prepareImageWith(ctx context.Context, d db.DB, src dbSource, cacheDir, self string, log io.Writer) (p prepared, err error) {
	if src.binary != "" && src.image != "" {
		return p, fmt.Errorf("--binary and --image: give one (an image holds its own binary)")
	}
	p.docker, err = cluster.NewDocker(ctx, cluster.DockerOptions{})
	if err != nil {
		return p, err
	}
	spec := cluster.ImageSpec{DB: d.Name(), Version: src.version, DBPath: d.ServerPath(), Harness: self}
	switch {
	case src.image != "":
		p.image, err = p.docker.ImageFrom(ctx, spec, src.image)
		if err != nil {
			return p, fmt.Errorf("--image: %w", err)
		}
		return p, nil
	case src.binary != "":
		if err := checkStatic(src.binary); err != nil {
			return p, fmt.Errorf("--binary: %w", err)
		}
		p.dbBinary = src.binary
	default:
		srv, err := d.Server(ctx, src.version, cacheDir, log)
		if err != nil {
			return p, fmt.Errorf("building %s %s: %w", d.Name(), src.version, err)
		}
		p.dbBinary, spec.DBPath = srv.Binary, srv.PathInImage
	}
	spec.DBBinary = p.dbBinary
	p.image, err = p.docker.BuildImage(ctx, spec)
	if err != nil {
		return p, fmt.Errorf("building the node image: %w", err)
	}
	return p, nil
}

// staticSelf is this binary, which every node runs as its agent; it must
// be static because node images are FROM scratch.
func staticSelf() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the harness binary: %w", err)
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return "", fmt.Errorf("finding the harness binary: %w", err)
	}
	if err := checkStatic(self); err != nil {
		return "", fmt.Errorf("the harness binary %w; build it with CGO_ENABLED=0 (make build)", err)
	}
	return self, nil
}

// checkStatic refuses a dynamically linked ELF binary: it would not run
// in a FROM-scratch image.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s is not a Linux executable: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked", path)
		}
	}
	return nil
}
