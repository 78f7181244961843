package checker

import (
	"fmt"
	"sort"
	"strings"

	"github.com/election-harness/harness/histories"
)

// keyID names one incarnation of a key: a key deleted and created again
// is a new incarnation with a new create revision.
type keyID struct {
	key       string
	createRev int64
}

// reign is one election key's time as leader in the store's record: the
// live key with the lowest create revision leads.
type reign struct {
	id keyID
	// start and end are the store events that began and ended it; end is
	// zero-valued while the key still leads at the end of the record.
	start, end histories.Event
	ended      bool
}

// record is the store's own account of the election, replayed.
type record struct {
	present bool // any store event at all
	// complete: read to the end of the run (the "record" phase).
	complete bool
	// horizon is the time up to which a complete record holds every
	// change anything in the history could have seen: the run's end,
	// after which the harness read the store's revision and followed the
	// record up to it. Events recorded later (an observer still running)
	// may concern changes past it.
	horizon int64
	// keys are every election key incarnation the store ever held.
	keys map[keyID]histories.Event // first put
	// deleted holds each incarnation's deletion.
	deleted map[keyID]histories.Event
	// reigns in order: the global leader sequence.
	reigns  []reign
	reignOf map[keyID]int
	// registerPuts are the puts of register keys, in store order.
	registerPuts []histories.Event
	// ordered is every store event, in the store's order.
	ordered []histories.Event
	// everyChange: the record is a watch of every change (etcd), not
	// sampled states (Consul): a write missing from it did not happen.
	everyChange bool
	// electionEvents and otherKeys count the record's events under the
	// election prefix and under neither prefix.
	electionEvents, otherKeys int
	// gaps are the stretches of revisions, per election key, in which
	// the record says it missed changes (FStoreGap).
	gaps []gap
}

// gap: the record missed changes of key at revisions in (after, before).
type gap struct {
	key           string
	after, before int64
	event         histories.Event
}

// inGap reports whether an incarnation of key created at rev falls in a
// stretch the record says it missed.
func (r *record) inGap(id keyID) bool {
	for _, g := range r.gaps {
		if g.key == id.key && g.after < id.createRev && id.createRev < g.before {
			return true
		}
	}
	return false
}

// replayRecord replays the store's record. A record without a single
// event is never complete, whatever its phase says: every run writes
// keys, so an empty record lost them, and a property judged by it would
// blame every observation and read on the record's loss.
func replayRecord(h *history, opts Options) *record {
	r := &record{present: len(h.store) > 0, complete: h.recordComplete && len(h.store) > 0, everyChange: h.recordKind == histories.RecordEveryChange,
		keys: map[keyID]histories.Event{}, deleted: map[keyID]histories.Event{}, reignOf: map[keyID]int{}}
	if end, ok := h.phases[histories.PhaseEnd]; ok {
		r.horizon = end.Time
	} else if rec, ok := h.phases[histories.PhaseRecord]; ok {
		r.horizon = rec.Time
	}
	live := map[string]int64{}    // election key -> create revision
	lastPut := map[string]int64{} // election key -> revision of its last put
	leader := keyID{}
	hasLeader := false
	r.ordered = storeOrder(h.store)
	for _, e := range r.ordered {
		if e.F == histories.FStoreGap {
			r.gaps = append(r.gaps, gap{key: e.Key, after: lastPut[e.Key], before: e.Revision, event: e})
			continue
		}
		if opts.RegisterPrefix != "" && strings.HasPrefix(e.Key, opts.RegisterPrefix) {
			if e.F == histories.FStorePut {
				r.registerPuts = append(r.registerPuts, e)
			}
			continue
		}
		if !strings.HasPrefix(e.Key, opts.ElectionPrefix) {
			r.otherKeys++
			continue
		}
		r.electionEvents++
		if e.F == histories.FStorePut {
			lastPut[e.Key] = e.Revision
		}
		switch e.F {
		case histories.FStorePut:
			if _, ok := live[e.Key]; !ok {
				live[e.Key] = e.CreateRevision
				r.keys[keyID{e.Key, e.CreateRevision}] = e
			}
		case histories.FStoreDelete:
			if rev, ok := live[e.Key]; ok {
				r.deleted[keyID{e.Key, rev}] = e
			}
			delete(live, e.Key)
		}
		// The leader is the oldest live key; only a put of the first key
		// or a delete of the leader changes it.
		var oldest keyID
		found := false
		for k, rev := range live {
			if !found || rev < oldest.createRev {
				oldest, found = keyID{k, rev}, true
			}
		}
		if hasLeader && (!found || oldest != leader) {
			r.reigns[len(r.reigns)-1].end = e
			r.reigns[len(r.reigns)-1].ended = true
		}
		if found && (!hasLeader || oldest != leader) {
			r.reignOf[oldest] = len(r.reigns)
			r.reigns = append(r.reigns, reign{id: oldest, start: e})
		}
		leader, hasLeader = oldest, found
	}
	return r
}

// storeOrder puts the record's events in the store's own order, by
// revision, whatever order they were received in. It drops an event
// received twice, as from a watch that resumed from an older revision. The
// order of store changes comes from revisions, never from the file. Events
// of one revision keep their file order.
func storeOrder(events []histories.Event) []histories.Event {
	out := append([]histories.Event(nil), events...)
	if !sort.SliceIsSorted(out, func(i, j int) bool { return out[i].Revision < out[j].Revision }) {
		sort.SliceStable(out, func(i, j int) bool { return out[i].Revision < out[j].Revision })
	}
	kept := out[:0]
	group := 0 // start in kept of the current revision's events
	for _, e := range out {
		if len(kept) > 0 && kept[len(kept)-1].Revision != e.Revision {
			group = len(kept)
		}
		dup := false
		for _, k := range kept[group:] {
			if k.F == e.F && k.Key == e.Key {
				dup = true
				break
			}
		}
		if !dup {
			kept = append(kept, e)
		}
	}
	return kept
}

// beyond reports whether an event at time t may concern a change the
// record does not hold: the record is incomplete, or t is past its
// horizon. Only such events may name keys the record lacks.
func (r *record) beyond(t int64) bool { return !r.complete || t > r.horizon }

// changesAt are the record's changes at revision rev, in order.
func (r *record) changesAt(rev int64) []histories.Event {
	i := sort.Search(len(r.ordered), func(i int) bool { return r.ordered[i].Revision >= rev })
	var out []histories.Event
	for ; i < len(r.ordered) && r.ordered[i].Revision == rev; i++ {
		out = append(out, r.ordered[i])
	}
	return out
}

// takenOverAt says whether the deletion del of an election key came in
// the same revision as the put of another: one write that changed the
// lock's holder.
func (r *record) takenOverAt(del histories.Event) bool {
	for _, e := range r.changesAt(del.Revision) {
		if e.F == histories.FStorePut && e.Key != del.Key && r.keys[keyID{e.Key, e.CreateRevision}].Revision == del.Revision {
			return true
		}
	}
	return false
}

// checkStoreState compares the state the store holds at the end of its
// record (FStoreState) with the state the record's changes build up to that
// revision. A record of every change that builds another state means the
// store lost or invented changes without a trace in its history. That is a
// store that went back in time and gave revisions out again. A sampled
// record cannot say.
func checkStoreState(c *CheckResult, rec *record, state histories.Event) {
	if !rec.everyChange || !rec.complete {
		return
	}
	built := map[string]histories.Event{}
	for _, e := range rec.ordered {
		if e.Revision > state.Revision {
			break
		}
		switch e.F {
		case histories.FStorePut:
			built[e.Key] = e
		case histories.FStoreDelete:
			delete(built, e.Key)
		}
	}
	c.Counts[CountStateKeysChecked] += int64(len(state.Changes))
	var diffs []string
	held := map[string]bool{}
	for _, ch := range state.Changes {
		held[ch.Key] = true
		b, ok := built[ch.Key]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s (revision %d) is in the store, not in what its record builds", ch.Key, ch.Revision))
		case b.Revision != ch.Revision:
			diffs = append(diffs, fmt.Sprintf("%s was last changed at revision %d in the store, at %d in its record", ch.Key, ch.Revision, b.Revision))
		}
	}
	for key, b := range built {
		if !held[key] {
			diffs = append(diffs, fmt.Sprintf("%s (revision %d in its record) is not in the store", key, b.Revision))
		}
	}
	if len(diffs) == 0 {
		return
	}
	sort.Strings(diffs)
	more := ""
	if len(diffs) > 3 {
		more = fmt.Sprintf(", and %d more", len(diffs)-3)
		diffs = diffs[:3]
	}
	c.failAs(blameRegressed, fmt.Sprintf("the store went back in time: its state at revision %d is not what its record of changes builds: %s%s", state.Revision, strings.Join(diffs, "; "), more), state)
}

// checkStoreHistory follows each key through a record of every change whose
// events name the key's previous change (PrevRevision, etcd). A change
// whose previous one is not the record's last change of the key means the
// store's history of the key was rewritten under the record. That happens
// when a store goes back in time and gives revisions out again, since its
// lost changes never had a delete. A sampled record, or one without
// previous revisions, cannot say.
func checkStoreHistory(c *CheckResult, rec *record) {
	if !rec.everyChange {
		return
	}
	last := map[string]histories.Event{}
	for _, e := range rec.ordered {
		if e.F != histories.FStorePut && e.F != histories.FStoreDelete {
			continue
		}
		prev, seen := last[e.Key]
		created := e.F == histories.FStorePut && e.CreateRevision == e.Revision
		// PrevRevision 0 says nothing (an old record, or a previous
		// value compacted away), but for a key created anew.
		if seen && prev.F == histories.FStorePut && (e.PrevRevision != 0 && e.PrevRevision != prev.Revision || created) {
			what := "did not exist"
			if !created {
				what = fmt.Sprintf("was last changed at revision %d", e.PrevRevision)
			}
			c.failAs(blameRegressed, fmt.Sprintf("the store went back in time: its change of %s at revision %d says the key %s before it, but the store's record last changed it at revision %d", e.Key, e.Revision, what, prev.Revision), prev, e)
			return
		}
		last[e.Key] = e
	}
}
