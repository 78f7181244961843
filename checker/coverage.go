package checker

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/election-harness/harness/histories"
)

// Coverage is what a run exercised: a green verdict is only worth the
// situations it was reached in. A reviewer reads here that the run hit
// what an unsafe recipe breaks in: the election leader stopped for
// longer than its term lasted, leaders changing while faults were on.
type Coverage struct {
	// FaultsStarted counts faults by "kind:rule" (or kind alone).
	FaultsStarted map[string]int64 `json:"faults_started"`
	Faults        int64            `json:"faults"`
	// LeaderStopsPastTerm counts stops (pause, freeze, kill) of the
	// campaigner leading in the store's record during which its term
	// ended: it woke, if at all, to a term that was over.
	LeaderStopsPastTerm int64 `json:"leader_stops_past_term"`
	// LeaderChangesUnderFault counts reigns that began while a fault
	// was in effect.
	LeaderChangesUnderFault int64 `json:"leader_changes_under_fault"`
	// TermsHeldUntilLost counts the beliefs in a term that no resign
	// ended, because the leader held until it lost the term or the run
	// ended. HeldTermsOutlivedStop counts those of them whose holder a
	// fault stopped or cut off and that went on after it.
	TermsHeldUntilLost    int64 `json:"terms_held_until_lost"`
	HeldTermsOutlivedStop int64 `json:"held_terms_outlived_stop"`
	// StoppedPastLeaseThenAsked counts leaders stopped or cut off for
	// longer than the TTL and then asked to act before any resign.
	// Killed leaders do not count, since a killed one restarts without
	// its term. It says how often what a campaigner believes after
	// losing its session was tested at all.
	StoppedPastLeaseThenAsked int64 `json:"stopped_past_lease_then_asked_to_act"`
	// NotChecked names the properties left unjudged because the
	// campaigners declined an optional command ("P5: ... do not observe").
	NotChecked []string `json:"not_checked,omitempty"`
	// Failovers are the gaps between one believed leader and the next.
	Failovers int64 `json:"failovers"`
	Terms     int64 `json:"terms"`
	// WorkloadStart is when the workload began (the start phase), in
	// the history's time: how long the cluster took to come up, which
	// depends on the machine, not on what the run found.
	WorkloadStart int64 `json:"workload_start_ns,omitempty"`
}

// String is the coverage in one line, for the console and reports.
func (c Coverage) String() string {
	notChecked := ""
	if len(c.NotChecked) > 0 {
		notChecked = "; not checked: " + strings.Join(c.NotChecked, "; ")
	}
	if c.Faults == 0 {
		return fmt.Sprintf("no faults; %d terms, %d failovers%s", c.Terms, c.Failovers, notChecked)
	}
	kinds := make([]string, 0, len(c.FaultsStarted))
	for k := range c.FaultsStarted {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for i, k := range kinds {
		kinds[i] = fmt.Sprintf("%s %d", k, c.FaultsStarted[k])
	}
	return fmt.Sprintf("%d faults (%s); %d stops of the election leader outlived its term; %d leader changes under a fault; %d terms, %d failovers; %d terms held until lost (%d outlived a stop); %d leaders stopped past their lease then asked to act before a resign",
		c.Faults, strings.Join(kinds, ", "), c.LeaderStopsPastTerm, c.LeaderChangesUnderFault, c.Terms, c.Failovers,
		c.TermsHeldUntilLost, c.HeldTermsOutlivedStop, c.StoppedPastLeaseThenAsked) + notChecked
}

// faultSpan is one fault from its start to its stop (or the history's
// end).
type faultSpan struct {
	kind, rule string
	targets    []string
	start, end int64
}

func faultSpans(h *history) []faultSpan {
	open := map[int64]int{}
	var spans []faultSpan
	for _, e := range h.events {
		if e.Fault == nil {
			continue
		}
		switch e.F {
		case histories.FFaultStart:
			open[e.Fault.ID] = len(spans)
			spans = append(spans, faultSpan{kind: e.Fault.Kind, rule: e.Fault.Params["rule"], targets: e.Fault.Targets, start: e.Time, end: h.end})
		case histories.FFaultStop:
			if i, ok := open[e.Fault.ID]; ok {
				spans[i].end = e.Time
				delete(open, e.Fault.ID)
			}
		}
	}
	return spans
}

// coverage measures what the run exercised; ttl is the sessions' TTL.
func coverage(h *history, rec *record, ttl time.Duration) Coverage {
	cov := Coverage{FaultsStarted: map[string]int64{}}
	if p, ok := h.phases[histories.PhaseStart]; ok {
		cov.WorkloadStart = p.Time
	}
	spans := faultSpans(h)
	for _, s := range spans {
		name := s.kind
		if s.rule != "" {
			name += ":" + s.rule
		}
		cov.FaultsStarted[name]++
		cov.Faults++
	}
	bs := beliefs(h)
	cov.Terms = int64(len(bs))
	cov.Failovers = int64(leaderlessStats(h, bs)["failovers"])

	// Who held each reign: the campaign that won it, else the value its
	// key proclaims.
	holder := map[keyID]string{}
	for _, w := range campaignsWon(h) {
		holder[keyID{w.token.Key, w.token.Seq}] = w.process()
	}
	holderOf := func(r reign) string {
		if p, ok := holder[r.id]; ok {
			return p
		}
		return rec.keys[r.id].Value
	}
	for _, r := range rec.reigns {
		for _, s := range spans {
			if s.start <= r.start.Time && r.start.Time <= s.end {
				cov.LeaderChangesUnderFault++
				break
			}
		}
	}
	for _, s := range spans {
		if s.kind != "pause" && s.kind != "freeze" && s.kind != "kill" {
			continue
		}
		for _, r := range rec.reigns {
			// The reign in force when the stop began (received by then),
			// ended (received) before the stop did.
			if r.start.Time > s.start || !r.ended || r.end.Time < s.start || r.end.Time > s.end {
				continue
			}
			if targets(s, holderOf(r)) {
				cov.LeaderStopsPastTerm++
				break
			}
		}
	}
	heldAndAsked(h, bs, spans, ttl, &cov)
	if why, declined := observeDeclined(h); declined {
		cov.NotChecked = append(cov.NotChecked, "P5, "+why)
	}
	return cov
}

// stopKinds are the faults that stop a node or cut it off.
var stopKinds = []string{histories.FaultPause, histories.FaultFreeze, histories.FaultKill, histories.FaultPartition, histories.FaultLoss}

// heldAndAsked counts the terms no resign ended, those of them that
// outlived a stop of their holder, and the holders stopped past the TTL
// then asked to act before any resign.
func heldAndAsked(h *history, bs []belief, spans []faultSpan, ttl time.Duration, cov *Coverage) {
	resigns := map[string][]int64{} // process -> resign invokes
	for _, o := range h.ops[histories.FResign] {
		resigns[o.process()] = append(resigns[o.process()], o.invoke.Time)
	}
	acts := map[string][]int64{} // campaigner -> act invokes
	for _, o := range h.ops[histories.FWrite] {
		if o.invoke.Token == nil && strings.HasSuffix(o.process(), ":a") {
			acts[campaignerOf(o.process())] = append(acts[campaignerOf(o.process())], o.invoke.Time)
		}
	}
	firstIn := func(ts []int64, from, to int64) (int64, bool) {
		for _, t := range ts {
			if t >= from && t <= to {
				return t, true
			}
		}
		return 0, false
	}
	for _, b := range bs {
		_, resigned := firstIn(resigns[b.process], b.start, b.end)
		if b.open {
			resigned = false
		}
		outlived, asked := false, false
		for _, s := range spans {
			// A killed campaigner restarts without its term: what it
			// believes after a loss is not tested by a kill.
			if !slices.Contains(stopKinds, s.kind) || s.kind == histories.FaultKill || !targets(s, b.process) || s.start < b.start || s.start >= b.end {
				continue
			}
			if s.end < b.end || b.open {
				outlived = true
			}
			if time.Duration(s.end-s.start) <= ttl {
				continue
			}
			// Asked to act after the stop, before the next resign.
			until := h.end
			if r, ok := firstIn(resigns[b.process], s.end, h.end); ok {
				until = r
			}
			if _, ok := firstIn(acts[b.process], s.end, until); ok {
				asked = true
			}
		}
		if !resigned {
			cov.TermsHeldUntilLost++
			if outlived {
				cov.HeldTermsOutlivedStop++
			}
		}
		if asked {
			cov.StoppedPastLeaseThenAsked++
		}
	}
}

func targets(s faultSpan, node string) bool {
	for _, t := range s.targets {
		if t == node {
			return true
		}
	}
	return false
}
