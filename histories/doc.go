// Package histories owns the event model shared by running and checking.
// It is the contract between the two halves of the pipeline. Nothing in
// checker or reports may need a cluster, only a history.
//
// The files hold one part each:
//
//   - event.go: the Event type (Jepsen's invoke, ok, fail and info) and
//     the functions, faults and phases a history records
//   - writer.go: the JSONL Recorder, which appends and flushes during a run
//   - reader.go: the strict reader used by `harness check`, which enforces
//     the event contract
//   - config.go: RunConfig, a run's config.json
//   - store.go: the on-disk layout of a run directory
package histories
