// Package histories owns the event model shared by running and checking:
// the Event type (Jepsen's invoke/ok/fail/info), the JSONL writer that
// appends and flushes during a run, the strict reader used by `harness
// check`, and the on-disk layout of a run directory.
//
// It is the contract between the two halves of the pipeline: nothing in
// checker or reports may need a cluster, only a history.
package histories
