package checker

import (
	"fmt"

	"github.com/election-harness/harness/histories"
)

// checkObservers is P5: every observer's sequence of leaders is a
// subsequence of the store's own sequence of reigns: no leader the store
// never had, and never going back.
func checkObservers(h *history, rec *record) CheckResult {
	c := newCheck("P5", "P5 observers agree")
	type seen struct {
		reign int
		event histories.Event
	}
	last := map[string]seen{}
	if why, declined := observeDeclined(h); declined {
		c.Informational = true
		c.Notes = append(c.Notes, "not checked: "+why)
		return c
	}
	if rec.present && rec.electionEvents == 0 {
		c.Counts[CountObservations] = int64(len(h.observed))
		c.unknown("the store's record holds no election key to compare observers with")
		return c
	}
	for _, e := range h.observed {
		c.Counts[CountObservations]++
		if _, ok := last[e.Process]; !ok {
			c.Counts[CountObservers]++
		}
		id := keyID{e.Key, e.CreateRevision}
		i, ok := rec.reignOf[id]
		if !ok {
			switch {
			case !rec.complete:
				c.Counts[CountObservationsUnchecked]++
			case rec.beyond(e.Time):
				c.Counts[CountObservationsAfterRecord]++
			case rec.inGap(id):
				c.Counts[CountObservationsInRecordGaps]++
			default:
				c.failAs(blameObservers, fmt.Sprintf("%s observed leader %s@%d, which never led in the store's record", e.Process, e.Key, e.CreateRevision), e)
			}
			continue
		}
		if prev, ok := last[e.Process]; ok && i < prev.reign {
			c.failAs(blameObservers, fmt.Sprintf("%s's observed leader went back from %s@%d to the earlier %s@%d",
				e.Process, prev.event.Key, prev.event.CreateRevision, e.Key, e.CreateRevision), prev.event, e)
		}
		last[e.Process] = seen{i, e}
	}
	switch {
	case !rec.present:
		c.unknown("the history has no record of the store to compare observers with")
	case c.Counts[CountObservations] == 0:
		c.unknown("no observer saw a leader")
	case c.Counts[CountObservationsUnchecked] > 0:
		c.unknown(fmt.Sprintf("%d observations not found in an incomplete store record", c.Counts[CountObservationsUnchecked]))
	}
	return c
}

// observeDeclined reports whether no campaigner observes: every observe
// was declined (docs/campaigner-protocol.md: observe is optional) and no
// leader was observed. P5 then has nothing to judge, and says so,
// informational, never unknown for the run.
func observeDeclined(h *history) (string, bool) {
	ops := h.ops[histories.FObserve]
	if len(ops) == 0 || len(h.observed) > 0 {
		return "", false
	}
	for _, o := range ops {
		if o.done.Type != histories.Fail || !histories.Declined(o.done.Error) {
			return "", false
		}
	}
	return fmt.Sprintf("the campaigners do not observe (%d observe commands declined: %q)", len(ops), ops[0].done.Error), true
}
