package checker

import (
	"fmt"
	"sort"

	"github.com/election-harness/harness/histories"
)

// won is a successful campaign.
type won struct {
	*op
	token histories.Token
}

// campaignsWon lists campaigns that returned ok with a token, in invoke
// order.
func campaignsWon(h *history) []won {
	var out []won
	for _, o := range h.ops[histories.FCampaign] {
		if o.done.Type == histories.OK && o.done.Token != nil {
			out = append(out, won{o, *o.done.Token})
		}
	}
	return out
}

// checkTerms is P2. No two campaigners hold the same term, and terms rise
// in real-time order. A campaign that completed before another was invoked
// holds a lower term. The exception is the same campaigner given the same
// term again (same key, sequence, session and lock index).
func checkTerms(h *history) CheckResult {
	c := newCheck("P2", "P2 one leader per election term")
	for _, o := range h.ops[histories.FCampaign] {
		c.Counts[CountCampaigns]++
		c.Counts[countCampaignsBy(o.done.Type)]++
	}
	wins := campaignsWon(h)
	holders := map[int64]won{}
	for _, w := range wins {
		if prev, ok := holders[w.token.Seq]; ok && prev.process() != w.process() {
			c.failAs(blameTerms, fmt.Sprintf("term %d granted to both %s and %s", w.token.Seq, prev.process(), w.process()),
				prev.invoke, prev.done, w.invoke, w.done)
			continue
		}
		holders[w.token.Seq] = w
	}
	c.Counts[CountTerms] = int64(len(holders))

	// Sweep invocations in time order, tracking the highest term among
	// campaigns already completed.
	byDone := append([]won(nil), wins...)
	sort.Slice(byDone, func(i, j int) bool { return byDone[i].done.Time < byDone[j].done.Time })
	var best *won
	next := 0
	for _, w := range wins {
		for next < len(byDone) && byDone[next].done.Time < w.invoke.Time {
			if best == nil || byDone[next].token.Seq > best.token.Seq {
				best = &byDone[next]
			}
			next++
		}
		// A campaign that hands its holder back the term it already
		// holds wins nothing new. That is an idempotent campaign
		// after a resign, or after a reply lost in a pause. No
		// later term came in between, or best would be that one.
		reconfirmed := best != nil && best.token == w.token && best.process() == w.process()
		if best != nil && best.token.Seq >= w.token.Seq && !reconfirmed {
			c.failAs(blameTerms, fmt.Sprintf("term went back: %s won term %d after %s had already won term %d", w.process(), w.token.Seq, best.process(), best.token.Seq),
				best.invoke, best.done, w.invoke, w.done)
		}
	}
	if len(wins) == 0 {
		c.unknown("no campaign succeeded")
	}
	return c
}
