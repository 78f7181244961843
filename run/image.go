package run

import (
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/election-harness/harness/cluster"
	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/kube"
)

// Source is where a run's database comes from: a version built from its
// Go module, a static binary, or an existing image that holds one.
// Failpoints builds the version with failpoints (db.Failpoints),
// Patches from sources changed by the named patches (db.SourcePatches).
type Source struct {
	Version, Binary, Image string
	Failpoints             bool
	Patches                []string
	// KubeAPIServer is the host path of a kube-apiserver binary to put
	// in the image too, for apiserver nodes ("" for none).
	KubeAPIServer string
}

// Image is a prepared node image.
type Image struct {
	// Name is the image's name on the backend.
	Name string
	// DBBinary is the database binary put in it ("" when made from an
	// image that held one).
	DBBinary string
}

// PrepareImage builds (or finds cached) the database binary and the
// node image holding it and the harness binary (every node's agent), or
// makes the node image from src.Image.
func PrepareImage(ctx context.Context, b cluster.Backend, d db.DB, src Source, cacheDir, harness string, log io.Writer) (Image, error) {
	if src.Binary != "" && src.Image != "" {
		return Image{}, fmt.Errorf("--binary and --image: give one (an image holds its own binary)")
	}
	spec := cluster.ImageSpec{DB: d.Name(), Version: src.Version, DBPath: d.ServerPath(), Harness: harness}
	server := d.Server
	if src.Failpoints {
		fp, ok := d.(db.Failpoints)
		if !ok {
			return Image{}, fmt.Errorf("--failpoints: %s cannot be built with failpoints", d.Name())
		}
		server = fp.FailpointServer
	}
	if len(src.Patches) > 0 {
		sp, ok := d.(db.SourcePatches)
		if !ok {
			return Image{}, fmt.Errorf("--patch: %s has no source patches", d.Name())
		}
		server = func(ctx context.Context, version, cacheDir string, log io.Writer) (db.ServerImage, error) {
			return sp.PatchedServer(ctx, version, src.Patches, src.Failpoints, cacheDir, log)
		}
	}
	switch {
	case src.Image != "":
		image, err := b.ImageFrom(ctx, spec, src.Image)
		if err != nil {
			return Image{}, fmt.Errorf("--image: %w", err)
		}
		return Image{Name: image}, nil
	case src.Binary != "":
		if err := CheckStatic(src.Binary); err != nil {
			return Image{}, fmt.Errorf("--binary: %w", err)
		}
		spec.DBBinary = src.Binary
	case strings.Contains(src.Version, ",") || strings.Contains(src.Version, rolling):
		// Several versions: each server at its own path.
		for i, v := range distinct(Config{Version: src.Version}.Versions()) {
			srv, err := server(ctx, v, cacheDir, log)
			if err != nil {
				return Image{}, fmt.Errorf("building %s %s: %w", d.Name(), v, err)
			}
			if i == 0 {
				spec.DBBinary, spec.DBPath = srv.Binary, serverPath(srv.PathInImage, v)
				continue
			}
			spec.Servers = append(spec.Servers, cluster.ServerFile{Binary: srv.Binary, Path: serverPath(srv.PathInImage, v)})
		}
	default:
		srv, err := server(ctx, src.Version, cacheDir, log)
		if err != nil {
			return Image{}, fmt.Errorf("building %s %s: %w", d.Name(), src.Version, err)
		}
		spec.DBBinary, spec.DBPath = srv.Binary, srv.PathInImage
	}
	if src.KubeAPIServer != "" {
		spec.Servers = append(spec.Servers, cluster.ServerFile{Binary: src.KubeAPIServer, Path: kube.BinaryPath})
	}
	image, err := b.BuildImage(ctx, spec)
	if err != nil {
		return Image{}, fmt.Errorf("building the node image: %w", err)
	}
	return Image{Name: image, DBBinary: spec.DBBinary}, nil
}

// StaticSelf is this binary, which every node runs as its agent; it must
// be static because node images are FROM scratch.
func StaticSelf() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the harness binary: %w", err)
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return "", fmt.Errorf("finding the harness binary: %w", err)
	}
	if err := CheckStatic(self); err != nil {
		return "", fmt.Errorf("the harness binary %w; build it with CGO_ENABLED=0 (make build)", err)
	}
	return self, nil
}

// CheckStatic refuses a dynamically linked ELF binary: it would not run
// in a FROM-scratch image.
func CheckStatic(path string) error {
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
