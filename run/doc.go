// Package run is the engine: one test from its settings to its verdict.
// Config is every setting of a run (the CLI binds its flags to it, suites
// fill it in, config.json is it); Run starts the cluster through a
// cluster.Backend, drives the campaigners and the nemesis through the
// phases the history names (start, faults, heal, quiet, final reads,
// record), then checks the history, names the known database bugs its
// anomalies match and applies the run's gate policy (--fail-on, gate.go),
// writes the reports (Check), and returns a Result. Check re-checks a
// stored run offline. The harness
// CLI is flags, Config, Run and an exit code; package electiontest is
// the same engine for a Go test.
//
// It may import every package of the pipeline (cluster, db, nemesis,
// workloads, histories, checker, reports); none of them imports it.
package run
