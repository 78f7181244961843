package checker

import (
	"fmt"
	"sort"
	"time"

	"github.com/election-harness/harness/histories"
)

// belief is a span during which one campaigner believed it led.
type belief struct {
	process    string
	token      histories.Token
	start, end int64
	open       bool // not ended when the history ended
	won        *op  // the campaign that began it
}

// beliefs derives every campaigner's belief spans: from a campaign's ok
// to the first of its resign, its next campaign, a fence rejecting its
// write, its lost event, or the end of the history.
func beliefs(h *history) []belief {
	type mark struct {
		t     int64
		start *op
	}
	marks := map[string][]mark{}
	for _, o := range h.ops[histories.FCampaign] {
		p := o.process()
		marks[p] = append(marks[p], mark{t: o.invoke.Time})
		if o.done.Type == histories.OK && o.done.Token != nil {
			marks[p] = append(marks[p], mark{t: o.done.Time, start: o})
		}
	}
	for _, o := range h.ops[histories.FResign] {
		marks[o.process()] = append(marks[o.process()], mark{t: o.invoke.Time})
	}
	for _, o := range h.ops[histories.FWrite] {
		if o.done.Type == histories.Fail {
			marks[o.process()] = append(marks[o.process()], mark{t: o.done.Time})
		}
	}
	for _, e := range h.lost {
		marks[e.Process] = append(marks[e.Process], mark{t: e.Time})
	}
	var out []belief
	for p, ms := range marks {
		sort.SliceStable(ms, func(i, j int) bool { return ms[i].t < ms[j].t })
		var cur *belief
		for _, m := range ms {
			if cur != nil && m.start == nil {
				cur.end = m.t
				out = append(out, *cur)
				cur = nil
			}
			if m.start != nil {
				cur = &belief{process: p, token: *m.start.done.Token, start: m.t, won: m.start}
			}
		}
		if cur != nil {
			cur.end, cur.open = h.end, true
			out = append(out, *cur)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out
}

// checkLiveness is P6: after the faults heal, a leader is elected (or a
// leader that survived writes) within the bound. Failover and leaderless
// times are reported.
func checkLiveness(h *history, opts Options) CheckResult {
	c := newCheck("P6", "P6 liveness")
	bs := beliefs(h)
	c.Counts[CountTerms] = int64(len(bs))
	c.Stats = leaderlessStats(h, bs)
	heal, ok := h.phases[histories.PhaseHeal]
	if !ok {
		c.unknown("the history has no heal phase (the run did not finish)")
		return c
	}
	first := int64(-1)
	var proof []histories.Event
	for _, o := range h.ops[histories.FCampaign] {
		if o.done.Type == histories.OK && o.done.Time > heal.Time && (first < 0 || o.done.Time < first) {
			first, proof = o.done.Time, []histories.Event{o.invoke, o.done}
		}
	}
	for _, o := range h.ops[histories.FWrite] {
		if o.done.Type == histories.OK && o.done.Time > heal.Time && (first < 0 || o.done.Time < first) {
			first, proof = o.done.Time, []histories.Event{o.invoke, o.done}
		}
	}
	bound := opts.LivenessBound.Nanoseconds()
	switch {
	case first >= 0 && first-heal.Time <= bound:
		c.Counts[CountRecovered] = 1
		c.Stats["recovery-seconds"] = time.Duration(first - heal.Time).Seconds()
	case h.end-heal.Time > bound:
		why := "no leader at all"
		if first >= 0 {
			why = fmt.Sprintf("the first leader only after %.1fs", time.Duration(first-heal.Time).Seconds())
		}
		c.failAs(blameLiveness, fmt.Sprintf("no leader within %v of the heal: %s", opts.LivenessBound, why), append([]histories.Event{heal}, proof...)...)
	default:
		c.unknown(fmt.Sprintf("the history ends %.1fs after the heal, before the %v bound, with no leader yet", time.Duration(h.end-heal.Time).Seconds(), opts.LivenessBound))
	}
	return c
}

// leaderlessStats measures failovers: every gap in the union of belief
// spans after the first leader, between the workload's start and end.
func leaderlessStats(h *history, bs []belief) map[string]float64 {
	stats := map[string]float64{}
	start, end := int64(0), h.end
	if p, ok := h.phases[histories.PhaseStart]; ok {
		start = p.Time
	}
	if p, ok := h.phases[histories.PhaseEnd]; ok {
		end = p.Time
	}
	var gaps []float64
	var leaderless float64
	covered := start
	seenLeader := false
	for _, b := range bs {
		if b.start > covered {
			gap := time.Duration(min(b.start, end) - covered).Seconds()
			if gap > 0 {
				leaderless += gap
				if seenLeader {
					gaps = append(gaps, gap)
				}
			}
		}
		seenLeader = true
		covered = max(covered, b.end)
	}
	if covered < end {
		leaderless += time.Duration(end - covered).Seconds()
	}
	stats["leaderless-seconds"] = leaderless
	stats["failovers"] = float64(len(gaps))
	if len(gaps) > 0 {
		sort.Float64s(gaps)
		stats["failover-min-seconds"] = gaps[0]
		stats["failover-median-seconds"] = gaps[len(gaps)/2]
		stats["failover-max-seconds"] = gaps[len(gaps)-1]
	}
	return stats
}

// checkSplitBrain measures exposure: spans where two campaigners both
// believed they led. With fencing this is harmless, so it never decides
// the verdict.
func checkSplitBrain(h *history) CheckResult {
	c := newCheck("split-brain", "split-brain exposure")
	c.Informational = true
	c.Stats = map[string]float64{"total-seconds": 0, "max-seconds": 0}
	bs := beliefs(h)
	c.Counts[CountBeliefs] = int64(len(bs))
	for i := range bs {
		for j := i + 1; j < len(bs) && bs[j].start < bs[i].end; j++ {
			a, b := bs[i], bs[j]
			if a.process == b.process {
				continue
			}
			overlap := time.Duration(min(a.end, b.end) - b.start).Seconds()
			c.Counts[CountWindows]++
			c.Stats["total-seconds"] += overlap
			c.Stats["max-seconds"] = max(c.Stats["max-seconds"], overlap)
			if len(c.Evidence) < maxEvidence {
				c.Evidence = append(c.Evidence, Evidence{
					Message: fmt.Sprintf("%s (term %d) and %s (term %d) both believed they led for %.3fs", a.process, a.token.Seq, b.process, b.token.Seq, overlap),
					Events:  []histories.Event{a.won.done, b.won.done},
				})
			}
		}
	}
	actedAfterSuperseded(h, &c)
	return c
}

// actedAfterSuperseded measures how long a campaigner went on acting under
// a term after another campaigner was granted a later one. A write or act
// that was not refused (ok or info) names the term that the recipe's own
// check (Leading) said it led, after its invocation. The grant's time is
// when the harness heard of it, so each span is a lower bound. This is the
// exposure of a client that learns of its loss late (Consul #18271). The
// belief spans above end at a resign or a lost event, so they do not see
// it.
func actedAfterSuperseded(h *history, c *CheckResult) {
	var grants []*op
	for _, o := range h.ops[histories.FCampaign] {
		if o.done.Type == histories.OK && o.done.Token != nil {
			grants = append(grants, o)
		}
	}
	sort.SliceStable(grants, func(i, j int) bool { return grants[i].done.Time < grants[j].done.Time })
	type key struct {
		process string
		tok     histories.Token
	}
	type span struct {
		last, by *op
	}
	spans := map[key]span{}
	var order []key
	for _, w := range h.ops[histories.FWrite] {
		if w.done.Type != histories.OK && w.done.Type != histories.Info {
			continue
		}
		tok := w.done.Token
		if tok == nil {
			tok = w.invoke.Token
		}
		if tok == nil {
			continue
		}
		p := campaignerOf(w.process())
		// The first grant of a later term to another campaigner.
		var by *op
		for _, g := range grants {
			if g.done.Token.Seq > tok.Seq && g.process() != p {
				by = g
				break
			}
		}
		if by == nil || w.invoke.Time <= by.done.Time {
			continue
		}
		k := key{p, *tok}
		sp, seen := spans[k]
		if !seen {
			order = append(order, k)
		}
		if !seen || w.invoke.Time > sp.last.invoke.Time {
			spans[k] = span{last: w, by: by}
		}
	}
	// Set only when there is a span, so that histories without one
	// report what they did before.
	for _, k := range order {
		sp := spans[k]
		lag := time.Duration(sp.last.invoke.Time - sp.by.done.Time).Seconds()
		c.Counts[CountTermsActedOnAfterSuperseded]++
		c.Stats["acted-after-superseded-max-seconds"] = max(c.Stats["acted-after-superseded-max-seconds"], lag)
		if len(c.Evidence) < maxEvidence {
			c.Evidence = append(c.Evidence, Evidence{
				Message: fmt.Sprintf("%s still acted under term %d %.3fs after %s was granted term %d", k.process, k.tok.Seq, lag, sp.by.process(), sp.by.done.Token.Seq),
				Events:  []histories.Event{sp.by.done, sp.last.invoke},
			})
		}
	}
}
