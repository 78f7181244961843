// Package etcd is the driver of etcd v3.5 and later: its server built
// from go.etcd.io/etcd/server/v3 (a static binary), member flags,
// probes of a member's raft status (/debug/vars), the store's record (a
// watch from revision 1: every change), member removal and re-adding
// (db.Membership, for wipe), and the built-in recipes that elect
// through concurrency.Election: the safe etcd-election and the
// known-unsafe controls. etcd has no read modes and its recipes take no
// campaigner options.
package etcd
