package reports

import (
	"fmt"
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
	// Start and End bound the history in seconds from the workload's
	// start (Start is negative: the cluster's setup).
	Start       float64   `json:"start"`
	End         float64   `json:"end"`
	Rows        []row     `json:"rows"`
	Faults      []window  `json:"faults"`
	Marks       []mark    `json:"marks"`
	Acts        []act     `json:"acts"`
	Latency     []point   `json:"latency"`
	LatencyNote string    `json:"latencyNote,omitempty"`
	Throughput  []float64 `json:"throughput"` // completed ok ops per second
}

// row is one line of the timeline: a member, the store's record, or a
// campaigner.
type row struct {
	Label string `json:"label"`
	Group string `json:"group"` // "member", "apiserver", "store", "campaigner"
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
	// Label is kind:rule and the targets, shown at the top; Title all
	// of it, on hover; Targets the rows it is drawn on.
	Label   string   `json:"l"`
	Title   string   `json:"t"`
	Targets []string `json:"r,omitempty"`
}

// act is an anomaly's bad act, drawn on its campaigner's row from its
// leadership check to its effect, numbered like its story.
type act struct {
	N     int     `json:"n"`
	Row   string  `json:"row"`
	Start float64 `json:"s"`
	At    float64 `json:"t"`
	Label string  `json:"l"`
	Href  string  `json:"h"`
}

type mark struct {
	At    float64 `json:"t"`
	Label string  `json:"l"`
	Class string  `json:"c"` // "phase"
}

type point struct {
	At      float64 `json:"t"`
	Latency float64 `json:"ms"`
	Class   string  `json:"c"` // f-type, e.g. "write-ok"
}

func seconds(ns int64) float64 { return float64(ns) / 1e9 }

// workloadStart is the time every time the report shows counts from:
// the workload's start (the history's first event without one).
func workloadStart(events []histories.Event) int64 {
	for _, e := range events {
		if e.F == histories.FPhase && e.Value == histories.PhaseStart {
			return e.Time
		}
	}
	if len(events) > 0 {
		return events[0].Time
	}
	return 0
}

// buildTimeline derives the timeline from a history and its results.
func buildTimeline(events []histories.Event, opts checker.Options, anomalies []anomaly) timeline {
	var tl timeline
	origin := workloadStart(events)
	if len(events) > 0 {
		tl.Start = seconds(events[0].Time - origin)
		tl.End = seconds(events[len(events)-1].Time - origin)
	}
	tl.Rows = append(tl.Rows, memberRows(events, origin)...)
	tl.Rows = append(tl.Rows, apiServerRows(events, origin)...)
	believed, recorded := checker.Leadership(events, opts)
	tl.Rows = append(tl.Rows, storeRow(recorded, origin))
	tl.Rows = append(tl.Rows, campaignerRows(events, believed, recorded, origin)...)
	tl.Faults = faultWindows(events, origin)
	tl.Marks = marks(events, origin)
	for _, a := range anomalies {
		if a.Story == nil {
			continue
		}
		tl.Acts = append(tl.Acts, act{N: a.N, Row: a.Story.Process, Start: seconds(a.Story.From - origin), At: seconds(a.Story.At - origin),
			Label: a.Story.Sentence, Href: a.Href})
	}

	tl.Latency, tl.LatencyNote = latencies(events, origin)
	tl.Throughput = throughput(events, origin, tl.End)
	return tl
}

// memberRows turn each member's probes into spans of one raft state.
func memberRows(events []histories.Event, origin int64) []row {
	rows := probedRows{group: "member"}
	last := map[string]*bar{}
	// versions are the server versions each member reported, in order:
	// the first bar on each says which (the row's label names the
	// member alone: fault targets find their rows by it).
	versions := map[string][]string{}
	for _, e := range events {
		if e.F != histories.FStatus {
			continue
		}
		name, r := rows.of(e)
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
			if v := e.Member.Version; v != "" {
				title += fmt.Sprintf(" version %s (cluster %s)", v, e.Member.ClusterVersion)
				if vs := versions[name]; len(vs) == 0 || vs[len(vs)-1] != v {
					versions[name] = append(vs, v)
					// The first bar on a new version says so.
					label = strings.TrimSpace("v" + v + " " + label)
				}
			}
		}
		t := seconds(e.Time - origin)
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
	return rows.sorted()
}

// probedRows are one row per probed node of a group, by name.
type probedRows struct {
	group  string
	byName map[string]*row
	names  []string
}

// of is the node a probe event is of, and its row.
func (p *probedRows) of(e histories.Event) (string, *row) {
	name := strings.TrimPrefix(e.Process, "probe:")
	if p.byName == nil {
		p.byName = map[string]*row{}
	}
	r, ok := p.byName[name]
	if !ok {
		r = &row{Label: name, Group: p.group}
		p.byName[name] = r
		p.names = append(p.names, name)
	}
	return name, r
}

// sorted are the rows in name order.
func (p *probedRows) sorted() []row {
	sort.Strings(p.names)
	out := make([]row, 0, len(p.names))
	for _, n := range p.names {
		out = append(out, *p.byName[n])
	}
	return out
}

// apiServerRows turn each kube-apiserver node's readiness probes into
// spans: ready (drawn as a member that follows) or not answering ready.
func apiServerRows(events []histories.Event, origin int64) []row {
	rows := probedRows{group: "apiserver"}
	for _, e := range events {
		if e.F != histories.FServing {
			continue
		}
		_, r := rows.of(e)
		class, title := "follower", "apiserver ready"
		if e.Type != histories.OK {
			class, title = "down", "apiserver not ready: "+e.Error
		}
		t := seconds(e.Time - origin)
		if n := len(r.Bars); n > 0 {
			b := &r.Bars[n-1]
			b.End = t
			if b.Class == class {
				continue
			}
		}
		r.Bars = append(r.Bars, bar{Start: t, End: t, Class: class, Title: title})
	}
	return rows.sorted()
}

func storeRow(recorded []checker.Span, origin int64) row {
	r := row{Label: "store leader", Group: "store"}
	for _, s := range recorded {
		r.Bars = append(r.Bars, bar{Start: seconds(s.Start - origin), End: seconds(s.End - origin), Class: "reign",
			Label: fmt.Sprintf("%s term %d", s.Process, s.Token.Seq), Title: fmt.Sprintf("store: %s leads term %d (%s)", s.Process, s.Token.Seq, s.Token)})
	}
	return r
}

// campaignerRows draw each campaigner's belief, and in their own colour
// the parts of it the store's record does not back: believing in a term
// whose key was not (or no longer) the leader. (Red is for anomalies.)
func campaignerRows(events []histories.Event, believed, recorded []checker.Span, origin int64) []row {
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
		start, end := seconds(b.Start-origin), seconds(b.End-origin)
		r.Bars = append(r.Bars, bar{Start: start, End: end, Class: "belief", Label: fmt.Sprintf("term %d", b.Token.Seq),
			Title: fmt.Sprintf("%s believes it leads term %d (%s)", b.Process, b.Token.Seq, b.Token)})
		s, ok := reign[histories.Token{Key: b.Token.Key, Seq: b.Token.Seq}]
		if !ok {
			if len(recorded) > 0 {
				r.Bars = append(r.Bars, bar{Start: start, End: end, Class: "unbacked", Title: "the store's record never shows this term leading"})
			}
			continue
		}
		if rs := seconds(s.Start - origin); rs > start {
			r.Bars = append(r.Bars, bar{Start: start, End: min(rs, end), Class: "unbacked", Title: "believed before the store's record shows it leading"})
		}
		if re := seconds(s.End - origin); re < end {
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

// faultWindows are the faults from start to stop (or the history's end),
// in seconds from origin.
func faultWindows(events []histories.Event, origin int64) []window {
	end := seconds(lastTime(events) - origin)
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
			w := &window{Start: seconds(e.Time - origin), End: end, Label: faultName(*e.Fault) + " " + strings.Join(e.Fault.Targets, ","),
				Title: faultLabel(*e.Fault), Targets: e.Fault.Targets}
			open[e.Fault.ID] = w
			out = append(out, w)
		case histories.FFaultStop:
			if w := open[e.Fault.ID]; w != nil {
				w.End = seconds(e.Time - origin)
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

// faultName is kind:rule, the way --nemesis and the stories name it.
func faultName(f histories.Fault) string {
	if r := f.Params["rule"]; r != "" {
		return f.Kind + ":" + r
	}
	return f.Kind
}

// faultLabel says all of a fault: its name, targets and parameters.
func faultLabel(f histories.Fault) string {
	s := faultName(f) + " " + strings.Join(f.Targets, ",")
	if from := f.Params["cut-from"]; from != "" {
		s += " | " + from
	}
	if f.Params["aim"] != "" {
		s += " aimed " + f.Params["aim"]
	}
	for _, k := range []string{"direction", "bridge", "percent", "delay", "rate", "offset", "strobe"} {
		if v := f.Params[k]; v != "" && !(k == "rate" && v == "1") {
			s += " " + k + " " + v
		}
	}
	return s
}

// marks are the run's phases. (An anomaly is drawn as its act, numbered
// like its story, not as a line per event it cites.)
func marks(events []histories.Event, origin int64) []mark {
	var out []mark
	for _, e := range events {
		if e.F == histories.FPhase {
			out = append(out, mark{At: seconds(e.Time - origin), Label: e.Value, Class: "phase"})
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
func latencies(events []histories.Event, origin int64) ([]point, string) {
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
			all = append(all, point{At: seconds(i.Time - origin), Latency: float64(e.Time-i.Time) / 1e6, Class: e.F + "-" + string(e.Type)})
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

// throughput counts ok completions per second of the run, from its
// first event: bucket i is the second from origin-offset+i.
func throughput(events []histories.Event, origin int64, end float64) []float64 {
	if len(events) == 0 {
		return nil
	}
	first := events[0].Time
	buckets := make([]float64, int(end-seconds(first-origin))+1)
	for _, e := range events {
		if e.IsCompletion() && e.Type == histories.OK {
			if i := int(seconds(e.Time - first)); i < len(buckets) {
				buckets[i]++
			}
		}
	}
	return buckets
}
