package checker

import (
	"fmt"
	"sort"
	"strings"

	"github.com/election-harness/harness/histories"
)

// landing is a register put in the store's record and the write that
// made it (found by its value: the harness writes every value once).
type landing struct {
	put   histories.Event
	write *op
}

// registerRecord attributes the record's register puts to writes.
type registerRecord struct {
	// puts are the register puts in store order; landed those whose
	// write is known.
	puts   []histories.Event
	landed []landing
	// putOf is the put each write made, if the record holds it.
	putOf map[*op]histories.Event
	// writeOf maps (key, value) to the write of it; ambiguous holds
	// values written more than once (old histories), which cannot be
	// attributed.
	writeOf   map[keyValue]*op
	ambiguous map[keyValue]bool
}

type keyValue struct{ key, value string }

// writeTerm is the term a write was made under: the one the harness
// asked the leader to write with (on the invocation), or, for an act,
// the one the campaigner said it acted under (on the completion).
func writeTerm(o *op) *histories.Token {
	if o.invoke.Token != nil {
		return o.invoke.Token
	}
	if o.done.Token != nil {
		return o.done.Token
	}
	return nil
}

func attributePuts(h *history, rec *record) *registerRecord {
	rr := &registerRecord{puts: rec.registerPuts, putOf: map[*op]histories.Event{}, writeOf: map[keyValue]*op{}, ambiguous: map[keyValue]bool{}}
	for _, o := range h.ops[histories.FWrite] {
		kv := keyValue{o.invoke.Key, o.invoke.Value}
		if _, dup := rr.writeOf[kv]; dup {
			rr.ambiguous[kv] = true
		}
		rr.writeOf[kv] = o
	}
	for _, put := range rr.puts {
		kv := keyValue{put.Key, put.Value}
		w := rr.writeOf[kv]
		if w == nil || rr.ambiguous[kv] {
			continue
		}
		if _, twice := rr.putOf[w]; twice {
			continue // a value put twice: the second is checked as a put no write made
		}
		rr.putOf[w] = put
		rr.landed = append(rr.landed, landing{put, w})
	}
	return rr
}

// checkFencing is P4's judgement of the leaders' writes against the store's
// own record. Every register put must land, by revision, inside the reign
// of the term its writer wrote under. A write reported failed must not be
// in the record. An acknowledged write must be in a record that holds every
// change. A write's term must be one its writer won.
func checkFencing(c *CheckResult, h *history, rec *record, rr *registerRecord) {
	flagged := map[int64]bool{} // puts already shown as anomalies, by revision
	wonBy := map[keyID]string{}
	for _, w := range campaignsWon(h) {
		id := keyID{w.token.Key, w.token.Seq}
		if _, ok := wonBy[id]; !ok {
			wonBy[id] = w.process()
		}
	}
	putCount := map[keyValue]int{}
	for _, put := range rr.puts {
		c.Counts[CountStorePutsChecked]++
		kv := keyValue{put.Key, put.Value}
		putCount[kv]++
		w := rr.writeOf[kv]
		switch {
		case w == nil:
			c.failAs(blameStore, fmt.Sprintf("register %s holds %q at revision %d, which no write produced", put.Key, put.Value, put.Revision), put)
			flagged[put.Revision] = true
			continue
		case rr.ambiguous[kv]:
			c.Counts[CountPutsUnattributed]++
			continue
		case putCount[kv] > 1:
			c.failAs(blameStore, fmt.Sprintf("register %s took %q twice (again at revision %d), which one write produced", put.Key, put.Value, put.Revision), w.invoke, w.done, put)
			flagged[put.Revision] = true
			continue
		}
		if w.done.Type == histories.Fail {
			c.failAs(blameFailedWrite, fmt.Sprintf("a failed write took effect: %s's write of %q was reported failed (%s), but the store's record holds it at revision %d",
				w.process(), w.invoke.Value, w.done.Error, put.Revision), w.invoke, w.done, put)
			flagged[put.Revision] = true
			continue
		}
		tok := writeTerm(w)
		if tok == nil {
			c.Counts[CountPutsWithoutTerm]++
			continue
		}
		if reason, events := outsideReign(rec, w, *tok, put); reason != "" {
			c.failAs(blameStaleWrite, reason, events...)
			flagged[put.Revision] = true
			continue
		}
		if owner, ok := wonBy[keyID{tok.Key, tok.Seq}]; ok && owner != campaignerOf(w.process()) {
			c.failAs(blameStaleWrite, fmt.Sprintf("%s wrote %q under term %s, which %s won, not it", w.process(), w.invoke.Value, tok, owner), w.invoke, w.done, put)
			flagged[put.Revision] = true
			continue
		} else if !ok && !mayHaveWon(h, rec, w, *tok) {
			why := "which no campaign of its own returned"
			if first, inRecord := rec.keys[keyID{tok.Key, tok.Seq}]; inRecord && mayHaveWon(h, nil, w, *tok) {
				why = fmt.Sprintf("whose key the store's record shows %q created, not it (a campaign of unknown outcome makes only its own key a term)", first.Value)
			}
			c.failAs(blameStaleWrite, fmt.Sprintf("%s wrote %q under term %s, %s", w.process(), w.invoke.Value, tok, why), w.invoke, w.done, put)
			flagged[put.Revision] = true
			continue
		}
		c.Counts[CountPutsInTheirReign]++
	}
	checkTermOrder(c, rec, rr, flagged)
	checkLostWrites(c, h, rec, rr)
}

// outsideReign says why put, made by w under term tok, did not land in
// tok's reign in the record ("" if it did, or the record cannot say).
func outsideReign(rec *record, w *op, tok histories.Token, put histories.Event) (string, []histories.Event) {
	id := keyID{tok.Key, tok.Seq}
	i, led := rec.reignOf[id]
	if !led {
		if rec.electionEvents == 0 || rec.inGap(id) {
			return "", nil
		}
		first, existed := rec.keys[id]
		if existed && first.Revision > put.Revision {
			return fmt.Sprintf("write before its term existed: %s wrote %q under term %s, landing at revision %d, before the term's key was created at revision %d",
				w.process(), w.invoke.Value, tok, put.Revision, first.Revision), []histories.Event{w.invoke, w.done, put, first}
		}
		if existed {
			if del, gone := rec.deleted[id]; gone && del.Revision < put.Revision {
				return fmt.Sprintf("stale-leader write: %s wrote %q under term %s, which never led, landing at revision %d after its key was deleted at revision %d",
					w.process(), w.invoke.Value, tok, put.Revision, del.Revision), []histories.Event{first, del, w.invoke, w.done, put}
			}
			return fmt.Sprintf("write by a non-leader: %s wrote %q under term %s, landing at revision %d while its key waited behind another leader (it never led)",
				w.process(), w.invoke.Value, tok, put.Revision), []histories.Event{first, w.invoke, w.done, put}
		}
		if !rec.complete {
			return "", nil
		}
		return fmt.Sprintf("write under a phantom term: %s wrote %q under term %s, whose key the store's record never held (landing at revision %d)",
			w.process(), w.invoke.Value, tok, put.Revision), []histories.Event{w.invoke, w.done, put}
	}
	r := rec.reigns[i]
	if put.Revision < r.start.Revision {
		return fmt.Sprintf("write before its term led: %s wrote %q under term %s, landing at revision %d, before the term began to lead at revision %d",
			w.process(), w.invoke.Value, tok, put.Revision, r.start.Revision), []histories.Event{w.invoke, w.done, put, r.start}
	}
	if !r.ended || put.Revision < r.end.Revision {
		return "", nil
	}
	next := ""
	if i+1 < len(rec.reigns) {
		n := rec.reigns[i+1]
		next = fmt.Sprintf("; %s (term %s@%d) led from revision %d", rec.keys[n.id].Value, n.id.key, n.id.createRev, n.start.Revision)
	}
	return fmt.Sprintf("stale-leader write: %s wrote %q under term %s, landing at revision %d after the term's reign ended at revision %d%s",
		w.process(), w.invoke.Value, tok, put.Revision, r.end.Revision, next), []histories.Event{r.end, w.invoke, w.done, put}
}

// campaignerOf names the campaigner behind a process: "c1" for its
// election loop "c1", its act loop "c1:a" and its reader "c1:r".
func campaignerOf(process string) string {
	if i := strings.IndexByte(process, ':'); i > 0 {
		return process[:i]
	}
	return process
}

// mayHaveWon: w's process had a campaign of unknown outcome before w,
// so term tok, which no campaign returned to it, may still be its own.
// Such a campaign can only have made its own key a term: where the
// record (rec, if not nil) holds tok's key, the key must carry that
// campaign's value and have been received after it began.
func mayHaveWon(h *history, rec *record, w *op, tok histories.Token) bool {
	for _, o := range h.ops[histories.FCampaign] {
		if o.process() != campaignerOf(w.process()) || o.done.Type != histories.Info || o.invoke.Time >= w.done.Time {
			continue
		}
		if rec == nil {
			return true
		}
		first, inRecord := rec.keys[keyID{tok.Key, tok.Seq}]
		if !inRecord || first.Value == o.invoke.Value && first.Time >= o.invoke.Time {
			return true
		}
	}
	return false
}

// checkTermOrder finds stale-leader writes the reigns cannot show (a
// record with gaps): in the store's order, a write of a term after a
// write of a later term. Without a record, ok writes in real time.
func checkTermOrder(c *CheckResult, rec *record, rr *registerRecord, flagged map[int64]bool) {
	if !rec.present {
		return
	}
	var latest *landing
	for i := range rr.landed {
		l := &rr.landed[i]
		tok := writeTerm(l.write)
		if tok == nil || l.write.done.Type == histories.Fail {
			continue
		}
		if latest != nil && tok.Seq < writeTerm(latest.write).Seq {
			if !flagged[l.put.Revision] {
				lt := writeTerm(latest.write)
				c.failAs(blameStaleWrite, fmt.Sprintf("stale-leader write: %s wrote %q with term %s, accepted at revision %d after %s's write of later term %s at revision %d",
					l.write.process(), l.write.invoke.Value, tok, l.put.Revision, latest.write.process(), lt, latest.put.Revision),
					latest.write.invoke, latest.write.done, latest.put, l.write.invoke, l.write.done, l.put)
			}
			continue
		}
		latest = l
	}
}

// checkTermOrderInRealTime is the check without a record: ok writes of
// a term after an ok write of a later term had completed.
func checkTermOrderInRealTime(c *CheckResult, h *history) {
	var done []*op
	for _, o := range h.ops[histories.FWrite] {
		if o.done.Type == histories.OK && writeTerm(o) != nil {
			done = append(done, o)
		}
	}
	c.Counts[CountWritesOrderedInRealTime] = int64(len(done))
	byDone := append([]*op(nil), done...)
	sort.Slice(byDone, func(i, j int) bool { return byDone[i].done.Time < byDone[j].done.Time })
	var best *op
	next := 0
	for _, w := range done {
		for next < len(byDone) && byDone[next].done.Time < w.invoke.Time {
			if best == nil || writeTerm(byDone[next]).Seq > writeTerm(best).Seq {
				best = byDone[next]
			}
			next++
		}
		if best != nil && writeTerm(w).Seq < writeTerm(best).Seq {
			c.failAs(blameStaleWrite, fmt.Sprintf("stale-leader write: %s wrote %q with term %s after %s's write of later term %s had completed",
				w.process(), w.invoke.Value, writeTerm(w), best.process(), writeTerm(best)), best.invoke, best.done, w.invoke, w.done)
		}
	}
}

// checkLostWrites: in a complete record of every change, every
// acknowledged write is there.
func checkLostWrites(c *CheckResult, h *history, rec *record, rr *registerRecord) {
	if !rec.complete || !rec.everyChange {
		return
	}
	for _, w := range h.ops[histories.FWrite] {
		if w.done.Type != histories.OK || w.done.Time > rec.horizon {
			continue
		}
		kv := keyValue{w.invoke.Key, w.invoke.Value}
		if rr.ambiguous[kv] {
			continue
		}
		if _, ok := rr.putOf[w]; !ok {
			c.failAs(blameStore, fmt.Sprintf("lost write: %s's write of %q to %s was acknowledged at %.3fs, but the store's complete record never held it",
				w.process(), w.invoke.Value, w.invoke.Key, float64(w.done.Time)/1e9), w.invoke, w.done)
		}
	}
}
