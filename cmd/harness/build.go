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

	"github.com/election-harness/harness/cluster"
	"github.com/election-harness/harness/db"
)

func buildCmd() *cobra.Command {
	var dbName, version, binary, cacheDir string
	c := &cobra.Command{
		Use:   "build --db D --version V",
		Short: "Prebuild the database binary and the node image (cached by version)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := lookupDB(dbName)
			if err != nil {
				return setupError("%v", err)
			}
			if version == "" {
				version = d.DefaultVersion()
			}
			start := time.Now()
			p, err := prepareImage(cmd.Context(), d, version, binary, cacheDir, os.Stderr)
			if err != nil {
				return setupError("%v", err)
			}
			fmt.Printf("%s %s: binary %s\nimage %s (%.1fs)\n", d.Name(), version, p.dbBinary, p.image, time.Since(start).Seconds())
			return nil
		},
	}
	c.Flags().StringVar(&dbName, "db", "etcd", "database: etcd")
	c.Flags().StringVar(&version, "version", "", "version (default: the pinned version of --db)")
	c.Flags().StringVar(&binary, "binary", "", "use this static database binary instead of building one")
	c.Flags().StringVar(&cacheDir, "cache", db.DefaultCacheDir(), "cache of built database binaries")
	return c
}

// prepared is what a run needs before it can start nodes.
type prepared struct {
	docker   *cluster.Docker
	dbBinary string
	image    string
}

// prepareImage connects to Docker, builds (or finds cached) the database
// binary and the node image holding it and this harness binary.
func prepareImage(ctx context.Context, d db.DB, version, binary, cacheDir string, log io.Writer) (prepared, error) {
	self, err := staticSelf()
	if err != nil {
		return prepared{}, err
	}
	return prepareImageWith(ctx, d, version, binary, cacheDir, self, log)
}

// prepareImageWith is prepareImage with the harness binary to put in the
// image given (tests build their own).
func prepareImageWith(ctx context.Context, d db.DB, version, binary, cacheDir, self string, log io.Writer) (p prepared, err error) {
	p.docker, err = cluster.NewDocker(ctx, cluster.DockerOptions{})
	if err != nil {
		return p, err
	}
	if binary != "" {
		if err := checkStatic(binary); err != nil {
			return p, fmt.Errorf("--binary: %w", err)
		}
		p.dbBinary = binary
	} else {
		p.dbBinary, err = d.Build(ctx, version, cacheDir, log)
		if err != nil {
			return p, fmt.Errorf("building %s %s: %w", d.Name(), version, err)
		}
	}
	p.image, err = p.docker.BuildImage(ctx, cluster.ImageSpec{
		DB: d.Name(), Version: version, DBBinary: p.dbBinary, DBPath: d.BinaryPath(), Harness: self,
	})
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
