// Package db owns what the harness asks of a database, as interfaces its
// drivers implement, and what those drivers share.
//
// DB is what every driver provides: the server and how it gets into a
// node image, member argv, client endpoints, readiness, probes of a
// member's own raft view, the store's own record of a run's keys, and
// defaults (db.go). Everything else is an optional capability:
//
//   - Membership: member loss and rejoin, for the wipe fault
//   - Upgrades: members moved between versions on their data, for
//     mixed-version runs and the upgrade fault
//   - Maintenance: compaction and defragmentation, for their faults
//   - ReadModes: --consistency
//   - CampaignerOptions: settings of a run a driver's recipes read
//   - PinnedReaders: --readers pinned
//   - Agreement, CrashMarkers and Watches: what P9, P10 and P11 judge
//   - Terms: ending a leader's session, and checking a won token, for
//     the campaigner check
//   - Failpoints: a server built with failpoints, set over HTTP while it
//     runs, for the failpoint fault (failpoints.go)
//   - SourcePatches, Snapshots and ServerLogLevels: --patch,
//     --snapshot-count and --server-log-level (patches.go)
//   - Releases: the versions the Go module proxy serves, which `harness
//     bisect` searches (build.go)
//   - KnownBugs: the database bugs the harness knows (knownbugs.go)
//
// What a database does not support is derived from the capabilities it
// lacks (Unsupported), never listed.
//
// Drivers share the cached build of a server from its published Go module
// (GoModuleBuild, ModuleVersions in build.go). failpoints.go adds a
// failpoint build of it (GofailEnable, CopyModule) and GofailClient to
// set its failpoints. patches.go builds a patched one
// (ApplySourcePatches). progress.go tracks how far a record has read
// (Progress), and terms.go checks a token's fields.
//
// Each database is a driver package of its own under db/ (db/etcd,
// db/consul), which also owns its built-in recipes. db/registry lists
// them. No other package names a database, which db/registry's isolation
// test checks. docs/adding-a-database.md walks through adding one.
package db
