// Package run is the engine that takes one test from its settings to its
// verdict. The harness CLI is flags, Config, Run and an exit code.
// Package electiontest is the same engine for a Go test.
//
// Config is every setting of a run. The CLI binds its flags to it, suites
// fill it in, and config.json is it. Run starts the cluster through a
// cluster.Backend. It drives the campaigners and the nemesis through the
// phases the history names: start, faults, heal, quiet, final reads and
// record. It then checks the history, names the known database bugs its
// anomalies match, applies the run's gate policy, writes the reports and
// returns a Result. Check re-checks a stored run offline.
//
// The files hold one part each:
//
//   - config.go and settings.go: Config, its flags, defaults and validation
//   - run.go: Run, its Options and Result
//   - runner.go: one run's moving parts, and the adapters that give the
//     nemesis membership and failpoints through the database
//   - workload.go: the test proper, phase by phase
//   - image.go: the node image, built or found
//   - versions.go: the server versions of a run of several
//   - maintenance.go: compaction and defragmentation for the nemesis
//   - check.go: checking a history, in a child process, and writing the
//     reports
//   - gate.go: the gate policies of --fail-on
//   - errors.go: setup errors and crashes, told apart from verdicts
//   - status.go: the live status line
//
// It may import every package of the pipeline (cluster, db, nemesis,
// workloads, histories, checker, reports). None of them imports it.
package run
