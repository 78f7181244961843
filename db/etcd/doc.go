// Package etcd is the driver of etcd v3.5 and later. It owns how the
// harness builds, starts, probes, records and elects through etcd.
//
// The files hold one part each:
//
//   - etcd.go: member flags, client endpoints, readiness, probes of a
//     member's raft status (/debug/vars), member removal and re-adding
//     (db.Membership, for wipe), and pinned reads (db.PinnedReaders)
//   - record.go: the store's record, a watch from revision 1 that sees
//     every change
//   - watch.go: db.Watches, a watcher pinned to each member, for P11
//   - recipes.go: the built-in recipes, which elect through
//     concurrency.Election, and their one campaigner option (OptionRenew)
//   - upgrade.go: rolling upgrades and downgrades by etcd's own rules
//     (db.Upgrades), with versions probed at /version
//   - maintenance.go: compaction and defragmentation (db.Maintenance)
//   - failpoints.go: a server built with gofail failpoints (db.Failpoints)
//   - patches.go: control builds from patched sources, log levels,
//     snapshot counts and the releases bisect searches
//   - terms.go: db.Terms, for the campaigner check
//   - agreement.go: db.Agreement, etcd's HashKV, for P9
//   - crash.go: db.CrashMarkers, for P10
//   - knownbugs.go: the etcd bugs the harness knows
//
// The server is built from go.etcd.io/etcd/server/v3 as a static binary.
// etcd-election is the safe recipe, and the others are known-unsafe
// controls. etcd has no read modes.
package etcd
