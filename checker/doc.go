// Package checker decides whether a history shows an election anomaly.
// It reads only a history, so it works offline and does not know which
// database ran. Package run names the known database bugs an anomaly
// matches, from the driver's list.
//
// Each property is a check of its own:
//
//   - P1 raft election safety (raft.go)
//   - P2 one leader per election term, terms rising in real time (terms.go)
//   - P3 granted leadership is real: the campaigner's own key led inside
//     the call (granted.go)
//   - P4 every write lands inside its term's reign in the store's record
//     (fencing.go), and the register is linearizable (register.go)
//   - P5 observers agree with the store's sequence of reigns (observers.go)
//   - P6 liveness after the faults heal, and the informational
//     split-brain exposure (liveness.go)
//   - P7 leases outlive their TTL, informational (leases.go)
//   - P8 renewed leases outlive their renewal, where a campaigner reports
//     its renewals (renewals.go)
//   - P9 members agree on a digest of the data at one revision, where the
//     run took them (agreement.go)
//   - P10 no member crashed unasked, where the run scanned their logs
//     (crashes.go)
//   - P11 watches keep their guarantees against the store's record, where
//     the run watched (watches.go)
//   - V every member of a run of several versions ends on the final one
//     (versions.go)
//
// P4 decides linearizability in the store's own order when the record
// holds every change (storeorder.go, record.go). Otherwise it uses the
// zone check of a register whose written values are distinct (zones.go).
// Porcupine decides where neither applies, and is the second opinion of
// both.
//
// Each check returns valid, invalid or unknown with the exact events that
// prove it (checker.go). Unknown is never reported as valid, and a
// property with nothing to decide is unknown. A history that breaks the
// event contract, or options that match nothing in it, is an error, not
// a verdict.
//
// Every anomaly of an invalid check carries a Story and a Blame. The
// Story (story.go) tells who did the bad act, under which term while
// which term led, when, and the faults in effect on its actors. The
// Blame (blame.go) says whose promise it broke and why. That is the
// recipe's, the database's, the client library's, or undecided.
//
// The rest supports the checks. history.go indexes a history for them,
// and bounds.go places the store's revisions in real time. counts.go
// names the keys of each check's counts. coverage.go measures what a run
// exercised, and timeline.go derives who led when, for reports.
package checker
