package checker

import (
	"fmt"

	"github.com/election-harness/harness/histories"
)

// checkGranted is P3. Every campaign that returned a term must have been
// granted it for real. The term's key is the campaigner's own (its session,
// and not a key another campaigner proclaimed through). The key led in the
// store's own record at some instant inside the call. A key that never led
// is phantom leadership, as when its session expired while it waited (etcd
// #19597). A reign that ended before the call began, or began only after it
// returned, was not granted by it. Reigns are ranges of revisions, and
// revisionTimes places them in real time.
func checkGranted(h *history, rec *record, bounds *revisionTimes) CheckResult {
	c := newCheck("P3", "P3 granted leadership is real")
	c.Counts[CountLeaderChanges] = int64(len(rec.reigns))
	if len(rec.gaps) > 0 {
		c.Counts[CountRecordGaps] = int64(len(rec.gaps))
	}
	wins := campaignsWon(h)
	switch {
	case !rec.present:
		c.unknown("the history has no record of the store to check against")
		return c
	case rec.electionEvents == 0:
		c.unknown("the store's record holds no election key: nothing to check grants against")
		return c
	}
	proclaimedBy := map[string]map[string]bool{} // campaign value -> processes
	for _, o := range h.ops[histories.FCampaign] {
		if o.invoke.Value == "" {
			continue
		}
		if proclaimedBy[o.invoke.Value] == nil {
			proclaimedBy[o.invoke.Value] = map[string]bool{}
		}
		proclaimedBy[o.invoke.Value][o.process()] = true
	}
	for _, w := range wins {
		c.Counts[CountTermsChecked]++
		id := keyID{w.token.Key, w.token.Seq}
		if first, ok := rec.keys[id]; ok {
			if why := notOwnKey(w, first, proclaimedBy); why != "" {
				c.failAs(blameGrant, why, first, w.invoke, w.done)
				continue
			}
		}
		i, led := rec.reignOf[id]
		if !led {
			switch {
			case !rec.complete:
				c.Counts[CountTermsUnchecked]++
				continue
			case rec.beyond(w.done.Time):
				c.Counts[CountTermsAfterRecord]++
				continue
			case rec.inGap(id):
				c.Counts[CountTermsInRecordGaps]++
				continue
			}
			why := "never led"
			if _, existed := rec.keys[id]; !existed {
				why = "never existed in the store"
				// The store acknowledged the key at a revision its record
				// holds other changes at: one revision, two writes. It
				// went back in time and gave the revision out again.
				if others := rec.changesAt(w.token.Seq); rec.everyChange && len(others) > 0 {
					c.failAs(blameRegressed, fmt.Sprintf("the store went back in time: %s's campaign was granted term %s, created at revision %d, where the store's record holds %s instead: it gave that revision out twice",
						w.process(), w.token, w.token.Seq, others[0].Key), append([]histories.Event{w.invoke, w.done}, others[0])...)
					continue
				}
			}
			c.failAs(blameGrant, fmt.Sprintf("phantom leadership: %s's campaign returned term %s, whose key %s", w.process(), w.token, why), w.invoke, w.done)
			continue
		}
		r := rec.reigns[i]
		if r.ended {
			if t, cause, ok := bounds.notAfter(r.end.Revision); ok && t < w.invoke.Time {
				c.failAs(blameGrant, fmt.Sprintf("stale grant: %s's campaign returned term %s, whose reign had ended at revision %d (known by %.3fs) before the campaign began at %.3fs",
					w.process(), w.token, r.end.Revision, float64(t)/1e9, float64(w.invoke.Time)/1e9), dedupe(r.start, r.end, cause, w.invoke, w.done)...)
				continue
			}
		}
		if t, cause, ok := bounds.notBefore(r.start.Revision); ok && t > w.done.Time {
			c.failAs(blameGrant, fmt.Sprintf("premature grant: %s's campaign returned term %s at %.3fs, but the term only began to lead at revision %d, after %.3fs (when %s invoked %s)",
				w.process(), w.token, float64(w.done.Time)/1e9, r.start.Revision, float64(t)/1e9, cause.Process, cause.F), w.invoke, w.done, cause, r.start)
			continue
		}
		c.Counts[CountTermsLedInCall]++
	}
	if len(wins) == 0 {
		c.unknown("no campaign succeeded")
	}
	if c.Counts[CountTermsUnchecked] > 0 {
		c.unknown(fmt.Sprintf("%d terms not found in an incomplete store record", c.Counts[CountTermsUnchecked]))
	}
	if len(wins) > 0 && c.Counts[CountTermsLedInCall] == 0 && c.Verdict == Valid {
		c.unknown("no granted term could be placed in the store's record")
	}
	return c
}

// notOwnKey says why the key a campaign returned is not the
// campaigner's own ("" if nothing shows it): the record holds it under
// another session, or it proclaims a value only another campaigner
// campaigned with.
func notOwnKey(w won, first histories.Event, proclaimedBy map[string]map[string]bool) string {
	if w.token.Session != "" && first.Session != "" && w.token.Session != first.Session {
		return fmt.Sprintf("not its own key: %s's campaign returned term %s of session %s, but the store holds that key under session %s",
			w.process(), w.token, w.token.Session, first.Session)
	}
	if first.Value == "" || first.Value == w.invoke.Value {
		return ""
	}
	if others := proclaimedBy[first.Value]; len(others) > 0 && !others[w.process()] {
		for p := range others {
			return fmt.Sprintf("not its own key: %s's campaign returned term %s, whose key proclaims %q, as %s campaigned",
				w.process(), w.token, first.Value, p)
		}
	}
	return ""
}

// dedupe drops repeated events (by index) from evidence.
func dedupe(events ...histories.Event) []histories.Event {
	seen := map[int64]bool{}
	var out []histories.Event
	for _, e := range events {
		if seen[e.Index] {
			continue
		}
		seen[e.Index] = true
		out = append(out, e)
	}
	return out
}
