package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"

	"github.com/election-harness/harness/agent"
)

// Labels on everything the harness creates, so Clean can find it.
const (
	LabelHarness = "io.election-harness"
	LabelRun     = "io.election-harness.run"
	LabelNode    = "io.election-harness.node"
)

// SetupError is a problem with the machine, not the test: Docker is
// absent or refuses. Its message names the fix.
type SetupError struct{ Err error }

func (e *SetupError) Error() string { return e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

// DockerOptions configures the Docker backend.
type DockerOptions struct {
	// AgentTimeout bounds the wait for every agent to answer.
	AgentTimeout time.Duration
}

// Docker starts nodes as containers with testcontainers-go.
type Docker struct {
	provider *testcontainers.DockerProvider
	cli      client.APIClient
	opts     DockerOptions
}

// NewDocker connects to the Docker daemon. The Ryuk reaper is turned off
// (its image cannot be pulled here); the harness removes what it creates
// itself, by label.
func NewDocker(ctx context.Context, opts DockerOptions) (d *Docker, err error) {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	if opts.AgentTimeout == 0 {
		opts.AgentTimeout = 30 * time.Second
	}
	unreachable := func(cause any) error {
		host := os.Getenv("DOCKER_HOST")
		if host == "" {
			host = "unix:///var/run/docker.sock"
		}
		return &SetupError{fmt.Errorf("cannot reach the Docker daemon at %s: %v; is it running? start it (`systemctl start docker` or `dockerd &`) or set DOCKER_HOST", host, cause)}
	}
	// testcontainers panics when it finds no Docker host at all.
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, unreachable(r)
		}
	}()
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		return nil, unreachable(err)
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.Health(hctx); err != nil {
		return nil, unreachable(err)
	}
	return &Docker{provider: p, cli: p.Client(), opts: opts}, nil
}

// ImageSpec describes a node image.
type ImageSpec struct {
	DB       string
	Version  string
	DBBinary string // host path of the static database binary
	DBPath   string // its path in the image, e.g. /etcd
	Harness  string // host path of the static harness binary
}

// BuildImage builds (or finds) a FROM-scratch image holding the database
// binary and the harness, tagged by a hash of both binaries. The classic
// builder with FROM scratch pulls nothing.
func (d *Docker) BuildImage(ctx context.Context, spec ImageSpec) (string, error) {
	sum, err := hashFiles(spec.DBBinary, spec.Harness)
	if err != nil {
		return "", err
	}
	repo := "election-harness/" + spec.DB
	tag := strings.NewReplacer("+", "_", "/", "_").Replace(spec.Version) + "-" + sum[:12]
	ref := repo + ":" + tag
	if _, err := d.cli.ImageInspect(ctx, ref); err == nil {
		return ref, nil
	}
	dbName := filepath.Base(spec.DBPath)
	dockerfile := fmt.Sprintf("FROM scratch\nCOPY %s %s\nCOPY harness /harness\nENTRYPOINT [\"/harness\", \"agent\"]\n", dbName, spec.DBPath)
	return ref, d.buildImage(ctx, repo, tag, dockerfile, map[string]string{dbName: spec.DBBinary, "harness": spec.Harness})
}

// buildImage builds repo:tag from a Dockerfile and files (name in the
// build context -> host path) with the classic builder, which pulls
// nothing that is on the daemon.
func (d *Docker) buildImage(ctx context.Context, repo, tag, dockerfile string, files map[string]string) error {
	dir, err := os.MkdirTemp("", "harness-image-")
	if err != nil {
		return fmt.Errorf("creating build context: %w", err)
	}
	defer os.RemoveAll(dir)
	for name, src := range files {
		if err := copyFile(src, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return err
	}
	_, err = d.provider.BuildImage(ctx, &testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		Context: dir, Repo: repo, Tag: tag, KeepImage: true,
		BuildOptionsModifier: func(o *build.ImageBuildOptions) {
			o.Version = build.BuilderV1
			o.PullParent = false
			o.Labels = map[string]string{LabelHarness: "1"}
		},
	}})
	if err != nil {
		return fmt.Errorf("building image %s:%s: %w", repo, tag, err)
	}
	return nil
}

// Start implements Backend.
func (d *Docker) Start(ctx context.Context, spec Spec) (_ Cluster, err error) {
	labels := map[string]string{LabelHarness: "1", LabelRun: spec.RunID}
	c := &dockerCluster{d: d}
	defer func() {
		if err != nil {
			c.Close(context.WithoutCancel(ctx))
		}
	}()
	prefix, err := d.createNetwork(ctx, labels, c)
	if err != nil {
		return nil, err
	}
	// Nodes get .10, .11, ... in spec order; .1 is the gateway, the
	// host's address on the network, which no rule ever cuts.
	addrs := map[string]netip.Addr{}
	base := prefix.Addr().As4()
	for i, n := range spec.Nodes {
		a := base
		a[3] = byte(10 + i)
		addrs[n.Name] = netip.AddrFrom4(a)
	}
	c.nodes = make([]*dockerNode, len(spec.Nodes))
	errs := make([]error, len(spec.Nodes))
	var wg sync.WaitGroup
	for i, n := range spec.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.nodes[i], errs[i] = d.startNode(ctx, spec, n, addrs, labels, c.netName)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, n := range c.nodes {
		if err := d.waitAgent(ctx, n); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// createNetwork makes the run's bridge network on a free /24 of
// 10.213.0.0/16, retrying when Docker reports an overlap.
func (d *Docker) createNetwork(ctx context.Context, labels map[string]string, c *dockerCluster) (netip.Prefix, error) {
	var last error
	for try := 0; try < 20; try++ {
		third := rand.IntN(254) + 1
		prefix := netip.MustParsePrefix(fmt.Sprintf("10.213.%d.0/24", third))
		gw := prefix.Addr().Next()
		nw, err := tcnetwork.New(ctx,
			tcnetwork.WithDriver("bridge"),
			tcnetwork.WithLabels(labels),
			tcnetwork.WithIPAM(&network.IPAM{Config: []network.IPAMConfig{{Subnet: prefix.String(), Gateway: gw.String()}}}),
		)
		if err == nil {
			c.network, c.netName = nw, nw.Name
			return prefix, nil
		}
		last = err
		if !strings.Contains(err.Error(), "overlap") {
			break
		}
	}
	return netip.Prefix{}, fmt.Errorf("creating the run network: %w", last)
}

func (d *Docker) startNode(ctx context.Context, spec Spec, n NodeSpec, addrs map[string]netip.Addr, labels map[string]string, netName string) (*dockerNode, error) {
	ip := addrs[n.Name]
	args := []string{"--name", n.Name, "--data", n.DataDir}
	if n.Role == RoleCampaigner {
		args = append(args, "--stdio")
	}
	args = append(append(args, "--"), n.Command(addrs)...)
	nodeLabels := map[string]string{LabelNode: n.Name}
	for k, v := range labels {
		nodeLabels[k] = v
	}
	req := testcontainers.GenericContainerRequest{Started: true, ContainerRequest: testcontainers.ContainerRequest{
		Image:          spec.Image,
		Name:           fmt.Sprintf("eh-%s-%s", spec.RunID, n.Name),
		Cmd:            args,
		Labels:         nodeLabels,
		Networks:       []string{netName},
		NetworkAliases: map[string][]string{netName: {n.Name}},
		ConfigModifier: func(c *container.Config) { c.Hostname = n.Name },
		HostConfigModifier: func(h *container.HostConfig) {
			h.CapAdd = []string{"NET_ADMIN", "SYS_PTRACE"}
		},
		EndpointSettingsModifier: func(m map[string]*network.EndpointSettings) {
			if es, ok := m[netName]; ok {
				es.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: ip.String()}
			}
		},
	}}
	for _, f := range n.Files {
		req.Files = append(req.Files, testcontainers.ContainerFile{HostFilePath: f.HostPath, ContainerFilePath: f.NodePath, FileMode: f.Mode})
	}
	ctr, err := testcontainers.GenericContainer(ctx, req)
	if err != nil {
		if ctr != nil {
			ctr.Terminate(context.WithoutCancel(ctx))
		}
		return nil, fmt.Errorf("starting node %s: %w", n.Name, err)
	}
	return &dockerNode{name: n.Name, role: n.Role, ip: ip, ctr: ctr, cli: d.cli,
		agent: agent.NewClient(netip.AddrPortFrom(ip, agent.ControlPort).String())}, nil
}

// waitAgent waits until the node's agent answers from the host.
func (d *Docker) waitAgent(ctx context.Context, n *dockerNode) error {
	deadline := time.Now().Add(d.opts.AgentTimeout)
	var last error
	for time.Now().Before(deadline) {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := n.agent.Status(sctx)
		cancel()
		if err == nil {
			return nil
		}
		last = err
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(100 * time.Millisecond)
	}
	logs, _ := n.Logs(context.WithoutCancel(ctx))
	return fmt.Errorf("node %s: agent did not answer at %s within %v: %v\nlast log lines:\n%s",
		n.name, n.agent.Addr(), d.opts.AgentTimeout, last, tailLines(string(logs), 20))
}

// CleanReport says what Clean removed.
type CleanReport struct {
	Containers, Networks int
	// Phantoms are networks with no container that the daemon will not
	// remove: it kept an endpoint of a removed container (a daemon bug;
	// restarting dockerd drops them). They hold nothing of a run.
	Phantoms []string
}

func (r CleanReport) String() string {
	s := fmt.Sprintf("removed %d container(s) and %d network(s)", r.Containers, r.Networks)
	if len(r.Phantoms) > 0 {
		s += fmt.Sprintf("; %d network(s) with no container that the daemon will not remove (a phantom endpoint; restart dockerd to drop them): %s",
			len(r.Phantoms), strings.Join(r.Phantoms, ", "))
	}
	return s
}

// phantom reports whether a network that refused removal has no
// container left: the daemon kept the endpoint of a removed one.
func (d *Docker) phantom(ctx context.Context, id string, removeErr error) bool {
	if removeErr == nil || !strings.Contains(removeErr.Error(), "active endpoints") {
		return false
	}
	n, err := d.cli.NetworkInspect(ctx, id, network.InspectOptions{})
	return err == nil && len(n.Containers) == 0
}

// Clean removes every container and network labelled by the harness,
// from any run, in any state. Built images are kept: they are a cache.
func (d *Docker) Clean(ctx context.Context) (CleanReport, error) {
	var rep CleanReport
	f := filters.NewArgs(filters.Arg("label", LabelHarness+"=1"))
	ctrs, err := d.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return rep, fmt.Errorf("listing containers: %w", err)
	}
	var errs []error
	for _, c := range ctrs {
		if c.State == "paused" {
			_ = d.cli.ContainerUnpause(ctx, c.ID) // a frozen container does not stop
		}
		if err := d.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			errs = append(errs, fmt.Errorf("removing container %s: %w", c.ID[:12], err))
			continue
		}
		rep.Containers++
	}
	nets, err := d.cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return rep, errors.Join(append(errs, fmt.Errorf("listing networks: %w", err))...)
	}
	for _, n := range nets {
		if err := d.cli.NetworkRemove(ctx, n.ID); err != nil {
			if d.phantom(ctx, n.ID, err) {
				rep.Phantoms = append(rep.Phantoms, n.Name)
				continue
			}
			errs = append(errs, fmt.Errorf("removing network %s: %w", n.Name, err))
			continue
		}
		rep.Networks++
	}
	return rep, errors.Join(errs...)
}

type dockerCluster struct {
	d       *Docker
	network *testcontainers.DockerNetwork
	netName string
	nodes   []*dockerNode

	once     sync.Once
	closeErr error
}

func (c *dockerCluster) Nodes() []Node {
	out := make([]Node, 0, len(c.nodes))
	for _, n := range c.nodes {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// Close removes every node and the network. It does not use ctx's
// cancellation: cleanup must finish even after Ctrl-C.
func (c *dockerCluster) Close(ctx context.Context) error {
	c.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		var mu sync.Mutex
		var errs []error
		var wg sync.WaitGroup
		for _, n := range c.nodes {
			if n == nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = n.Thaw(ctx) // a frozen container does not stop
				if err := n.ctr.Terminate(ctx, testcontainers.StopTimeout(2*time.Second)); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("removing %s: %w", n.name, err))
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if c.network != nil {
			if err := c.removeNetwork(ctx); err != nil {
				errs = append(errs, fmt.Errorf("removing network %s: %w", c.netName, err))
			}
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// removeNetwork retries: on a busy daemon a removed container's endpoint
// can outlive it for a moment ("has active endpoints"). A network that
// is already gone is removed.
func (c *dockerCluster) removeNetwork(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		err := c.network.Remove(ctx)
		if err == nil || client.IsErrNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}

type dockerNode struct {
	name, role string
	ip         netip.Addr
	ctr        testcontainers.Container
	cli        client.APIClient
	agent      *agent.Client
}

// Freeze is `docker pause`: the cgroup freezer on the whole container.
func (n *dockerNode) Freeze(ctx context.Context) error {
	if err := n.cli.ContainerPause(ctx, n.ctr.GetContainerID()); err != nil {
		return fmt.Errorf("freezing %s: %w", n.name, err)
	}
	return nil
}

// Thaw is `docker unpause`, when the container is paused.
func (n *dockerNode) Thaw(ctx context.Context) error {
	info, err := n.cli.ContainerInspect(ctx, n.ctr.GetContainerID())
	if err != nil {
		return fmt.Errorf("inspecting %s: %w", n.name, err)
	}
	if info.State == nil || !info.State.Paused {
		return nil
	}
	if err := n.cli.ContainerUnpause(ctx, n.ctr.GetContainerID()); err != nil {
		return fmt.Errorf("thawing %s: %w", n.name, err)
	}
	return nil
}

func (n *dockerNode) Name() string         { return n.name }
func (n *dockerNode) Role() string         { return n.role }
func (n *dockerNode) IP() netip.Addr       { return n.ip }
func (n *dockerNode) Agent() *agent.Client { return n.agent }

// Logs returns the container's stdout and stderr, interleaved as Docker
// stored them.
func (n *dockerNode) Logs(ctx context.Context) ([]byte, error) {
	rc, err := n.ctr.Logs(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading logs of %s: %w", n.name, err)
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func hashFiles(paths ...string) (string, error) {
	h := sha256.New()
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", p, err)
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", p, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("reading %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copying %s: %w", src, err)
	}
	return out.Close()
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
