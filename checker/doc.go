// Package checker decides whether a history shows an election anomaly:
// P1 raft election safety, P2 one leader per election term, P3 granted
// leadership is real (the campaigner's own key led inside the call), P4
// every write lands inside its term's reign in the store's record and
// the register is linearizable (decided in the store's own order when
// the record holds every change, else from the history alone by the
// zone check of a register whose written values are distinct, zones.go;
// porcupine where neither applies, and as the second opinion of both), P5 observers agree, P6 liveness, P7 leases outlive their
// TTL (informational), P8 renewed leases outlive their renewal (judged,
// where a campaigner reports its renewals), P9 members agree (their
// digests of the data at one revision, where the run took them), P10 no
// member crashed unasked (their logs' crash lines, where scanned), P11
// watches keep their guarantees (a watcher pinned to each member, judged
// against the store's record, where the run watched), and the
// informational split-brain exposure.
//
// Each check returns valid, invalid or unknown with the exact events
// that prove it; unknown is never reported as valid, and a property with
// nothing to decide is unknown. A history that breaks the event
// contract, or options that match nothing in it, is an error, not a
// verdict. Every anomaly of an invalid check carries a Story: who did
// the bad act, under which term while which term led, when, and the
// faults in effect on its actors (story.go), and a Blame: whose promise
// it broke, the recipe's, the database's, the client library's or
// undecided, and why (blame.go). It reads only a history: it works
// offline and does not know which database ran (package run names the
// known database bugs an anomaly matches, from the driver's list).
package checker
