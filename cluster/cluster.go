package cluster

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/election-harness/harness/agent"
)

// Roles of nodes.
const (
	RoleMember     = "member"
	RoleCampaigner = "campaigner"
	// RoleAPIServer is a kube-apiserver in front of the members.
	RoleAPIServer = "apiserver"
)

// NodeSpec describes one node to start.
type NodeSpec struct {
	Name string
	Role string
	// Command builds the supervised process's argv once every node's
	// address is known (members name their peers).
	Command func(addrs map[string]netip.Addr) []string
	// DataDir is the process's data directory inside the node (wiped by
	// a kill with wipe).
	DataDir string
	// Files are copied into the node before it starts.
	Files []File
	// Env is added to the node's environment, which its process
	// inherits (a failpoint build's control address).
	Env []string
	// StallDisk serves DataDir through the agent's stalling filesystem
	// (FUSE), so that the stall fault can hold its syncs: the node gets
	// /dev/fuse and CAP_SYS_ADMIN. Off unless a run stalls disks: FUSE
	// costs throughput.
	StallDisk bool
}

// File is a host file to copy into a node.
type File struct {
	HostPath, NodePath string
	Mode               int64
}

// Spec describes a whole cluster.
type Spec struct {
	// RunID labels everything the run creates, so clean can find it.
	RunID string
	// Image is the node image, holding the DB binary and the harness.
	Image string
	Nodes []NodeSpec
}

// Node is a started node.
type Node interface {
	Name() string
	Role() string
	IP() netip.Addr
	// Agent is the control channel to the node's agent.
	Agent() *agent.Client
	// DialStdio connects to the standard input and output of the node's
	// process (a campaigner's), through its agent.
	DialStdio(ctx context.Context) (net.Conn, error)
	// Logs returns everything the node's agent and process wrote.
	Logs(ctx context.Context) ([]byte, error)
	// Freeze stops every process of the node, agent included, with the
	// cgroup freezer; Thaw undoes it, and is a no-op on a node that is
	// not frozen.
	Freeze(ctx context.Context) error
	Thaw(ctx context.Context) error
	// Throttle caps the CPU of every process of the node, agent
	// included, at cpus of one CPU (the cgroup's quota); 0 lifts the cap.
	Throttle(ctx context.Context, cpus float64) error
}

// Cluster is a set of started nodes on one private network.
type Cluster interface {
	Nodes() []Node
	// Close removes every node and the network. Safe to call twice.
	Close(ctx context.Context) error
}

// Backend prepares node images and starts clusters, and removes what
// runs left behind. Docker is the first; a local netns or Kubernetes
// backend is another implementation of this interface.
type Backend interface {
	// Name names the backend in messages: "docker".
	Name() string
	// Capabilities say which faults the backend's nodes can take.
	Capabilities() Capabilities
	// BuildImage makes (or finds, by content) the node image of spec.
	BuildImage(ctx context.Context, spec ImageSpec) (string, error)
	// ImageFrom makes the node image from an existing image that holds
	// the database binary, copying the harness in.
	ImageFrom(ctx context.Context, spec ImageSpec, base string) (string, error)
	// Start allocates addresses, starts every node, and waits until each
	// agent answers. On error nothing is left running.
	Start(ctx context.Context, spec Spec) (Cluster, error)
	// Clean removes what runs left behind, as opts says.
	Clean(ctx context.Context, opts CleanOptions) (CleanReport, error)
}

// Capabilities are what a backend's nodes can do beyond running
// processes, which every backend does (the agent pauses, kills and
// partitions inside the node).
type Capabilities struct {
	// Freeze: Node.Freeze stops every process of a node, agent included.
	Freeze bool
	// Throttle: Node.Throttle caps a node's CPU.
	Throttle bool
}

// Lost says that a run's cluster is gone from under it: a node's
// container disappeared or stopped, or the engine stopped answering.
type Lost struct {
	Run, Node, Container string
	At                   time.Time
	// What happened, in a sentence naming the container (or engine).
	What string
}

// Watcher is a Cluster that can watch its nodes' containers.
type Watcher interface {
	// Watch checks every interval that every node's container still
	// runs and the engine answers, until ctx is done; it sends the first
	// loss on the channel, then closes it.
	Watch(ctx context.Context, interval time.Duration) <-chan Lost
}
