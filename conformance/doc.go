// Package conformance is the campaigner check: a run of seconds, without
// faults, that drives two campaigners through the protocol step by step
// (ready; a campaign won with a well-formed token; observe; a leader's
// write and read; an act; a campaign while leading; a second campaign
// that waits; the term's session ended by the store; lost; a write
// refused after loss; no stale term; the next campaigner wins; resign)
// and reports each rule held or broken, naming its section of
// docs/campaigner-protocol.md. A team runs it before its first long run
// (`harness campaigner-check`, or electiontest.CheckCampaigner).
//
// It imports run (the engine runs the cluster and the script), workloads
// (the protocol) and db (a database's Terms); the CLI and electiontest
// import it.
package conformance
