package reports

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
)

// The timeline is drawn in the browser from this data, so that zooming
// redraws it with readable labels. Everything is pre-aggregated here
// (spans, not events), which keeps a report of a long run small.

// maxLatencyPoints bounds the latency plot; beyond it ok operations are
// sampled evenly, and every fail and info operation is kept.
const maxLatencyPoints = 20000

type timeline struct {
	End         float64   `json:"end"` // seconds
	Rows        []row     `json:"rows"`
	Faults      []window  `json:"faults"`
	Marks       []mark    `json:"marks"`
	Latency     []point   `json:"latency"`
	LatencyNote string    `json:"latencyNote,omitempty"`
	Throughput  []float64 `json:"throughput"` // completed ok ops per second
}

// row is one line of the timeline: a member, the store's record, or a
// campaigner.
type row struct {
	Label string `json:"label"`
	Group string `json:"group"` // "member", "store", "campaigner"
	Bars  []bar  `json:"bars"`
}

type bar struct {
	Start float64 `json:"s"`
	End   float64 `json:"e"`
	// Class styles the bar: leader, follower, candidate, down; reign;
	// belief, unbacked (believed while the store's record disagrees).
	Class string `json:"c"`
	Label string `json:"l,omitempty"`
	Title string `json:"t,omitempty"`
}

type window struct {
	Start float64 `json:"s"`
	End   float64 `json:"e"`
	Label string  `json:"l"`
}

type mark struct {
	At    float64 `json:"t"`
	Label string  `json:"l"`
	Class string  `json:"c"` // "phase" or "anomaly"
	Href  string  `json:"h,omitempty"`
}

type point struct {
	At      float64 `json:"t"`
	Latency float64 `json:"ms"`
	Class   string  `json:"c"` // f-type, e.g. "write-ok"
}

func seconds(ns int64) float64 { return float64(ns) / 1e9 }

// buildTimeline derives the timeline from a history and its results.
func buildTimeline(events []histories.Event, res checker.Results, opts checker.Options) timeline {
	var tl timeline
	if len(events) > 0 {
		tl.End = seconds(events[len(events)-1].Time)
	}
	tl.Rows = append(tl.Rows, memberRows(events, tl.End)...)
	believed, recorded := checker.Leadership(events, opts)
	tl.Rows = append(tl.Rows, storeRow(recorded))
	tl.Rows = append(tl.Rows, campaignerRows(events, believed, recorded)...)
	tl.Faults = faultWindows(events, tl.End)
	tl.Marks = marks(events, res)
	tl.Latency, tl.LatencyNote = latencies(events)
	tl.Throughput = throughput(events, tl.End)
	return tl
}

// memberRows turn each member's probes into spans of one raft state.
func memberRows(events []histories.Event, end float64) []row {
	byMember := map[string]*row{}
	var names []string
	last := map[string]*bar{}
	for _, e := range events {
		if e.F != histories.FStatus {
			continue
		}
		name := strings.TrimPrefix(e.Process, "probe:")
		r, ok := byMember[name]
		if !ok {
			r = &row{Label: name, Group: "member"}
			byMember[name] = r
			names = append(names, name)
		}
		class, label, title := "down", "", "no answer: "+e.Error
		if e.Type == histories.OK && e.Member != nil {
			switch {
			case e.Member.IsLeader:
				class, label = "leader", fmt.Sprintf("term %d", e.Member.Term)
			case e.Member.Leader == "":
				class = "candidate"
			default:
				class = "follower"
			}
			title = fmt.Sprintf("%s term %d leader %s", class, e.Member.Term, e.Member.Leader)
		}
		t := seconds(e.Time)
		if b := last[name]; b != nil {
			if b.Class == class && b.Title == title {
				b.End = t
				continue
			}
			b.End = t
		}
		r.Bars = append(r.Bars, bar{Start: t, End: t, Class: class, Label: label, Title: title})
		last[name] = &r.Bars[len(r.Bars)-1]
	}
	sort.Strings(names)
	out := make([]row, 0, len(names))
	for _, n := range names {
		out = append(out, *byMember[n])
	}
	return out
}

func storeRow(recorded []checker.Span) row {
	r := row{Label: "store leader", Group: "store"}
	for _, s := range recorded {
		r.Bars = append(r.Bars, bar{Start: seconds(s.Start), End: seconds(s.End), Class: "reign",
			Label: fmt.Sprintf("%s @%d", s.Process, s.Token.Seq), Title: fmt.Sprintf("store: %s leads with %s", s.Process, s.Token)})
	}
	return r
}

// campaignerRows draw each campaigner's belief, and in red the parts of
// it the store's record does not back: believing in a term whose key
// was not (or no longer) the leader.
func campaignerRows(events []histories.Event, believed, recorded []checker.Span) []row {
	reign := map[histories.Token]checker.Span{}
	for _, s := range recorded {
		reign[histories.Token{Key: s.Token.Key, Seq: s.Token.Seq}] = s
	}
	byName := map[string]*row{}
	var names []string
	for _, e := range events {
		if e.F == histories.FCampaign && e.Type == histories.Invoke && byName[e.Process] == nil {
			byName[e.Process] = &row{Label: e.Process, Group: "campaigner"}
			names = append(names, e.Process)
		}
	}
	for _, b := range believed {
		r := byName[b.Process]
		if r == nil {
			continue
		}
		start, end := seconds(b.Start), seconds(b.End)
		r.Bars = append(r.Bars, bar{Start: start, End: end, Class: "belief", Label: fmt.Sprintf("@%d", b.Token.Seq),
			Title: fmt.Sprintf("%s believes it leads term %s", b.Process, b.Token)})
		s, ok := reign[histories.Token{Key: b.Token.Key, Seq: b.Token.Seq}]
		if !ok {
			if len(recorded) > 0 {
				r.Bars = append(r.Bars, bar{Start: start, End: end, Class: "unbacked", Title: "the store's record never shows this term leading"})
			}
			continue
		}
		if rs := seconds(s.Start); rs > start {
			r.Bars = append(r.Bars, bar{Start: start, End: min(rs, end), Class: "unbacked", Title: "believed before the store's record shows it leading"})
		}
		if re := seconds(s.End); re < end {
			r.Bars = append(r.Bars, bar{Start: max(re, start), End: end, Class: "unbacked", Title: "believed after the store's record ended the term"})
		}
	}
	sort.Strings(names)
	out := make([]row, 0, len(names))
	for _, n := range names {
		out = append(out, *byName[n])
	}
	return out
}

func faultWindows(events []histories.Event, end float64) []window {
	open := map[int64]*window{}
	var out []*window
	for _, e := range events {
		if e.Fault == nil {
			continue
		}
		switch e.F {
		case histories.FFaultStart:
			if open[e.Fault.ID] != nil {
				continue // a second start records an apply error
			}
			w := &window{Start: seconds(e.Time), End: end, Label: faultLabel(*e.Fault)}
			open[e.Fault.ID] = w
			out = append(out, w)
		case histories.FFaultStop:
			if w := open[e.Fault.ID]; w != nil {
				w.End = seconds(e.Time)
				delete(open, e.Fault.ID)
			}
		}
	}
	res := make([]window, len(out))
	for i, w := range out {
		res[i] = *w
	}
	return res
}

func faultLabel(f histories.Fault) string {
	s := f.Kind + " " + strings.Join(f.Targets, ",")
	if from := f.Params["cut-from"]; from != "" {
		s += " | " + from
	}
	for _, k := range []string{"direction", "bridge", "percent", "delay", "rate", "offset", "strobe"} {
		if v := f.Params[k]; v != "" && !(k == "rate" && v == "1") {
			s += " " + k + " " + v
		}
	}
	return s
}

// marks are the run's phases and every event an anomaly cites.
func marks(events []histories.Event, res checker.Results) []mark {
	var out []mark
	for _, e := range events {
		if e.F == histories.FPhase {
			out = append(out, mark{At: seconds(e.Time), Label: e.Value, Class: "phase"})
		}
	}
	for _, c := range res.Checks {
		if c.Verdict != checker.Invalid || c.Informational {
			continue
		}
		for i, ev := range c.Evidence {
			for _, e := range ev.Events {
				if e.Time < 0 || e.Time == math.MaxInt64 {
					continue
				}
				out = append(out, mark{At: seconds(e.Time), Label: c.Property + ": " + ev.Message, Class: "anomaly", Href: evidenceID(c, i)})
			}
		}
	}
	return out
}

// evidenceID is the anchor of a check's i-th piece of evidence.
func evidenceID(c checker.CheckResult, i int) string {
	return fmt.Sprintf("%s-evidence-%d", c.Property, i)
}

// latencies of every completed register and election operation, as
// points at their invocation time.
func latencies(events []histories.Event) ([]point, string) {
	inv := map[int64]histories.Event{}
	var all []point
	for _, e := range events {
		switch {
		case e.Type == histories.Invoke:
			inv[e.Op] = e
		case e.IsCompletion():
			i, ok := inv[e.Op]
			if !ok {
				continue
			}
			delete(inv, e.Op)
			all = append(all, point{At: seconds(i.Time), Latency: float64(e.Time-i.Time) / 1e6, Class: e.F + "-" + string(e.Type)})
		}
	}
	if len(all) <= maxLatencyPoints {
		return all, ""
	}
	var ok int
	for _, p := range all {
		if strings.HasSuffix(p.Class, "-ok") {
			ok++
		}
	}
	keep := maxLatencyPoints - (len(all) - ok)
	if keep < 1 {
		keep = 1
	}
	step := float64(ok) / float64(keep)
	var out []point
	next, n := 0.0, 0
	for _, p := range all {
		if !strings.HasSuffix(p.Class, "-ok") {
			out = append(out, p)
			continue
		}
		if float64(n) >= next {
			out = append(out, p)
			next += step
		}
		n++
	}
	return out, fmt.Sprintf("%d of %d operations shown: ok operations sampled evenly, every fail and info kept", len(out), len(all))
}

// throughput counts ok completions per second of the run.
func throughput(events []histories.Event, end float64) []float64 {
	buckets := make([]float64, int(end)+1)
	for _, e := range events {
		if e.IsCompletion() && e.Type == histories.OK {
			if i := int(seconds(e.Time)); i < len(buckets) {
				buckets[i]++
			}
		}
	}
	return buckets
}
