package etcd

import (
	"context"
	"strconv"

	"github.com/election-harness/harness/db"
)

// The source patches and log levels etcd's driver has.
var (
	_ db.SourcePatches   = DB{}
	_ db.ServerLogLevels = DB{}
)

// sourcePatches are etcd's control builds (--patch NAME).
var sourcePatches = []db.SourcePatch{
	{
		// ensureLeadership (etcdserver/server.go) decides whether a
		// member may revoke expired leases. Since v3.5.16 (#18428) it
		// answers yes without asking raft whenever the raft loop ticked
		// within three ticks (isActive): true at once for a leader that
		// resumes from a pause, which then revokes leases renewed
		// through its successor (docs/findings). Without the shortcut
		// every revocation first confirms leadership by a linearizable
		// read, as v3.5.13-v3.5.15 did.
		Name: "ensure-leadership-always-checks",
		Does: "etcd's ensureLeadership without the isActive shortcut (#18428): a member confirms it leads by a linearizable read before revoking expired leases, as v3.5.13-v3.5.15 did",
		File: "etcdserver/server.go",
		Old: []string{
			"if s.isActive() {",
			`lg.Debug("The member is active, skip checking leadership",`,
			`zap.Time("latestTickTs", s.r.getLatestTickTs()),`,
			`zap.Time("now", time.Now()))`,
			"return true",
			"}",
		},
		New: []string{`lg.Debug("Checking leadership before revoking leases (patch ensure-leadership-always-checks)")`},
	},
	{
		// A planted watch bug, P11's control: the gRPC watch stream
		// sends the first event of a response twice when its revision is
		// a multiple of 25. The store's record drops an event received
		// twice, so it stays right and P11 must see the duplicate.
		Name: "watch-duplicate-event",
		Does: "a planted watch bug: a watch response whose first event's revision is a multiple of 25 carries that event twice (P11 unique must catch it)",
		File: "etcdserver/api/v3rpc/watch.go",
		Old:  []string{"evs := wresp.Events"},
		New: []string{
			"evs := wresp.Events",
			"if len(evs) > 0 && evs[0].Kv.ModRevision%25 == 0 { // patch watch-duplicate-event",
			"	evs = append(evs[:len(evs):len(evs)], evs[0])",
			"}",
		},
	},
	{
		// A planted divergence, P9's control: member n2 alone applies
		// every transaction at a raft index divisible by 50 with its puts'
		// values changed, so its data differ from the others' from then on.
		Name: "member-applies-differently",
		Does: "a planted divergence: member n2 applies each transaction at a raft index divisible by 50 with different put values (P9 members agree must catch it)",
		File: "etcdserver/server.go",
		Old:  []string{"id := raftReq.ID"},
		New: []string{
			"id := raftReq.ID",
			`if s.Cfg.Name == "n2" && e.Index%50 == 0 && raftReq.Txn != nil { // patch member-applies-differently`,
			"	for _, op := range raftReq.Txn.Success {",
			"		if p := op.GetRequestPut(); p != nil {",
			`			p.Value = append([]byte("diverged:"), p.Value...)`,
			"		}",
			"	}",
			"}",
		},
	},
	{
		// Lost acknowledged writes, the lose-unsynced fault's control:
		// every member runs as with --unsafe-no-fsync (neither its WAL
		// nor its backend ever syncs), so a power loss of a majority
		// loses writes it acknowledged.
		Name: "no-fsync",
		Does: "every member as with --unsafe-no-fsync: its WAL and backend never sync, so a power loss (lose-unsynced) loses acknowledged writes (P4 must catch it)",
		File: "embed/etcd.go",
		Old:  []string{"UnsafeNoFsync: cfg.UnsafeNoFsync,"},
		New:  []string{"UnsafeNoFsync: true, // patch no-fsync"},
	},
}

// Patches lists etcd's source patches.
func (DB) Patches() []db.SourcePatch { return sourcePatches }

// LogLevels are zap's levels as etcd's --log-level takes them.
func (DB) LogLevels() []string { return []string{"info", "debug", "warn", "error"} }

// LogLevelEnv sets --log-level through etcd's environment (ETCD_ + the
// flag's name), which every etcd release reads.
func (DB) LogLevelEnv(level string) []string { return []string{"ETCD_LOG_LEVEL=" + level} }

var _ db.Snapshots = DB{}

// SnapshotEnv snapshots every count entries and keeps count entries for
// slow followers (etcd's default keeps 5,000, more than a run writes, so
// a follower would never need a snapshot). The catch-up setting is
// experimental before v3.6 (v3.5.? on; older members warn and go on),
// renamed in v3.6; a v3.6 member refuses to start with both names.
func (e DB) SnapshotEnv(version string, count int) []string {
	n := strconv.Itoa(count)
	if version == "" {
		version = e.DefaultVersion()
	}
	catchUp := "ETCD_SNAPSHOT_CATCHUP_ENTRIES="
	if v, err := parseVersion(version); err == nil && v.major == 3 && v.minor < 6 {
		catchUp = "ETCD_EXPERIMENTAL_SNAPSHOT_CATCHUP_ENTRIES="
	}
	return []string{"ETCD_SNAPSHOT_COUNT=" + n, catchUp + n}
}

var _ db.Releases = DB{}

// Releases are the server module's published versions.
func (DB) Releases(ctx context.Context, cacheDir string) ([]string, error) {
	return db.ModuleVersions(ctx, serverModule, cacheDir)
}
