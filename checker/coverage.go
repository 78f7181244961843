package checker

import (
	"fmt"
	"sort"
	"strings"

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
	if c.Faults == 0 {
		return fmt.Sprintf("no faults; %d terms, %d failovers", c.Terms, c.Failovers)
	}
	kinds := make([]string, 0, len(c.FaultsStarted))
	for k := range c.FaultsStarted {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for i, k := range kinds {
		kinds[i] = fmt.Sprintf("%s %d", k, c.FaultsStarted[k])
	}
	return fmt.Sprintf("%d faults (%s); %d stops of the election leader outlived its term; %d leader changes under a fault; %d terms, %d failovers",
		c.Faults, strings.Join(kinds, ", "), c.LeaderStopsPastTerm, c.LeaderChangesUnderFault, c.Terms, c.Failovers)
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

// coverage measures what the run exercised.
func coverage(h *history, rec *record) Coverage {
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
	return cov
}

func targets(s faultSpan, node string) bool {
	for _, t := range s.targets {
		if t == node {
			return true
		}
	}
	return false
}
