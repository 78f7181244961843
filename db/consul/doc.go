// Package consul is the driver of a Consul server cluster. It owns how
// the harness builds, starts, probes, records and elects through Consul.
//
// The files hold one part each:
//
//   - build.go: the server, built from github.com/hashicorp/consul as a
//     static binary of Consul's own CLI, and the releases bisect searches
//   - consul.go: server flags, client endpoints, readiness, and probes of
//     a server's raft state
//   - record.go: the store's record, assembled from blocking queries on
//     every server, so sampled, with gaps detected
//   - recipes.go: the built-in recipes, which elect through a session and
//     a lock key, with the read modes (db.ReadModes: default, consistent,
//     stale) and campaigner options (consistency, lock-delay) they read
//   - membership.go: db.Membership, for wipe. A wiped server is removed
//     from raft and gossip and rejoins empty as a new server.
//   - terms.go: db.Terms, for the campaigner check
//   - agreement.go: db.Agreement, a hash of the run's keys read from each
//     server at one index, for P9
//   - crash.go: db.CrashMarkers, for P10
//   - knownbugs.go: the Consul bugs the harness knows
//
// consul-lock and consul-session are the safe recipes. consul-unfenced
// and consul-lock-stock are unsafe controls.
package consul
