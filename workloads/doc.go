// Package workloads owns what runs against the cluster: the campaigner
// protocol (docs/campaigner-protocol.md), the built-in campaigner recipes
// run inside campaigner nodes (the safe etcd-election, consul-lock and
// consul-session, and the unsafe controls the harness must catch), the
// harness-side driver that invokes campaigner operations and records
// them, and the probes that poll every member's raft view. A user's
// campaigner (exec:PATH) speaks the same protocol.
package workloads
