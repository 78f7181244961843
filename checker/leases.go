package checker

import (
	"fmt"
	"time"

	"github.com/election-harness/harness/histories"
)

// leaseSlack is how much earlier than promised a lease may end before
// P7 calls it an anomaly: the invocation time bounds the answer from
// below only up to the harness's own scheduling.
const leaseSlack = time.Second

// checkLeases is P7: a lease the store said at or after time t had TTL
// left (a TTL query's answer, or a renewal's) lives until t+TTL at
// least. The question's invocation bounds t from below;
// the store record's deletion of the term's key bounds the lease's end
// from above (it is received after it happened). A key deleted before
// the promised end, other than by its holder resigning, is a lease
// revoked early: a stuck leader revoking leases (etcd #15247), a
// lease said alive (renewed) after it was revoked (etcd #20590).
// Clock faults void the promise (the store measures TTLs by its own
// clocks), so runs with them judge nothing.
//
// P7 judges the store's lease promise, not the election recipe, which
// a fence keeps safe however early a lease ends: it is informational,
// so its anomalies are reported with their evidence but do not fail a
// run gating a recipe.
func checkLeases(h *history, rec *record) CheckResult {
	c := newCheck("P7", "P7 leases outlive their TTL")
	c.Informational = true
	if rec.present {
		countLeaseEnds(h, rec, c.Counts)
	}
	answers := h.ops[histories.FLeaseTTL]
	for _, o := range answers {
		c.Counts[countLeaseTTLBy(o.done.Type)]++
	}
	if c.Counts[CountLeaseTTLOK] == 0 {
		c.Notes = append(c.Notes, "no lease-ttl answer (a campaigner that does not answer it, or a store that makes no promise)")
		return c
	}
	if !rec.present {
		c.unknown("the history has no record of the store to find when leases ended")
		return c
	}
	if hasClockFaults(h) {
		c.Notes = append(c.Notes, "clock faults make the store measure TTLs wrongly by design: lease TTLs not judged")
		return c
	}
	end := int64(-1)
	if e, ok := h.phases[histories.PhaseEnd]; ok {
		end = e.Time
	}
	for _, o := range answers {
		if o.done.Type != histories.OK || o.done.Token == nil {
			continue
		}
		ttl, err := time.ParseDuration(o.done.Value)
		if err != nil || ttl <= 0 {
			c.Counts[CountLeaseTTLEmpty]++
			continue
		}
		tok := *o.done.Token
		del, ok := rec.deleted[keyID{tok.Key, tok.Seq}]
		if !ok || (end >= 0 && del.Time > end) || resignedBefore(h, tok, del.Time) || endedByHarness(h, tok.Key) {
			c.Counts[CountLeaseTTLChecked]++
			continue
		}
		c.Counts[CountLeaseTTLChecked]++
		promised := o.invoke.Time + int64(ttl)
		switch {
		case del.Time < o.invoke.Time:
			c.failAs(blameLease, fmt.Sprintf("lease alive after revocation: %s asked the lease TTL of term %s at %.3fs and was told %v, but its key had been gone since revision %d (received at %.3fs)",
				o.process(), tok, float64(o.invoke.Time)/1e9, ttl, del.Revision, float64(del.Time)/1e9),
				del, o.invoke, o.done)
		case del.Time < promised-int64(leaseSlack):
			c.failAs(blameLease, fmt.Sprintf("lease revoked early: %s was told term %s's lease lives %v at %.3fs or later, and its key was gone at revision %d by %.3fs, %.1fs before the lease could end",
				o.process(), tok, ttl, float64(o.invoke.Time)/1e9, del.Revision, float64(del.Time)/1e9, float64(promised-del.Time)/1e9),
				o.invoke, o.done, del)
		}
	}
	return c
}

// stuckResumeWindow is how soon after a stuck raft loop resumes a
// lease's end is counted as coming with the resumption.
const stuckResumeWindow = time.Second

// countLeaseEnds counts, in a run with stuck raft loops, the election keys
// that ended other than by their holder resigning (a lease expired or
// revoked). Of those it also counts the ones the record received within
// stuckResumeWindow after a raft leader's stuck raft loop resumed. A raft
// loop is stuck by failpoint raft-leader-stuck, or by stall raft-leader
// holding its WAL's syncs.
//
// An old leader that resumes and revokes leases kept alive elsewhere (etcd
// #15247) makes many such ends. A store that expires only leases left
// unrenewed makes few. They are counted, not judged. A lease renewed only
// through the stuck leader also ends there, and the history lacks the
// keepalives the holders saw answered, which would tell them apart.
func countLeaseEnds(h *history, rec *record, counts map[string]int64) {
	resigned := map[string]bool{}
	for _, o := range h.ops[histories.FResign] {
		if o.invoke.Token != nil {
			resigned[o.invoke.Token.Key] = true
		}
	}
	var resumed []int64
	for _, e := range h.events {
		if e.F == histories.FFaultStop && e.Fault != nil && stuckRaftLoop(*e.Fault) {
			resumed = append(resumed, e.Time)
		}
	}
	if len(resumed) == 0 {
		return
	}
	for id, del := range rec.deleted {
		if resigned[id.key] {
			continue
		}
		counts[CountLeaseEnds]++
		for _, t := range resumed {
			if del.Time >= t && del.Time <= t+int64(stuckResumeWindow) {
				counts[CountLeaseEndsAsStuckLeaderResumed]++
				break
			}
		}
	}
}

// stuckRaftLoop says whether a fault held a raft leader's raft loop
// while the rest of its process ran: the failpoint stuck before its WAL
// save, or its disk's syncs held.
func stuckRaftLoop(f histories.Fault) bool {
	rule := f.Params["rule"]
	return f.Kind == histories.FaultFailpoint && rule == "raft-leader-stuck" ||
		f.Kind == histories.FaultStall && rule == "raft-leader"
}

// resignedBefore reports whether the holder of tok asked to resign it
// before time t: the key's deletion is then its own doing.
func resignedBefore(h *history, tok histories.Token, t int64) bool {
	for _, o := range h.ops[histories.FResign] {
		if o.invoke.Token != nil && *o.invoke.Token == tok && o.invoke.Time <= t {
			return true
		}
	}
	return false
}

// hasClockFaults reports whether any clock fault started in the run.
func hasClockFaults(h *history) bool {
	for _, e := range h.events {
		if e.F == histories.FFaultStart && e.Fault != nil && e.Fault.Kind == histories.FaultClock {
			return true
		}
	}
	return false
}
