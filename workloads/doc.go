// Package workloads owns what runs against the cluster, whatever the
// database. A user's campaigner (exec:PATH) speaks the same protocol as
// the built-in ones.
//
// The files hold one part each:
//
//   - protocol.go: the campaigner protocol (docs/campaigner-protocol.md)
//   - campaigner.go: the Recipe interface a built-in recipe implements
//     inside a campaigner node, and the campaigner that speaks the
//     protocol with a recipe
//   - recipes.go: the Recipes table that looks recipes up. The recipes
//     themselves live with their database's driver (db/etcd, db/consul),
//     and db/registry gathers them.
//   - conn.go: the harness's end of one campaigner's protocol stream
//   - generator.go: the harness-side driver that invokes campaigner
//     operations and records them
//   - stops.go: Stops, which lets leaders hold through faults that stop
//     them
//   - live.go: Live, what the run knows right now, for the nemesis and the
//     status line
//   - probes.go: the probes that poll every member's raft view
package workloads
