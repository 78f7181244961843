package db

import (
	"context"
	"io"
	"net/netip"
	"time"

	"github.com/election-harness/harness/histories"
)

// Member is one database member as the harness addresses it.
type Member struct {
	Name string
	IP   netip.Addr
}

// DB is everything the harness needs to know about one database: a
// driver. Each driver lives in a package of its own under db/ and is
// listed once, in db/registry. What only some databases can do is an
// optional capability below (Membership, ReadModes, CampaignerOptions):
// a driver that lacks one does not support what needs it (Unsupported).
type DB interface {
	// Name is the --db value.
	Name() string
	// DefaultVersion is the pinned version used when --version is empty.
	DefaultVersion() string
	// Defaults are the run settings that suit this database's clocks.
	Defaults() Defaults
	// LivenessBound is how long after a heal a new leader may take to
	// be elected, for sessions of ttl: P6's bound.
	LivenessBound(ttl time.Duration) time.Duration
	// LeaseExpiry is the longest the store takes, for sessions of ttl,
	// to end the lease of a holder gone silent and let another take
	// the lock: how long the nemesis stops a leader.
	LeaseExpiry(ttl time.Duration) time.Duration
	// Server makes the server of version (or takes it from cacheDir)
	// and says how it gets into a node image. Progress goes to log.
	Server(ctx context.Context, version, cacheDir string, log io.Writer) (ServerImage, error)
	// ServerPath is where the server's executable lives inside a node
	// image (MemberCommand's argv[0]): where a --binary is put, and
	// where an --image's own is copied to.
	ServerPath() string
	// MemberCommand is the argv that starts member m of the cluster all,
	// with its data under dataDir.
	MemberCommand(m Member, all []Member, dataDir string) []string
	// ClientEndpoints are the client URLs of the members, reachable from
	// the host and from campaigner nodes.
	ClientEndpoints(all []Member) []string
	// WaitReady blocks until the cluster serves a linearizable read.
	WaitReady(ctx context.Context, all []Member) error
	// NewProbe returns a prober of member m's own raft view.
	NewProbe(m Member) (Probe, error)
	// NewRecord opens the store's own record of every change under prefix.
	NewRecord(all []Member, prefix string) (StoreRecord, error)
}

// ServerImage is how a database's server gets into a node image. Today
// every driver gives a static executable (node images are FROM scratch);
// a server that needs a runtime (a JVM) would say so here, with the
// files or base image it needs, and the image builder would follow.
type ServerImage struct {
	// Binary is a static executable on the host.
	Binary string
	// PathInImage is where Binary is copied in the node image.
	PathInImage string
}

// Membership is a database whose members an operator can remove and add
// back: member loss and rejoin, which the wipe fault needs.
type Membership interface {
	// RemoveMember takes member m, whose data is lost, out of the
	// cluster; removing a member that is not there is done.
	RemoveMember(ctx context.Context, all []Member, m Member) error
	// AddMember adds m back as a new, empty member and returns the argv
	// that starts it so.
	AddMember(ctx context.Context, all []Member, m Member, dataDir string) ([]string, error)
	// AwaitMember waits until m, started with AddMember's command line,
	// is a full member that serves: until then one more loss can cost
	// the cluster its quorum (a Consul server is a non-voter at first).
	AwaitMember(ctx context.Context, all []Member, m Member) error
}

// Upgrades is a database whose members can move between server
// versions on their data, one at a time, as an operator rolls an upgrade
// or a downgrade: runs of several versions (--version OLD,NEW) and the
// upgrade fault need it. Versions are module versions ("v3.6.16").
type Upgrades interface {
	// CheckMove says why a member cannot move from version from to
	// version to on its data, in a cluster where the others run from or
	// to; nil if it can. A run whose moves are refused is refused
	// before it starts, with this reason.
	CheckMove(from, to string) error
	// BeforeMove readies the cluster for member m to move from one
	// version to another while m still runs: what the database asks of
	// an operator first (etcd: enabling the downgrade when to is below
	// the cluster version, and waiting for m's storage to follow).
	BeforeMove(ctx context.Context, all []Member, m Member, from, to string) error
	// AfterMove returns once m, restarted on version to, serves as it,
	// and does what the database asks of an operator afterwards (etcd:
	// cancelling a downgrade m moved back above).
	AfterMove(ctx context.Context, all []Member, m Member, from, to string) error
	// CheckVersions returns what every member reports, once each serves
	// version want and the cluster version is want's (waiting, until ctx
	// is done, for a cluster version to catch up); an error says which
	// member is not so.
	CheckVersions(ctx context.Context, all []Member, want string) (string, error)
}

// ReadModes is a database whose reads come in modes of different
// consistency (--consistency): the checker judges reads by the mode.
type ReadModes interface {
	// ReadModes lists the modes, the default first.
	ReadModes() []string
}

// CampaignerOptions is a database whose built-in recipes take settings
// of the run. The driver names them here and reads them back in its
// recipes (workloads.CampaignerConfig.Options); the harness passes them
// through the campaigner's command line without knowing them.
type CampaignerOptions interface {
	CampaignerOptions(s RunSettings) map[string]string
	// CheckOptions refuses options given for a run (--option) that
	// the recipes do not take, before anything starts.
	CheckOptions(opts map[string]string) error
}

// Agreement is a database whose members can each say, at the end of a
// run, a digest of the data at one common revision: P9 judges that the
// members agree (etcd HashKV; Consul a hash of the run's keys read from
// each server at one index).
type Agreement interface {
	// MemberHashes returns, per member (in all's order), the digest of
	// the data under prefix at a revision common to every member that
	// answered, or the error that member gave. It waits for the members
	// to reach a common revision for as long as ctx allows.
	MemberHashes(ctx context.Context, all []Member, prefix string) []MemberHash
}

// CrashMarkers is a database whose members' logs say when one crashed:
// regular expressions of the lines a panic, a fatal error or detected
// corruption writes. At the end of a run every member's log is scanned,
// and P10 judges a member that wrote one unasked.
type CrashMarkers interface {
	CrashMarkers() []string
}

// Watches is a database whose members serve watches: a watcher pinned
// to each member follows the run's keys through it alone, and P11 judges
// what each delivered against the store's record (ordered, unique,
// atomic, reliable, resumable, bookmarkable).
type Watches interface {
	// NewWatch opens a watcher of every change under prefix through m
	// alone, with no failover to another member.
	NewWatch(m Member, prefix string) (MemberWatch, error)
}

// MemberWatch is one member's watcher.
type MemberWatch interface {
	// Run follows changes until ctx is done, calling emit with
	// FWatchStart, FWatched and FWatchEnd events (Type, Process, Member
	// set; the recorder stamps Time). A watch the store or the client
	// ends is resumed from the revision after the last one delivered;
	// a compacted one cannot be and Run returns.
	Run(ctx context.Context, emit func(histories.Event)) error
	// Sync returns once the watch has reported progress up to the
	// member's current revision, read when Sync is called.
	Sync(ctx context.Context) error
}

// MemberHash is one member's digest: of the data at Revision, or Err.
type MemberHash struct {
	Member   string
	Hash     string
	Revision int64
	Err      error
}

// Terms is a database whose terms the harness can end as the store
// would, and whose won tokens it can judge: the campaigner check
// (package conformance) ends a leader's session to see that the
// campaigner says it lost, and checks each token's fields.
type Terms interface {
	// EndTerm ends the session (lease) that holds tok's key, now.
	EndTerm(ctx context.Context, all []Member, tok histories.Token) error
	// CheckToken says what a won campaign's token lacks for this
	// database (nil: nothing); electionPrefix is the run's.
	CheckToken(tok histories.Token, electionPrefix string) error
}

// PinnedReaders is a database whose built-in recipes can read the
// register through one member alone, with no failover to another
// (--readers pinned; workloads.CampaignerConfig.ReadEndpoints).
type PinnedReaders interface {
	// PinsReads says so; it has no other use.
	PinsReads()
}

// RunSettings are the settings of a run a driver may pass on to its
// campaigners.
type RunSettings struct {
	// ReadMode is the run's read mode, "" for a database without
	// ReadModes.
	ReadMode string
	// Options are the run's own campaigner options (--option NAME=VALUE),
	// already accepted by CheckOptions.
	Options map[string]string
}

// kindNeeds lists the capabilities nemesis kinds need. A database lacking
// one does not support the kind. A kind that needs another capability
// (failpoints, a database's own fault injection) adds its interface above
// and a row here.
var kindNeeds = []struct {
	kind  string
	needs string // what the kind needs, for the refusal
	has   func(DB) bool
}{
	{"wipe", "member removal and re-adding", func(d DB) bool { _, ok := d.(Membership); return ok }},
	{"failpoint", "a server built with failpoints", func(d DB) bool { _, ok := d.(Failpoints); return ok }},
	{"upgrade", "members moved between versions on their data", func(d DB) bool { _, ok := d.(Upgrades); return ok }},
	{"compact", "a store the harness can compact", func(d DB) bool { _, ok := d.(Maintenance); return ok }},
	{"defrag", "members the harness can defragment", func(d DB) bool { _, ok := d.(Maintenance); return ok }},
}

// Needs says what d lacks for kind ("" when it supports it).
func Needs(d DB, kind string) string {
	for _, n := range kindNeeds {
		if n.kind == kind && !n.has(d) {
			return n.needs
		}
	}
	return ""
}

// Unsupported lists the nemesis kinds d cannot take, derived from the
// capabilities it lacks.
func Unsupported(d DB) []string {
	var out []string
	for _, n := range kindNeeds {
		if !n.has(d) {
			out = append(out, n.kind)
		}
	}
	return out
}

// Defaults are a database's run settings where flags leave them out.
type Defaults struct {
	Recipe    string
	TTL       time.Duration
	MinTTL    time.Duration
	TimeLimit time.Duration
	// NemesisInterval is the mean time between faults; faults last
	// half to twice as long.
	NemesisInterval time.Duration
}

// Probe polls one member's own view of raft, with short deadlines, never
// forwarded to another member.
type Probe interface {
	Probe(ctx context.Context) (histories.MemberStatus, error)
	Close() error
}

// StoreRecord streams the store's own record of every change under one
// prefix, from the beginning, in store order with no gaps. The time each
// change is received is an upper bound on when it was committed, which
// is what lets the checker place store changes in real time.
type StoreRecord interface {
	// Run follows the store until ctx is done, calling emit for every
	// change (FStorePut/FStoreDelete events, Process ProcessStore, Type
	// OK; the recorder stamps Time). It survives member failures and
	// partitions of members.
	Run(ctx context.Context, emit func(histories.Event)) error
	// Sync returns once every change up to the store's current revision,
	// read linearizably when Sync is called, has been emitted.
	Sync(ctx context.Context) error
	// Kind says how the record is taken: histories.RecordEveryChange or
	// histories.RecordSampled. The harness writes it to the history, so
	// the checker knows whether a write missing from the record was lost.
	Kind() string
}

// KubeStore is a database kube-apiserver can store in: Kubernetes
// recipes put apiserver nodes in front of its members.
type KubeStore interface {
	// KubeStorageFlags are kube-apiserver's flags that make it store in
	// members.
	KubeStorageFlags(members []Member) []string
}

// Maintenance is a database whose store an operator compacts and
// defragments (etcd): the compact and defrag faults.
type Maintenance interface {
	// Revision is the store's current revision, read linearizably.
	Revision(ctx context.Context, members []Member) (int64, error)
	// Compact discards the store's history before rev, and returns
	// once every member has (a physical compaction).
	Compact(ctx context.Context, members []Member, rev int64) error
	// Defragment rewrites member's backend, which blocks its reads and
	// writes meanwhile.
	Defragment(ctx context.Context, member Member) error
}
