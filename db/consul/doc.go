// Package consul is the driver of a Consul server cluster: its server
// built from github.com/hashicorp/consul (a static binary of Consul's
// own CLI), server flags, probes of a server's raft state, the store's
// record (assembled from blocking queries on every server: sampled,
// with gaps detected), its read modes (db.ReadModes: default,
// consistent, stale), its campaigner options (consistency, lock-delay)
// and the built-in recipes that elect through a session and a lock key:
// consul-lock, consul-session and the unsafe consul-unfenced; and
// db.Membership (membership.go): a wiped server is removed from raft and
// gossip and rejoins empty as a new server, for wipe.
package consul
