package checker

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/election-harness/harness/histories"
)

// Story tells one anomaly for people: who did the bad act, when, under
// which term while which other term led, and the faults that put it
// there. It is derived from the history alone, so `harness check` tells
// the same story; the report draws it.
type Story struct {
	// Sentence is the anomaly in one sentence, with short names (c3,
	// term 6) and times in seconds from the workload's start.
	Sentence string `json:"sentence"`
	// Process is the campaigner (or member) that did the bad act.
	Process string `json:"process,omitempty"`
	// Term is the term it acted under; Other the campaigner whose term
	// OtherTerm led in the store instead, if any.
	Term      *histories.Token `json:"term,omitempty"`
	Other     string           `json:"other,omitempty"`
	OtherTerm *histories.Token `json:"other_term,omitempty"`
	// From and At bound the bad act on the history's clock (ns since
	// the run started): from its leadership check (the invocation) to
	// its effect (a write's landing in the store, a grant's return).
	From int64 `json:"from"`
	At   int64 `json:"at"`
	// Origin is the workload's start, which the sentence counts from.
	Origin int64 `json:"origin"`
	// Faults are those in effect on the anomaly's actors, and the most
	// recent one started before the act; the first one whose Role is
	// "cause" is the one the sentence names.
	Faults []CausalFault `json:"faults,omitempty"`
	// Events are the evidence's events and the faults' start and stop
	// events, by index, in time order.
	Events []int64 `json:"events,omitempty"`
	// Names maps the sentence's short names to what they stand for
	// ("term 6" to the full token).
	Names map[string]string `json:"names,omitempty"`
}

// CausalFault is one fault a story cites.
type CausalFault struct {
	ID      int64    `json:"id"`
	Kind    string   `json:"kind"`
	Rule    string   `json:"rule,omitempty"`
	Targets []string `json:"targets,omitempty"`
	// Start and End are the fault's span (ns since the run started);
	// Open when the history never healed it (End is then its end).
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	Open  bool  `json:"open,omitempty"`
	// Actor is whom of the anomaly it hit ("" for the last fault
	// before the act when it hit none of them).
	Actor string `json:"actor,omitempty"`
	// Via is the node the fault struck to reach Actor: the apiserver the
	// actor reaches the store through ("" when it struck Actor itself).
	Via string `json:"via,omitempty"`
	// Role is "cause" (the fault the sentence names: on the actor during
	// its act), "in-effect" (on an actor during the anomaly) or
	// "last-before" (the most recent fault started before the act).
	Role string `json:"role"`
	// Describe says what it was in words ("pause:election-leader on
	// c3, aimed mid-write").
	Describe string `json:"describe"`
}

// Fault roles.
const (
	RoleCause      = "cause"
	RoleInEffect   = "in-effect"
	RoleLastBefore = "last-before"
)

// faultWindow is one fault from its start event to its stop event.
type faultWindow struct {
	fault      histories.Fault
	start, end histories.Event
	open       bool
}

func faultWindows(h *history) []*faultWindow {
	byID := map[int64]*faultWindow{}
	var out []*faultWindow
	for _, e := range h.events {
		if e.Fault == nil {
			continue
		}
		switch e.F {
		case histories.FFaultStart:
			if byID[e.Fault.ID] != nil {
				continue // a second start records an apply error
			}
			s := &faultWindow{fault: *e.Fault, start: e, open: true}
			s.end = e
			s.end.Time = h.end
			byID[e.Fault.ID] = s
			out = append(out, s)
		case histories.FFaultStop:
			if s := byID[e.Fault.ID]; s != nil && s.open {
				s.end, s.open = e, false
			}
		}
	}
	return out
}

func (f *faultWindow) overlaps(from, to int64) bool {
	return f.start.Time <= to && f.end.Time >= from
}

// tell writes a story into every anomaly of every invalid check.
func tell(h *history, rec *record, rr *registerRecord, checks []CheckResult, fronts map[string]string) {
	st := storyteller{h: h, rec: rec, rr: rr, faults: faultWindows(h), ops: map[int64]*op{}, members: map[string]bool{}, fronts: fronts}
	for _, list := range h.ops {
		for _, o := range list {
			st.ops[o.invoke.Op] = o
		}
	}
	isFront := map[string]bool{}
	for _, f := range fronts {
		isFront[f] = true
	}
	for _, e := range h.probes {
		// A front is probed too, but reaches only its own campaigners.
		if n := strings.TrimPrefix(e.Process, "probe:"); !isFront[n] {
			st.members[n] = true
		}
	}
	if p, ok := h.phases[histories.PhaseStart]; ok {
		st.origin = p.Time
	}
	for i := range checks {
		if checks[i].Verdict != Invalid {
			continue
		}
		for j := range checks[i].Evidence {
			s := st.tell(checks[i].Evidence[j])
			checks[i].Evidence[j].Story = &s
		}
	}
}

type storyteller struct {
	h       *history
	rec     *record
	rr      *registerRecord
	faults  []*faultWindow
	ops     map[int64]*op
	members map[string]bool
	fronts  map[string]string
	origin  int64
}

// at formats a history time as seconds from the workload's start.
func (st *storyteller) at(t int64) string {
	return fmt.Sprintf("%.2f s", float64(t-st.origin)/1e9)
}

func (st *storyteller) span(from, to int64) string {
	return fmt.Sprintf("%.2f–%.2f s", float64(from-st.origin)/1e9, float64(to-st.origin)/1e9)
}

// termName is a term's short name: its sequence number, which orders
// terms (etcd: the key's create revision; Consul: the lock's modify
// index at acquisition).
func termName(t histories.Token) string { return fmt.Sprintf("term %d", t.Seq) }

// badOp is the operation an anomaly is about: the last campaigner
// operation its evidence lists (the checks list what came first, the
// earlier term's write or grant, before the offending one).
func (st *storyteller) badOp(ev Evidence) *op {
	var bad *op
	for _, e := range ev.Events {
		if e.Op == 0 {
			continue
		}
		if o := st.ops[e.Op]; o != nil {
			bad = o
		}
	}
	return bad
}

// termOf is the term an operation acted under.
func termOf(o *op) *histories.Token {
	if o.invoke.F == histories.FCampaign {
		return o.done.Token
	}
	return writeTerm(o)
}

// reignAt is the reign that led in the record at time t, or nil.
func (st *storyteller) reignAt(t int64) *reign {
	var cur *reign
	for i := range st.rec.reigns {
		r := &st.rec.reigns[i]
		if r.start.Time > t {
			break
		}
		if !r.ended || r.end.Time > t {
			cur = r
		}
	}
	return cur
}

func (st *storyteller) tell(ev Evidence) Story {
	s := Story{Origin: st.origin, Names: map[string]string{}}
	actors := map[string]bool{}
	var first, last int64 = never, 0
	for _, e := range ev.Events {
		if e.Time == never {
			continue
		}
		first, last = min(first, e.Time), max(last, e.Time)
		switch {
		case (e.F == histories.FStatus || strings.HasPrefix(e.Process, "watch:")) && e.Member != nil:
			actors[e.Member.Name] = true
		case e.Process != histories.ProcessStore && e.Process != histories.ProcessHarness && e.Process != histories.ProcessNemesis && !strings.HasPrefix(e.Process, "probe:") && !strings.HasPrefix(e.Process, "watch:"):
			actors[campaignerOf(e.Process)] = true
		}
	}
	if first == never {
		first = 0
	}
	s.From, s.At = first, last
	evidenceFrom := first
	var what string
	if w := st.leaseEnd(&s, ev); w != "" {
		// P8: the store's act, ending a renewed lease, is the anomaly,
		// not any campaigner operation its evidence names.
		what = w
		actors[s.Process] = true
	} else if o := st.badOp(ev); o != nil {
		what = st.act(&s, o)
		actors[s.Process] = true
		if s.Other != "" {
			actors[s.Other] = true
		}
	} else {
		// No campaigner acted (raft members, an observer): the anomaly's
		// own words, at its last event, about its first actor.
		names := make([]string, 0, len(actors))
		for a := range actors {
			names = append(names, a)
		}
		sort.Strings(names)
		if len(names) > 0 {
			s.Process = names[0]
		}
		what = ev.Message
	}
	cause := st.causes(&s, actors, evidenceFrom)
	s.Sentence = fmt.Sprintf("at %s %s; %s", st.at(s.At), what, cause)
	st.order(&s, ev)
	if len(s.Names) == 0 {
		s.Names = nil
	}
	return s
}

// leaseEnd tells P8's anomaly, a renewed lease's key deleted early,
// from its renewal's lower bound in time to the deletion's receipt;
// "" for evidence of any other kind.
func (st *storyteller) leaseEnd(s *Story, ev Evidence) string {
	var renewal, del *histories.Event
	var tok *histories.Token
	for i := range ev.Events {
		e := &ev.Events[i]
		switch {
		case e.F == histories.FRenewed:
			renewal = e
		case e.F == histories.FStoreDelete:
			del = e
		case e.F == histories.FCampaign && e.Token != nil:
			tok = e.Token
		}
	}
	if renewal == nil || del == nil || tok == nil {
		return ""
	}
	// P8 lists first the event that bounds the renewal from below, and
	// last, after the deletion, one that bounds the deletion sooner.
	s.Process, s.Term, s.From, s.At = campaignerOf(renewal.Process), tok, ev.Events[0].Time, del.Time
	if last := ev.Events[len(ev.Events)-1]; last.F != histories.FStoreDelete {
		s.At = min(s.At, last.Time)
	}
	s.Names[termName(*tok)] = tok.String()
	return fmt.Sprintf("the key of %s's %s was deleted, though its lease had been renewed for %s at revision %d, after %s, and it had not resigned",
		s.Process, termName(*tok), renewal.Value, renewal.Revision, st.at(s.From))
}

// act describes the bad operation o and fills the story's actor, term,
// other leader and span.
func (st *storyteller) act(s *Story, o *op) string {
	s.Process = campaignerOf(o.process())
	s.From, s.At = o.invoke.Time, o.done.Time
	tok := termOf(o)
	var verb string
	switch o.invoke.F {
	case histories.FWrite:
		verb = fmt.Sprintf("wrote %q", o.invoke.Value)
		if put, ok := st.rr.putOf[o]; ok {
			s.At = put.Time
		}
	case histories.FCampaign:
		verb = "won"
	case histories.FRead:
		verb = fmt.Sprintf("read %q", o.done.Value)
	case histories.FLeaseTTL:
		verb = fmt.Sprintf("was told its lease lives %s", o.done.Value)
	default:
		verb = o.invoke.F
	}
	if s.At == never {
		s.At = o.invoke.Time
	}
	var b strings.Builder
	b.WriteString(s.Process + " " + verb)
	if tok != nil {
		s.Term = tok
		s.Names[termName(*tok)] = tok.String()
		if o.invoke.F == histories.FCampaign {
			fmt.Fprintf(&b, " %s (campaign begun at %s)", termName(*tok), st.at(o.invoke.Time))
		} else if o.invoke.F == histories.FWrite {
			fmt.Fprintf(&b, " as leader of %s", termName(*tok))
		} else {
			fmt.Fprintf(&b, " under %s", termName(*tok))
		}
		id := keyID{tok.Key, tok.Seq}
		if _, led := st.rec.reignOf[id]; !led && st.rec.present {
			if _, existed := st.rec.keys[id]; existed {
				b.WriteString(", a term that never led")
			} else if st.rec.complete {
				b.WriteString(", a term the store never held")
			}
		}
		if del, gone := st.rec.deleted[id]; gone && del.Time <= s.At {
			how := "its lease ended"
			switch {
			case resignedBefore(st.h, *tok, del.Time):
				how = "it had resigned"
			case st.rec.takenOverAt(del):
				// A store whose one lock object changes holder in one
				// write (a Kubernetes Lease) ends a term by the next.
				how = "another campaigner took the lock over in the same write"
			}
			fmt.Fprintf(&b, ", after its term's key was deleted at %s (%s)", st.at(del.Time), how)
		}
	}
	if r := st.reignAt(s.At); r != nil && (tok == nil || r.id != (keyID{tok.Key, tok.Seq})) {
		first := st.rec.keys[r.id]
		other := histories.Token{Key: r.id.key, Seq: r.id.createRev, Session: first.Session}
		s.Other, s.OtherTerm = first.Value, &other
		s.Names[termName(other)] = other.String()
		fmt.Fprintf(&b, ", while %s (%s) led from %s", s.Other, termName(other), st.at(r.start.Time))
	}
	return b.String()
}

// verbs say what a fault kind did to its target.
var verbs = map[string]string{
	histories.FaultPartition:    "partitioned",
	histories.FaultPause:        "paused",
	histories.FaultFreeze:       "frozen",
	histories.FaultKill:         "killed",
	histories.FaultWipe:         "wiped",
	histories.FaultLoss:         "losing packets",
	histories.FaultDelay:        "delayed",
	histories.FaultClock:        "clock-skewed",
	histories.FaultFailpoint:    "failpoint-stricken",
	histories.FaultStall:        "disk-stalled",
	histories.FaultThrottle:     "CPU-throttled",
	histories.FaultLoseUnsynced: "power-lost",
	histories.FaultCompact:      "compacted",
	histories.FaultDefrag:       "defragmented",
}

// describe names a fault: kind:rule on its targets, with what sets it
// apart (aimed mid-write, cut from whom, how much).
func describe(f histories.Fault) string {
	name := f.Kind
	if r := f.Params["rule"]; r != "" {
		name += ":" + r
	}
	s := name + " on " + strings.Join(f.Targets, ",")
	var extra []string
	if f.Params["aim"] == "mid-write" {
		extra = append(extra, "aimed mid-write")
	}
	if from := f.Params["cut-from"]; from != "" {
		extra = append(extra, "cut from "+from)
	}
	for _, k := range []string{"percent", "delay", "rate", "offset", "strobe"} {
		if v := f.Params[k]; v != "" && !(k == "rate" && v == "1") {
			extra = append(extra, k+" "+v)
		}
	}
	if len(extra) > 0 {
		s += ", " + strings.Join(extra, ", ")
	}
	return s
}

func (st *storyteller) causal(f *faultWindow, actor, via, role string) CausalFault {
	return CausalFault{ID: f.fault.ID, Kind: f.fault.Kind, Rule: f.fault.Params["rule"], Targets: f.fault.Targets,
		Start: f.start.Time, End: f.end.Time, Open: f.open, Actor: actor, Via: via, Role: role, Describe: describe(f.fault)}
}

// struck is whom of the actors a fault hit, and through which front:
// the one who did the bad act first, when it hit several (every
// campaigner's clock slowed at once), itself before through its front.
func (st *storyteller) struck(f *faultWindow, process string, actors map[string]bool) (actor, via string) {
	hits := func(a string) bool { return actors[a] && slices.Contains(f.fault.Targets, a) }
	viaFront := func(a string) bool {
		front := st.fronts[a]
		return actors[a] && front != "" && slices.Contains(f.fault.Targets, front)
	}
	if hits(process) {
		return process, ""
	}
	if viaFront(process) {
		return process, st.fronts[process]
	}
	for _, t := range f.fault.Targets {
		if actors[t] {
			return t, ""
		}
	}
	for _, a := range slices.Sorted(maps.Keys(actors)) {
		if viaFront(a) {
			return a, st.fronts[a]
		}
	}
	return "", ""
}

// causes finds the faults in effect on the anomaly's actors (on them or
// on the apiservers they reach the store through) and the cause the
// sentence names: a fault on the actor during its act, else one on its
// apiserver, else one on a member during it, else the last fault
// before it.
func (st *storyteller) causes(s *Story, actors map[string]bool, evidenceFrom int64) string {
	var cause *faultWindow
	causeActor, causeVia, causeAt := "", "", -1
	for _, f := range st.faults {
		if f.start.Time > s.At || !f.overlaps(evidenceFrom, s.At) {
			continue
		}
		t, via := st.struck(f, s.Process, actors)
		if t == "" {
			continue
		}
		role := RoleInEffect
		if t == s.Process && f.overlaps(s.From, s.At) && (cause == nil || (causeVia != "" && via == "")) {
			if causeAt >= 0 {
				s.Faults[causeAt].Role = RoleInEffect
			}
			cause, causeActor, causeVia, causeAt, role = f, t, via, len(s.Faults), RoleCause
		}
		s.Faults = append(s.Faults, st.causal(f, t, via, role))
	}
	if cause == nil {
		// A fault on a member during the act hits every campaigner.
		for _, f := range st.faults {
			if !f.overlaps(s.From, s.At) {
				continue
			}
			for _, t := range f.fault.Targets {
				if st.members[t] && !actors[t] {
					cause, causeActor = f, t
					s.Faults = append(s.Faults, st.causal(f, t, "", RoleCause))
					break
				}
			}
			if cause != nil {
				break
			}
		}
	}
	var lastBefore *faultWindow
	for _, f := range st.faults {
		if f.start.Time <= s.At && (lastBefore == nil || f.start.Time > lastBefore.start.Time) {
			lastBefore = f
		}
	}
	if lastBefore != nil && lastBefore != cause {
		cited := false
		for _, c := range s.Faults {
			cited = cited || c.ID == lastBefore.fault.ID
		}
		if !cited {
			s.Faults = append(s.Faults, st.causal(lastBefore, "", "", RoleLastBefore))
		}
	}
	who := s.Process
	if who == "" {
		who = "its actors"
	}
	switch {
	case cause != nil && causeVia != "":
		return fmt.Sprintf("%s reaches the store through %s, which was %s %s (%s)", causeActor, causeVia, verbs[cause.fault.Kind], st.span(cause.start.Time, cause.end.Time), describe(cause.fault))
	case cause != nil:
		return fmt.Sprintf("%s was %s %s (%s)", causeActor, verbs[cause.fault.Kind], st.span(cause.start.Time, cause.end.Time), describe(cause.fault))
	case lastBefore != nil:
		return fmt.Sprintf("no fault was in effect on %s; the last one before began at %s: %s, %s", who, st.at(lastBefore.start.Time), describe(lastBefore.fault), st.span(lastBefore.start.Time, lastBefore.end.Time))
	default:
		return "no fault had started"
	}
}

// order lists the evidence's events and the cited faults' events in
// time order.
func (st *storyteller) order(s *Story, ev Evidence) {
	type ev2 struct{ t, i int64 }
	var all []ev2
	seen := map[int64]bool{}
	add := func(e histories.Event) {
		if e.Time == never || seen[e.Index] {
			return
		}
		seen[e.Index] = true
		all = append(all, ev2{e.Time, e.Index})
	}
	for _, e := range ev.Events {
		add(e)
	}
	for _, c := range s.Faults {
		for _, f := range st.faults {
			if f.fault.ID == c.ID {
				add(f.start)
				if !f.open {
					add(f.end)
				}
			}
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].t != all[j].t {
			return all[i].t < all[j].t
		}
		return all[i].i < all[j].i
	})
	for _, e := range all {
		s.Events = append(s.Events, e.i)
	}
}
