// Package workloads owns what runs against the cluster: the campaigner
// protocol, the built-in campaigner recipes (run inside campaigner nodes),
// the harness-side driver that invokes campaigner operations and records
// them, and the probes that poll every member's raft view.
package workloads
