// Package etcd is the driver of etcd v3.5 and later: its server built
// from go.etcd.io/etcd/server/v3 (a static binary), member flags,
// probes of a member's raft status (/debug/vars) and versions
// (/version), the store's record (a watch from revision 1: every
// change), member removal and re-adding (db.Membership, for wipe),
// rolling upgrades and downgrades by etcd's own rules (db.Upgrades,
// upgrade.go: the downgrade enabled and cancelled through the client
// API), and the built-in recipes that elect through
// concurrency.Election: the safe etcd-election and the known-unsafe
// controls. etcd has no read modes and its recipes take no campaigner
// options.
package etcd
