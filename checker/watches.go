package checker

import (
	"fmt"
	"sort"
	"strings"

	"github.com/election-harness/harness/histories"
)

// The watch guarantees P11 judges, named as etcd's robustness tests name
// them in their robustness tests (validate/watch.go) where the meaning is
// the same.
const (
	// watchOrdered: changes arrive in revision order, never going back.
	watchOrdered = "ordered"
	// watchUnique: no change arrives twice.
	watchUnique = "unique"
	// watchAtomic: every change of one revision arrives in one response.
	watchAtomic = "atomic"
	// watchReliable: no change between a watch's start and the last
	// revision it reached is missing.
	watchReliable = "reliable"
	// watchResumable: a watch started at revision R delivers the changes
	// from R on, none before it and none skipped at its start.
	watchResumable = "resumable"
	// watchBookmarkable: a progress notification at revision H comes
	// after every change up to H, and no change up to H comes after it.
	watchBookmarkable = "bookmarkable"
	// watchMatches: every change delivered is one the store made (key,
	// put or delete, value, create revision), as its record says.
	watchMatches = "matches the record"
)

// blameWatch is whose a broken watch guarantee is.
var blameWatch = Blame{PartyDatabase, "a watch of one member broke a guarantee the store makes of watches (the harness watches with the store's own client library, whose reconnection resumes a watch: it is the other suspect)", nil}

// watchKey names one change: a key at a revision.
type watchKey struct {
	key string
	rev int64
}

// watchSegment is one watch of a watcher, from its start to its end.
type watchSegment struct {
	start    histories.Event
	resumed  bool // not the watcher's first watch
	reached  int64
	got      map[watchKey]bool
	firstGot int64 // revision of the first change delivered, 0 if none
	lastGot  int64 // revision of the last change delivered, 0 if none
	// shortAt are the revisions missing when a progress notification
	// said they had been delivered, with that notification.
	shortAt map[int64]histories.Event
}

// checkWatches is P11: every watcher pinned to a member (FWatchStart,
// FWatched, FWatchEnd) kept the store's watch guarantees, judged against the
// store's record of every change. A watcher that never caught up is
// judged up to where it got; a record that is not of every change, or
// not read to its end, leaves P11 unknown. A history without watchers
// (Consul, a run recorded before they were taken) has no P11 (nil).
func checkWatches(h *history, rec *record) *CheckResult {
	byWatcher := map[string][]histories.Event{}
	for _, e := range h.events {
		switch e.F {
		case histories.FWatchStart, histories.FWatched, histories.FWatchEnd:
			byWatcher[e.Process] = append(byWatcher[e.Process], e)
		}
	}
	if len(byWatcher) == 0 {
		return nil
	}
	c := newCheck("P11", "P11 watches keep their guarantees")
	if !rec.complete || !rec.everyChange {
		c.unknown("the store's record is not every change read to the end of the run: what a watch missed cannot be told")
		return &c
	}
	byRev := map[int64][]histories.Event{}
	var lastRev int64
	for _, e := range rec.ordered {
		if e.F == histories.FStorePut || e.F == histories.FStoreDelete {
			byRev[e.Revision] = append(byRev[e.Revision], e)
			lastRev = max(lastRev, e.Revision)
		}
	}
	revs := make([]int64, 0, len(byRev))
	for r := range byRev {
		revs = append(revs, r)
	}
	sort.Slice(revs, func(i, j int) bool { return revs[i] < revs[j] })
	names := make([]string, 0, len(byWatcher))
	for n := range byWatcher {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		judgeWatcher(&c, byWatcher[n], byRev, revs, lastRev)
	}
	return &c
}

// judgeWatcher judges one watcher's events, in the order recorded.
func judgeWatcher(c *CheckResult, events []histories.Event, byRev map[int64][]histories.Event, revs []int64, lastRev int64) {
	who := strings.TrimPrefix(events[0].Process, "watch:")
	c.Counts[CountWatchers]++
	fail := func(guarantee, msg string, es ...histories.Event) {
		c.Counts[countBroke(guarantee)]++
		c.failAs(blameWatch, fmt.Sprintf("%s (%s): the watch of %s %s", guarantee, "P11", who, msg), es...)
	}
	delivered := map[watchKey]histories.Event{} // over the watcher's whole life
	var last int64                              // the highest revision delivered
	var bookmark int64                          // the highest progress notification
	var seg *watchSegment
	starts := 0
	closeSegment := func() {
		if seg == nil {
			return
		}
		judgeSegmentGaps(c, seg, byRev, revs, min(seg.reached, lastRev), fail)
		seg = nil
	}
	for _, e := range events {
		switch e.F {
		case histories.FWatchStart:
			closeSegment()
			c.Counts[CountWatches]++
			seg = &watchSegment{start: e, resumed: starts > 0, reached: e.Revision - 1, got: map[watchKey]bool{}, shortAt: map[int64]histories.Event{}}
			starts++
			if starts > 1 {
				c.Counts[CountWatchesResumed]++
			}
		case histories.FWatchEnd:
			if e.Error != "" {
				c.Counts[CountWatchesEndedByStore]++
			}
			closeSegment()
		case histories.FWatched:
			if seg == nil {
				fail(watchResumable, "delivered a response outside any watch (before its start or after its end)", e)
				continue
			}
			if e.Value == histories.WatchProgress {
				c.Counts[CountProgressNotifications]++
				if e.Revision < last {
					fail(watchBookmarkable, fmt.Sprintf("said progress up to revision %d after delivering a change at %d", e.Revision, last), e)
				}
				for _, r := range revs {
					if r < seg.start.Revision || r > min(e.Revision, lastRev) {
						continue
					}
					for _, s := range byRev[r] {
						if !seg.got[watchKey{s.Key, r}] {
							if _, ok := seg.shortAt[r]; !ok {
								seg.shortAt[r] = e
							}
						}
					}
				}
				bookmark = max(bookmark, e.Revision)
				seg.reached = max(seg.reached, e.Revision)
				continue
			}
			c.Counts[CountResponses]++
			judgeResponse(c, e, seg, delivered, byRev, &last, bookmark, lastRev, fail)
		}
	}
	closeSegment()
}

// judgeResponse judges one response's changes: order, uniqueness, the
// record, atomicity and bookmarks.
func judgeResponse(c *CheckResult, e histories.Event, seg *watchSegment, delivered map[watchKey]histories.Event, byRev map[int64][]histories.Event, last *int64, bookmark, lastRev int64, fail func(string, string, ...histories.Event)) {
	inResponse := map[int64]int{}
	for _, ch := range e.Changes {
		c.Counts[CountChanges]++
		k := watchKey{ch.Key, ch.Revision}
		if prev, ok := delivered[k]; ok {
			fail(watchUnique, fmt.Sprintf("delivered %s at revision %d twice", ch.Key, ch.Revision), prev, e)
			continue
		}
		delivered[k] = e
		switch {
		case ch.Revision < seg.start.Revision:
			fail(watchResumable, fmt.Sprintf("started at revision %d delivered %s at revision %d, before it", seg.start.Revision, ch.Key, ch.Revision), seg.start, e)
		case ch.Revision < *last:
			fail(watchOrdered, fmt.Sprintf("delivered %s at revision %d after a change at revision %d", ch.Key, ch.Revision, *last), e)
		}
		if ch.Revision <= bookmark {
			fail(watchBookmarkable, fmt.Sprintf("delivered %s at revision %d after a progress notification at %d", ch.Key, ch.Revision, bookmark), e)
		}
		*last = max(*last, ch.Revision)
		seg.got[k] = true
		seg.reached = max(seg.reached, ch.Revision)
		if seg.firstGot == 0 {
			seg.firstGot = ch.Revision
		}
		seg.lastGot = max(seg.lastGot, ch.Revision)
		inResponse[ch.Revision]++
		if ch.Revision > lastRev {
			fail(watchMatches, fmt.Sprintf("delivered %s at revision %d, past the last revision the store's record holds (%d)", ch.Key, ch.Revision, lastRev), e)
			continue
		}
		if want, ok := recordChange(byRev[ch.Revision], ch.Key); !ok {
			fail(watchMatches, fmt.Sprintf("delivered %s at revision %d, a change the store's record does not hold", ch.Key, ch.Revision), e)
		} else if d := changeDiffers(ch, want); d != "" {
			fail(watchMatches, fmt.Sprintf("delivered %s at revision %d %s", ch.Key, ch.Revision, d), want, e)
		}
	}
	for r, n := range inResponse {
		if r <= lastRev && n < len(byRev[r]) {
			fail(watchAtomic, fmt.Sprintf("delivered %d of revision %d's %d changes in one response", n, r, len(byRev[r])), e)
		}
	}
}

// recordChange finds the record's change of key among one revision's.
func recordChange(changes []histories.Event, key string) (histories.Event, bool) {
	for _, s := range changes {
		if s.Key == key {
			return s, true
		}
	}
	return histories.Event{}, false
}

// changeDiffers says how a delivered change differs from the record's
// ("" if it does not).
func changeDiffers(ch histories.Change, want histories.Event) string {
	wantDelete := want.F == histories.FStoreDelete
	switch {
	case ch.Delete != wantDelete:
		if wantDelete {
			return "as a put, where the store deleted it"
		}
		return "as a delete, where the store put it"
	case !ch.Delete && ch.Value != want.Value:
		return fmt.Sprintf("with value %q, where the store put %q", clip(ch.Value, 80), clip(want.Value, 80))
	case ch.CreateRevision != 0 && want.CreateRevision != 0 && ch.CreateRevision != want.CreateRevision:
		return fmt.Sprintf("created at revision %d, where the store created it at %d", ch.CreateRevision, want.CreateRevision)
	}
	return ""
}

// judgeSegmentGaps finds two kinds of the record's changes, from the
// segment's start to the revision it reached. The first are those it never
// delivered. They break reliable, or resumable when a resumed watch missed
// them before everything it delivered. The second are those it delivered
// only after a progress notification said it had, which breaks
// bookmarkable.
func judgeSegmentGaps(c *CheckResult, seg *watchSegment, byRev map[int64][]histories.Event, revs []int64, upTo int64, fail func(string, string, ...histories.Event)) {
	for _, r := range revs {
		if r < seg.start.Revision || r > upTo {
			continue
		}
		for _, s := range byRev[r] {
			c.Counts[CountChangesExpected]++
			if !seg.got[watchKey{s.Key, r}] {
				// Past every change the watch delivered, only a progress
				// notification said it had come: that promise is the one
				// broken (the change may still have been on its way when
				// the watch stopped). Below one delivered, it was skipped.
				if p, ok := seg.shortAt[r]; ok && r > seg.lastGot {
					fail(watchBookmarkable, fmt.Sprintf("never delivered %s at revision %d, though a progress notification at %d had said it held everything up to there", s.Key, r, p.Revision), p, s)
					continue
				}
				guarantee := watchReliable
				if seg.resumed && (seg.firstGot == 0 || r < seg.firstGot) {
					guarantee = watchResumable
				}
				fail(guarantee, fmt.Sprintf("never delivered %s at revision %d (%s), though it started at %d and reached %d", s.Key, r, s.F, seg.start.Revision, upTo), seg.start, s)
				continue
			}
			if p, ok := seg.shortAt[r]; ok {
				fail(watchBookmarkable, fmt.Sprintf("delivered %s at revision %d only after a progress notification at %d had said it held everything up to there", s.Key, r, p.Revision), p, s)
			}
		}
	}
}
