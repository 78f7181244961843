package checker

import (
	"math"
	"sort"

	"github.com/election-harness/harness/histories"
)

// revisionTimes places the store's revisions in real time. A revision
// happened after the invocation of any write whose put landed at or before
// it, since that call caused the put. It happened before the receipt of any
// store event at or after it. It also happened before the completion of any
// acknowledged write that landed at or after it. Revisions are the store's
// commit order, so these bounds are facts of the run, not guesses. They are
// what lets a reign (a range of revisions) be compared with a call (a range
// of real time).
type revisionTimes struct {
	// after and before are sorted by revision; after holds the running
	// maximum of lower bounds, before the running minimum (from the end)
	// of upper bounds, each with the event that gives it.
	after  []timeBound
	before []timeBound
}

type timeBound struct {
	rev   int64
	t     int64
	cause *histories.Event
}

func newRevisionTimes(store []histories.Event, landed []landing) *revisionTimes {
	rt := &revisionTimes{}
	for i := range store {
		if e := &store[i]; e.F != histories.FStoreGap {
			rt.before = append(rt.before, timeBound{e.Revision, e.Time, e})
		}
	}
	for _, l := range landed {
		rt.after = append(rt.after, timeBound{l.put.Revision, l.write.invoke.Time, &l.write.invoke})
		if l.write.done.Type == histories.OK {
			rt.before = append(rt.before, timeBound{l.put.Revision, l.write.done.Time, &l.write.done})
		}
	}
	sort.Slice(rt.after, func(i, j int) bool { return rt.after[i].rev < rt.after[j].rev })
	sort.Slice(rt.before, func(i, j int) bool { return rt.before[i].rev < rt.before[j].rev })
	for i := 1; i < len(rt.after); i++ {
		if rt.after[i].t < rt.after[i-1].t {
			rt.after[i].t, rt.after[i].cause = rt.after[i-1].t, rt.after[i-1].cause
		}
	}
	for i := len(rt.before) - 2; i >= 0; i-- {
		if rt.before[i].t > rt.before[i+1].t {
			rt.before[i].t, rt.before[i].cause = rt.before[i+1].t, rt.before[i+1].cause
		}
	}
	return rt
}

// notBefore is the latest time known to precede revision rev, and the
// event that proves it; ok is false when nothing bounds it.
func (rt *revisionTimes) notBefore(rev int64) (t int64, cause histories.Event, ok bool) {
	i := sort.Search(len(rt.after), func(i int) bool { return rt.after[i].rev > rev })
	if i == 0 {
		return math.MinInt64, histories.Event{}, false
	}
	b := rt.after[i-1]
	return b.t, *b.cause, true
}

// notAfter is the earliest time known to follow revision rev, and the
// event that proves it.
func (rt *revisionTimes) notAfter(rev int64) (t int64, cause histories.Event, ok bool) {
	i := sort.Search(len(rt.before), func(i int) bool { return rt.before[i].rev >= rev })
	if i == len(rt.before) {
		return math.MaxInt64, histories.Event{}, false
	}
	b := rt.before[i]
	return b.t, *b.cause, true
}
