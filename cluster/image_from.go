package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"

	"github.com/docker/docker/api/types/container"
)

// ImageFrom builds (or finds) a node image from base, an image already on
// the daemon that holds the database binary. base may be an official
// release image or a team's own build, and is never pulled. The harness is
// copied in as the agent. The database binary is copied to spec.DBPath from
// wherever base keeps it: spec.DBPath, a directory of its PATH,
// /usr/local/bin, /usr/bin or /bin. spec.DBBinary is not used.
func (d *Docker) ImageFrom(ctx context.Context, spec ImageSpec, base string) (string, error) {
	info, err := d.cli.ImageInspect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("image %s is not on the Docker daemon (the harness never pulls: docker load or docker build it first): %w", base, err)
	}
	var env []string
	if info.Config != nil {
		env = info.Config.Env
	}
	found, err := d.findInImage(ctx, base, spec.DBPath, imagePath(env))
	if err != nil {
		return "", err
	}
	self, err := hashFiles(spec.Harness)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(info.ID + "\n" + self + "\n" + found))
	repo, tag := "election-harness/"+spec.DB, "from-"+hex.EncodeToString(sum[:])[:12]
	ref := repo + ":" + tag
	if _, err := d.cli.ImageInspect(ctx, ref); err == nil {
		return ref, nil
	}
	var df strings.Builder
	fmt.Fprintf(&df, "FROM %s\n", base)
	if found != spec.DBPath {
		fmt.Fprintf(&df, "COPY --from=%s %s %s\n", base, found, spec.DBPath)
	}
	// The agent needs root for its faults (nftables, ptrace, freezing).
	df.WriteString("COPY harness /harness\nUSER 0\nENTRYPOINT [\"/harness\", \"agent\"]\nCMD []\n")
	if err := d.buildImage(ctx, repo, tag, df.String(), map[string]string{"harness": spec.Harness}); err != nil {
		return "", fmt.Errorf("adding the agent to %s: %w", base, err)
	}
	return ref, nil
}

// imagePath is the PATH an image's environment sets, if any.
func imagePath(env []string) string {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			return v
		}
	}
	return ""
}

// findInImage looks for the database binary in base's file system, in a
// container created (never started) from it.
func (d *Docker) findInImage(ctx context.Context, base, want, pathEnv string) (string, error) {
	name := path.Base(want)
	candidates := []string{want}
	for _, dir := range append(strings.Split(pathEnv, ":"), "/usr/local/bin", "/usr/bin", "/bin") {
		if strings.HasPrefix(dir, "/") {
			candidates = append(candidates, path.Join(dir, name))
		}
	}
	created, err := d.cli.ContainerCreate(ctx, &container.Config{Image: base, Entrypoint: []string{"/nonexistent"},
		Labels: map[string]string{LabelHarness: "1"}}, nil, nil, nil, "")
	if err != nil {
		return "", fmt.Errorf("looking into image %s: %w", base, err)
	}
	defer d.cli.ContainerRemove(context.WithoutCancel(ctx), created.ID, container.RemoveOptions{Force: true})
	for _, c := range candidates {
		st, err := d.cli.ContainerStatPath(ctx, created.ID, c)
		if err != nil {
			continue
		}
		if st.LinkTarget != "" {
			c = st.LinkTarget
		}
		if st.Mode.IsDir() {
			continue
		}
		return c, nil
	}
	return "", fmt.Errorf("image %s has no %s binary (looked in %s)", base, name, strings.Join(candidates, ", "))
}
