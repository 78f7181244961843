// Package workloads owns what runs against the cluster, whatever the
// database: the campaigner protocol (docs/campaigner-protocol.md), the
// Recipe interface a built-in recipe implements inside a campaigner
// node and the Recipes table that looks recipes up (the recipes
// themselves live with their database's driver, db/etcd and db/consul,
// and db/registry gathers them), the campaigner that speaks the protocol
// with a recipe, the harness-side driver that invokes campaigner
// operations and records them (its leaders hold through faults that
// stop them: Stops), and the probes that poll every member's raft view. A user's campaigner (exec:PATH) speaks the same protocol.
package workloads
