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

// DB is everything the harness needs to know about one database.
type DB interface {
	// Name is the --db value: "etcd" or "consul".
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
	// Build returns the path of a static binary of version, building it
	// from the published Go modules into cacheDir if it is not cached.
	// Progress goes to log.
	Build(ctx context.Context, version, cacheDir string, log io.Writer) (string, error)
	// BinaryPath is where the binary lives inside a node image.
	BinaryPath() string
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
	// RemoveMember takes member m, whose data is lost, out of the
	// cluster; AddMember adds it back as a new, empty member and returns
	// the argv that starts it so. Member loss and rejoin, as an operator
	// does them.
	RemoveMember(ctx context.Context, all []Member, m Member) error
	AddMember(ctx context.Context, all []Member, m Member, dataDir string) ([]string, error)
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
	// Unsupported lists nemesis kinds this database cannot take.
	Unsupported []string
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
