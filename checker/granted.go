package checker

import (
	"fmt"
)

// checkGranted is P3: every campaign that returned a term must have led
// in the store's own record at some instant inside its call. A key that
// never led (its session expired while it waited: etcd #19597) is
// phantom leadership; a reign whose end the harness had already received
// before the campaign was invoked ended before the call began.
func checkGranted(h *history, rec *record) CheckResult {
	c := newCheck("P3", "P3 granted leadership is real")
	c.Counts["leader-changes"] = int64(len(rec.reigns))
	if len(rec.gaps) > 0 {
		c.Counts["record-gaps"] = int64(len(rec.gaps))
	}
	wins := campaignsWon(h)
	if !rec.present {
		c.unknown("the history has no record of the store to check against")
		return c
	}
	for _, w := range wins {
		c.Counts["terms-checked"]++
		id := keyID{w.token.Key, w.token.Seq}
		i, led := rec.reignOf[id]
		if !led {
			switch {
			case !rec.complete:
				c.Counts["terms-unchecked"]++
				continue
			case rec.beyond(w.done.Time):
				c.Counts["terms-after-record"]++
				continue
			case rec.inGap(id):
				c.Counts["terms-in-record-gaps"]++
				continue
			}
			why := "never led"
			if _, existed := rec.keys[id]; !existed {
				why = "never existed in the store"
			}
			c.fail(fmt.Sprintf("phantom leadership: %s's campaign returned term %s, whose key %s", w.process(), w.token, why), w.invoke, w.done)
			continue
		}
		if r := rec.reigns[i]; r.ended && r.end.Time < w.invoke.Time {
			c.fail(fmt.Sprintf("stale grant: %s's campaign returned term %s, whose reign had ended at revision %d before the campaign began",
				w.process(), w.token, r.end.Revision), r.start, r.end, w.invoke, w.done)
		}
	}
	if len(wins) == 0 {
		c.unknown("no campaign succeeded")
	}
	if c.Counts["terms-unchecked"] > 0 {
		c.unknown(fmt.Sprintf("%d terms not found in an incomplete store record", c.Counts["terms-unchecked"]))
	}
	return c
}
