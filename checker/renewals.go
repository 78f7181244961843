package checker

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/election-harness/harness/histories"
)

// renewalSlack is how much earlier than a renewal promised a lease may end
// before P8 calls it an anomaly. Both of P8's bounds are one-sided facts of
// the harness's clock. The renewal began no earlier than its anchor, and
// the key was gone no later than its receipt. So the slack only absorbs the
// store's own timekeeping, which runs on the same host's monotonic clock.
// Runs with clock faults are not judged.
const renewalSlack = 500 * time.Millisecond

// anchored is a renewal placed in time: it began no earlier than at,
// which source (a write invoked then, landing at or before the renewal's
// revision) proves.
type anchored struct {
	e      histories.Event
	ttl    time.Duration
	at     int64
	source histories.Event
}

// checkRenewals is P8. A lease the store renewed for TTL lives at least TTL
// from the renewal, so the key of a term held under it is not deleted,
// other than by its holder, before then. It judges the renewals a
// campaigner reported (FRenewed) and is omitted (nil) from a history
// without any.
//
// A renewal is placed in time by its revision R, which the answering member
// had applied before it renewed. R's commit, and so the renewal, came after
// the latest harness invocation of a write that landed at or before R
// (revisionTimes.notBefore). The event's own time is not used, because it
// is when the harness read it. A campaigner paused while the answer sat in
// its socket would make the renewal look later than it was, and promise a
// lease longer than the store granted. The key's end is bounded from above
// by the record's receipt of its deletion, or sooner by anything known to
// follow its revision (revisionTimes.notAfter). So a deletion known to
// precede anchor + TTL - renewalSlack ended the lease early, whatever the
// run's scheduling. A stuck old leader revoking leases kept alive through
// the new one does that (etcd #15247).
//
// Renewals answered at or after the deletion's revision are counted, not
// judged, as renewed after the end. etcd #20590's answers, a lease
// refreshed after it was revoked, are not among them. etcd fills the header
// before it looks the lease up, so they carry a revision below the
// deletion's and are judged here. Deletions that ended once the final reads
// began are not judged either. From then on the campaigners are stopped,
// and a stopping campaigner revokes its own lease. A deletion is placed by
// what follows it, as above, not by its receipt.
//
// A term's lease is the session its token names. A token naming none
// (etcd's needs none) is held under the lease its holder reported renewed
// during the term. A holder that renewed more than one leaves the term
// unjudged, and P8 unknown. A resign excuses a term's end only if it names
// that term, or none.
func checkRenewals(h *history, rec *record, bounds *revisionTimes) *CheckResult {
	var renewals []histories.Event
	for _, e := range h.events {
		if e.F == histories.FRenewed {
			renewals = append(renewals, e)
		}
	}
	if len(renewals) == 0 {
		return nil
	}
	c := newCheck("P8", "P8 renewed leases outlive their renewal")
	c.Counts[CountRenewals] = int64(len(renewals))
	if !rec.present {
		c.unknown("the history has no record of the store to find when leases ended")
		return &c
	}
	if hasClockFaults(h) {
		c.Informational = true
		c.Notes = append(c.Notes, "clock faults make the store measure TTLs wrongly by design: renewals not judged")
		return &c
	}
	stop, ok := h.phases[histories.PhaseFinalReads]
	if !ok {
		// An interrupted run closes its campaigners at an unrecorded
		// time, and each revokes its lease as it stops.
		c.Informational = true
		c.Notes = append(c.Notes, "the run did not reach its final reads, so when the campaigners stopped (revoking their leases) is unknown: renewals not judged")
		return &c
	}

	// Each renewal's lower bound in time, by lease.
	bySession := map[string][]anchored{}
	for _, e := range renewals {
		ttl, err := time.ParseDuration(e.Value)
		if err != nil || ttl <= 0 {
			continue // the reader refuses these
		}
		at, source, ok := bounds.notBefore(e.Revision)
		if !ok {
			c.Counts[CountRenewalsUnplaced]++
			continue
		}
		bySession[e.Session] = append(bySession[e.Session], anchored{e, ttl, at, source})
	}

	judged := map[keyID]bool{}
	for _, w := range campaignsWon(h) {
		tok := w.token
		id := keyID{tok.Key, tok.Seq}
		if judged[id] {
			continue
		}
		judged[id] = true
		del, gone := rec.deleted[id]
		var endBy int64
		proof := del
		if gone {
			// The deletion was committed before its receipt, and before
			// anything known to follow its revision (a later revision's
			// receipt, an acknowledged write that landed after it): the
			// record may be read late through a stuck member.
			endBy = del.Time
			if t, cause, ok := bounds.notAfter(del.Revision); ok && t < endBy {
				endBy, proof = t, cause
			}
		}
		session := tok.Session
		if session == "" && gone {
			var sessions []string
			session, sessions = leaseOfTerm(bySession, w, del)
			if len(sessions) > 1 {
				c.Counts[CountTermsLeaseAmbiguous]++
				c.Notes = append(c.Notes, fmt.Sprintf("%s's term %s names no lease, and %s renewed %d leases during it (%v): not judged", w.process(), tok, w.process(), len(sessions), sessions))
				continue
			}
		}
		if session == "" || len(bySession[session]) == 0 {
			continue
		}
		c.Counts[CountTermsRenewed]++
		switch {
		case !gone:
			c.Counts[CountTermsAlive]++
			continue
		case endBy >= stop.Time:
			c.Counts[CountTermsEndedAtStop]++
			continue
		case holderResigned(h, w, del.Time):
			c.Counts[CountTermsResigned]++
			continue
		case endedByHarness(h, tok.Key):
			c.Counts[CountTermsEndedByHarness]++
			continue
		}
		c.Counts[CountTermsEndedByLease]++
		var best *anchored
		for i, r := range bySession[session] {
			if r.e.Revision >= del.Revision {
				c.Counts[CountRenewalsAfterEnd]++
				continue
			}
			if best == nil || promisedEnd(r.at, r.ttl) > promisedEnd(best.at, best.ttl) {
				best = &bySession[session][i]
			}
		}
		if best == nil {
			continue
		}
		promised := promisedEnd(best.at, best.ttl)
		if endBy < promised-int64(renewalSlack) {
			events := []histories.Event{best.source, best.e, w.done, del}
			if proof.Index != del.Index {
				events = append(events, proof)
			}
			c.failAs(blameLease, fmt.Sprintf("lease ended early: %s's lease %s was renewed for %v at revision %d, which followed %.3fs (%s invoked a write that landed at or before it), so it lived until %.3fs at least; but the key of %s, held under it, was deleted at revision %d, by %.3fs, %.1fs early, and its holder had not resigned",
				w.process(), session, best.ttl, best.e.Revision, float64(best.at)/1e9, best.source.Process, float64(promised)/1e9,
				tok, del.Revision, float64(endBy)/1e9, float64(promised-endBy)/1e9),
				events...)
		}
	}
	if c.Counts[CountTermsLeaseAmbiguous] > 0 && c.Verdict != Invalid {
		c.unknown(fmt.Sprintf("%d won terms name no lease and their holders renewed more than one during them", c.Counts[CountTermsLeaseAmbiguous]))
	}
	if c.Counts[CountTermsRenewed] == 0 {
		c.Notes = append(c.Notes, "no won term's lease was reported renewed")
	}
	return &c
}

// endedByHarness reports whether the harness ended the session holding
// key from outside (fault end-term, the campaigner check): that end is
// the harness's, not the store's.
func endedByHarness(h *history, key string) bool {
	for _, e := range h.events {
		if e.F == histories.FFaultStart && e.Fault != nil && e.Fault.Kind == histories.FaultEndTerm && e.Fault.Params["key"] == key {
			return true
		}
	}
	return false
}

// holderResigned reports whether the holder of won term w asked to end it
// before del. That takes a resign by w's process that began at or before
// del and was still open when w's campaign began. The resign must name w's
// token, or none, since a recipe resigns whatever it holds. A resign naming
// another term ended that term, not w's.
func holderResigned(h *history, w won, del int64) bool {
	for _, o := range h.ops[histories.FResign] {
		if o.process() != w.process() || o.invoke.Time > del || o.done.Time < w.invoke.Time {
			continue
		}
		if t := o.invoke.Token; t == nil || t.Key == w.token.Key && t.Seq == w.token.Seq {
			return true
		}
	}
	return false
}

// leaseOfTerm is the lease of won term w whose token names none. That is
// the lease its holder reported renewed during the term, answered below the
// revision of the deletion del, and read after the campaign began. sessions
// lists every such lease, and more than one leaves the lease unknown ("").
func leaseOfTerm(bySession map[string][]anchored, w won, del histories.Event) (string, []string) {
	var sessions []string
	for session, rs := range bySession {
		for _, r := range rs {
			e := r.e
			if e.Process == w.process() && e.Revision < del.Revision && e.Time >= w.invoke.Time {
				sessions = append(sessions, session)
				break
			}
		}
	}
	sort.Strings(sessions)
	if len(sessions) != 1 {
		return "", sessions
	}
	return sessions[0], sessions
}

// promisedEnd is when a lease renewed for ttl no earlier than at lives
// until at least, saturating where the sum would overflow: an absurd TTL
// promises forever, and is judged so, never skipped.
func promisedEnd(at int64, ttl time.Duration) int64 {
	if int64(ttl) > math.MaxInt64-at {
		return math.MaxInt64
	}
	return at + int64(ttl)
}
