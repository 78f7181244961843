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
	if rec.present && rec.electionEvents == 0 {
		c.Counts["observations"] = int64(len(h.observed))
		c.unknown("the store's record holds no election key to compare observers with")
		return c
	}
	for _, e := range h.observed {
		c.Counts["observations"]++
		if _, ok := last[e.Process]; !ok {
			c.Counts["observers"]++
		}
		id := keyID{e.Key, e.CreateRevision}
		i, ok := rec.reignOf[id]
		if !ok {
			switch {
			case !rec.complete:
				c.Counts["observations-unchecked"]++
			case rec.beyond(e.Time):
				c.Counts["observations-after-record"]++
			case rec.inGap(id):
				c.Counts["observations-in-record-gaps"]++
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
	case c.Counts["observations"] == 0:
		c.unknown("no observer saw a leader")
	case c.Counts["observations-unchecked"] > 0:
		c.unknown(fmt.Sprintf("%d observations not found in an incomplete store record", c.Counts["observations-unchecked"]))
	}
	return c
}
