// Package conformance is the campaigner check. It is a run of seconds,
// without faults, that drives two campaigners through the protocol step
// by step and reports each rule held or broken. Each rule names its
// section of docs/campaigner-protocol.md. A team runs it before its first
// long run (`harness campaigner-check`, or electiontest.CheckCampaigner).
//
// The steps follow the protocol in order. A campaigner is ready, wins a
// campaign with a well-formed token, and observes. As leader it writes
// and reads, acts, and campaigns again while leading. A second campaign
// waits. The store ends the term's session, and the leader says it lost.
// A write after the loss is refused, and no stale term is used. The next
// campaigner wins, and resigns.
//
// The files hold one part each:
//
//   - rules.go: the rules, and the report of which held
//   - check.go: the script that drives the campaigners through the steps
//   - run.go: the run that carries the script out
//
// It imports run (the engine runs the cluster and the script), workloads
// (the protocol) and db (a database's Terms). The CLI and electiontest
// import it.
package conformance
