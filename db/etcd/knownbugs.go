package etcd

import "github.com/election-harness/harness/db"

var _ db.KnownBugs = DB{}

// knownBugs are the etcd bugs of the README's track record that a run
// meets without asking for them: each affects stock builds under faults
// the default nemesis deals. #20590 needs its failpoint and is named
// only in failpoint runs.
var knownBugs = []db.KnownBug{
	{
		ID: "etcd-paused-leader-revocation", Property: "P8", Kind: "lease ended early",
		Title:    "etcd: a raft leader resuming from a pause revokes leases renewed through its successor (v3.5.16+, #18428's isActive shortcut; not yet reported upstream)",
		Link:     "docs/findings/etcd-paused-leader-revokes-renewed-leases.md",
		Affected: []db.VersionRange{{From: "v3.5.16"}},
		Faults:   []string{"pause", "freeze"},
	},
	{
		ID: "etcd-15247", Property: "P8", Kind: "lease ended early",
		Title:    "etcd #15247: an old raft leader stuck on its WAL revokes leases kept alive through the new one (fixed in v3.5.13)",
		Link:     "https://github.com/etcd-io/etcd/issues/15247",
		Affected: []db.VersionRange{{Before: "v3.5.13"}},
		Faults:   []string{"pause", "freeze", "stall", "failpoint"},
	},
	{
		ID: "etcd-20590", Property: "P8", Kind: "lease ended early",
		Title:    "etcd #20590: a lease renewal answered after the lease was revoked (fixed in v3.5.23 and v3.6.5)",
		Link:     "https://github.com/etcd-io/etcd/pull/20590",
		Affected: []db.VersionRange{{Before: "v3.5.23"}, {From: "v3.6.0", Before: "v3.6.5"}},
		Faults:   []string{"failpoint"},
	},
	{
		ID: "etcd-20418", Property: "P4", Kind: "is not linearizable",
		Title:    "etcd #20418: a stale linearizable read after a paused raft leader resumes (fixed in v3.5.28 and v3.6.9)",
		Link:     "https://github.com/etcd-io/etcd/issues/20418",
		Affected: []db.VersionRange{{Before: "v3.5.28"}, {From: "v3.6.0", Before: "v3.6.9"}},
		Faults:   []string{"pause", "freeze"},
	},
	{
		ID: "etcd-15220", Property: "P11", Kind: "bookmarkable (P11)",
		Title:    "etcd #15220: a requested progress notification answered before the stream's events below it (fixed in v3.5.8)",
		Link:     "https://github.com/etcd-io/etcd/issues/15220",
		Affected: []db.VersionRange{{Before: "v3.5.8"}},
	},
	{
		ID: "etcd-14370", Property: "P4", Kind: "went back in time",
		Title:    "etcd #14370: a one-member cluster acknowledges writes before its WAL is synced and loses them on a crash (fixed in v3.5.5)",
		Link:     "https://github.com/etcd-io/etcd/issues/14370",
		Affected: []db.VersionRange{{Before: "v3.5.5"}},
		Faults:   []string{"kill", "lose-unsynced", "failpoint"},
	},
	{
		// The same loss seen by a reader: a value acknowledged before the
		// power loss, then read back older after it.
		ID: "etcd-14370", Property: "P4", Kind: "is not linearizable: stale read",
		Title:    "etcd #14370: a one-member cluster acknowledges writes before its WAL is synced and loses them on a crash (fixed in v3.5.5)",
		Link:     "https://github.com/etcd-io/etcd/issues/14370",
		Affected: []db.VersionRange{{Before: "v3.5.5"}},
		Faults:   []string{"lose-unsynced"},
	},
}

// KnownBugs lists etcd's known bugs.
func (DB) KnownBugs() []db.KnownBug { return knownBugs }
