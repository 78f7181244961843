// Package checker decides whether a history shows an election anomaly:
// P1 raft election safety, P2 one leader per election term, P3 granted
// leadership is real, P4 fenced work is linearizable (porcupine) and no
// stale-term write lands, P5 observers agree, P6 liveness, P7 leases
// outlive their TTL, and the
// informational split-brain exposure. Each check returns valid, invalid
// or unknown with the exact events that prove it; unknown is never
// reported as valid. It reads only a history: it works offline and does
// not know which database ran.
package checker
