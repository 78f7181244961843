package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
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

// SetupError is a failure to run a test, not a verdict on it: Docker is
// absent or refuses, a setting cannot mean what it says, a history
// cannot be checked. Its message names the fix.
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
	engine   Engine
}

// NewDocker connects to the one Docker engine DOCKER_HOST or the
// current Docker context names (ResolveEngine), and to no other: when it
// cannot be reached the error names it, and nothing is created
// anywhere. (testcontainers-go, left to itself, falls back to the
// default socket and others when the named engine does not answer: the
// harness checks the engine itself, then pins testcontainers to it.)
// The Ryuk reaper is turned off (its image cannot be pulled here); the
// harness removes what it creates itself, by label.
func NewDocker(ctx context.Context, opts DockerOptions) (d *Docker, err error) {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	if opts.AgentTimeout == 0 {
		opts.AgentTimeout = 30 * time.Second
	}
	eng, err := ResolveEngine()
	if err != nil {
		return nil, &SetupError{fmt.Errorf("finding the Docker engine to use: %w", err)}
	}
	if why := eng.remote(); why != "" {
		return nil, &SetupError{fmt.Errorf("the Docker engine %v is not usable from here: %s. The harness reaches every node at its address on the run's bridge network, which only the engine's own host can route; run the harness on that host (see \"Running the clusters on a bigger remote host\" in docs/running.md)", eng, why)}
	}
	unreachable := func(cause any) error {
		return &SetupError{fmt.Errorf("cannot reach the Docker engine at %v: %v; nothing was started, and no other engine is tried. Start it (`systemctl start docker` or `dockerd &`), or name another with DOCKER_HOST or `docker context use`", eng, cause)}
	}
	// The harness's own look first, with a deadline: testcontainers
	// would try other engines.
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithHost(eng.Host), client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, unreachable(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = cli.Ping(pctx)
	cancel()
	cli.Close()
	if err != nil {
		return nil, unreachable(err)
	}
	// testcontainers takes DOCKER_HOST before every fallback (only a
	// tc.host in ~/.testcontainers.properties comes first: checked below).
	os.Setenv("DOCKER_HOST", eng.Host)
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
	if got := p.Client().DaemonHost(); got != eng.Host {
		return nil, &SetupError{fmt.Errorf("testcontainers-go chose the Docker engine %s, not %v (a tc.host in ~/.testcontainers.properties?); the harness uses only the engine named", got, eng)}
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.Health(hctx); err != nil {
		return nil, unreachable(err)
	}
	return &Docker{provider: p, cli: p.Client(), opts: opts, engine: eng}, nil
}

// Engine is the Docker engine in use.
func (d *Docker) Engine() Engine { return d.engine }

// ImageSpec describes a node image.
type ImageSpec struct {
	DB       string
	Version  string
	DBBinary string // host path of the static database binary
	DBPath   string // its path in the image, e.g. /etcd
	Harness  string // host path of the static harness binary
	// Servers are more database binaries, each at its own path: the
	// other versions of a run of several (--version OLD,NEW).
	Servers []ServerFile
}

// ServerFile is one more database binary of a node image.
type ServerFile struct {
	Binary string // host path of the static binary
	Path   string // its path in the image
}

// BuildImage builds (or finds) a FROM-scratch image holding the database
// binary and the harness, tagged by a hash of both binaries. The classic
// builder with FROM scratch pulls nothing.
func (d *Docker) BuildImage(ctx context.Context, spec ImageSpec) (string, error) {
	hashed := []string{spec.DBBinary, spec.Harness}
	for _, s := range spec.Servers {
		hashed = append(hashed, s.Binary)
	}
	sum, err := hashFiles(hashed...)
	if err != nil {
		return "", err
	}
	dbName := filepath.Base(spec.DBPath)
	files := map[string]string{dbName: spec.DBBinary, "harness": spec.Harness}
	copies := fmt.Sprintf("COPY %s %s\n", dbName, spec.DBPath)
	for _, s := range spec.Servers {
		name := filepath.Base(s.Path)
		files[name] = s.Binary
		copies += fmt.Sprintf("COPY %s %s\n", name, s.Path)
	}
	dockerfile := "FROM scratch\n" + copies + "COPY harness /harness\nENTRYPOINT [\"/harness\", \"agent\"]\n"
	if len(spec.Servers) > 0 {
		// Where each binary goes is part of the image too.
		h := sha256.Sum256([]byte(sum + "\n" + dockerfile))
		sum = hex.EncodeToString(h[:])
	}
	repo := "election-harness/" + spec.DB
	tag := strings.NewReplacer("+", "_", "/", "_", ",", "_", "..", "_").Replace(spec.Version) + "-" + sum[:12]
	ref := repo + ":" + tag
	if _, err := d.cli.ImageInspect(ctx, ref); err == nil {
		return ref, nil
	}
	return ref, d.buildImage(ctx, repo, tag, dockerfile, files)
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
	owner, err := Self()
	if err != nil {
		return nil, &SetupError{fmt.Errorf("naming this process as the run's owner: %w", err)}
	}
	labels := owner.Labels()
	labels[LabelHarness], labels[LabelRun] = "1", spec.RunID
	c := &dockerCluster{d: d, runID: spec.RunID}
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
	args := []string{"--name", n.Name, "--data", n.DataDir, "--run", spec.RunID}
	if n.Role == RoleCampaigner {
		args = append(args, "--stdio")
	}
	if n.StallDisk {
		args = append(args, "--stall-disk")
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
		Env:            envMap(n.Env),
		Labels:         nodeLabels,
		Networks:       []string{netName},
		NetworkAliases: map[string][]string{netName: {n.Name}},
		ConfigModifier: func(c *container.Config) { c.Hostname = n.Name },
		HostConfigModifier: func(h *container.HostConfig) {
			h.CapAdd = []string{"NET_ADMIN", "SYS_PTRACE"}
			if n.StallDisk {
				// The agent mounts FUSE itself with mount(2) (Docker's
				// seccomp profile allows it with CAP_SYS_ADMIN). Where
				// AppArmor runs, its docker-default profile denies every
				// mount; elsewhere the option is accepted and changes
				// nothing.
				h.CapAdd = append(h.CapAdd, "SYS_ADMIN")
				h.Devices = append(h.Devices, container.DeviceMapping{PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm"})
				h.SecurityOpt = append(h.SecurityOpt, "apparmor=unconfined")
			}
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
		agent: agent.NewClient(netip.AddrPortFrom(ip, agent.ControlPort).String(), spec.RunID)}, nil
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
	return fmt.Errorf("node %s: agent did not answer at %s within %v: %v (the harness reaches nodes through the run network's gateway: the Docker engine %v must run on this machine)\nlast log lines:\n%s",
		n.name, n.agent.Addr(), d.opts.AgentTimeout, last, d.engine, tailLines(string(logs), 20))
}

type dockerCluster struct {
	d       *Docker
	runID   string
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
				// A stuck stalling filesystem would keep it from dying.
				abortErr := abortContainerFUSE(ctx, n.cli, n.ctr.GetContainerID())
				if err := n.ctr.Terminate(ctx, testcontainers.StopTimeout(2*time.Second)); err != nil && !isNotFound(err) {
					mu.Lock()
					errs = append(errs, fmt.Errorf("removing %s: %w", n.name, errors.Join(err, abortErr)))
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

// isNotFound: what was to be removed is already gone (a node container
// removed under a run's feet).
func isNotFound(err error) bool {
	return cerrdefs.IsNotFound(err) || strings.Contains(err.Error(), "No such container")
}

// removeNetwork retries: on a busy daemon a removed container's endpoint
// can outlive it for a moment ("has active endpoints"). A network that
// is already gone is removed.
func (c *dockerCluster) removeNetwork(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		err := c.network.Remove(ctx)
		if err == nil || cerrdefs.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			if c.d.phantom(context.WithoutCancel(ctx), c.network.ID, err) {
				return &PhantomNetworkError{Network: c.netName}
			}
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

// cpuPeriod is the CFS period of a throttled node: its quota is a
// share of it.
const cpuPeriod = 100_000 // µs

// Throttle is `docker update --cpu-period --cpu-quota`: the cgroup's CPU
// quota. A quota of -1 lifts it.
func (n *dockerNode) Throttle(ctx context.Context, cpus float64) error {
	quota := int64(-1)
	if cpus > 0 {
		quota = max(1000, int64(cpus*cpuPeriod)) // the kernel's least is 1 ms
	}
	_, err := n.cli.ContainerUpdate(ctx, n.ctr.GetContainerID(), container.UpdateConfig{Resources: container.Resources{CPUPeriod: cpuPeriod, CPUQuota: quota}})
	if err != nil {
		return fmt.Errorf("throttling %s to %.2f CPU: %w", n.name, cpus, err)
	}
	return nil
}

func (n *dockerNode) Name() string         { return n.name }
func (n *dockerNode) Role() string         { return n.role }
func (n *dockerNode) IP() netip.Addr       { return n.ip }
func (n *dockerNode) Agent() *agent.Client { return n.agent }

func (n *dockerNode) DialStdio(ctx context.Context) (net.Conn, error) {
	return n.agent.DialStdio(ctx, netip.AddrPortFrom(n.ip, agent.StdioPort).String())
}

// Name is "docker".
func (d *Docker) Name() string { return "docker" }

// Capabilities: docker pause freezes a container's cgroup.
func (d *Docker) Capabilities() Capabilities { return Capabilities{Freeze: true, Throttle: true} }

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

var _ Backend = (*Docker)(nil)

// envMap is a node's environment as the container request takes it.
func envMap(env []string) map[string]string {
	if len(env) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}
