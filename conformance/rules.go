package conformance

import (
	"fmt"
	"strings"
)

// Rule is one promise of the campaigner protocol that the check holds a
// campaigner to, and the section of docs/campaigner-protocol.md that
// states it.
type Rule struct {
	ID      string
	Says    string
	Section string
}

// ProtocolDoc is the document every rule's Section is in.
const ProtocolDoc = "docs/campaigner-protocol.md"

// The rules, in the order the check meets them.
var (
	RuleReady          = Rule{"ready", "send the ready event once the program accepts commands", "Events"}
	RuleCampaignWins   = Rule{"campaign-wins", "a campaign with nobody leading wins: ok, with the token of the term won", "Commands"}
	RuleTokenFields    = Rule{"token-fields", "a won token carries what the database's terms are made of", "Commands"}
	RuleObserve        = Rule{"observe", "observe answers at once (ok, or declined as unsupported) and then reports the leader as an observed event", "Events"}
	RuleLeaderWrites   = Rule{"leader-writes", "the leader's write of value to key is ok, and a read then returns it", "Commands"}
	RuleActNamesTerm   = Rule{"act-names-term", "the leader's act is ok with the token of its term (or declined as unsupported)", "Commands"}
	RuleCampaignHeld   = Rule{"campaign-while-leading", "a campaign while leading returns the term held", "Commands"}
	RuleCampaignWaits  = Rule{"campaign-waits", "a campaign waits while another campaigner leads", "Commands"}
	RuleLostSent       = Rule{"lost-on-session-end", "lost, naming the term, is sent as soon as the term's session ends", "Events"}
	RuleNoWriteAfter   = Rule{"no-write-after-loss", "once the term is lost, a write under it is refused (fail), never ok", "Commands"}
	RuleNoStaleTerm    = Rule{"no-stale-term", "a campaign once the term's session ended never returns that term (read it back; never answer from memory)", "Commands"}
	RuleNextWins       = Rule{"next-wins", "the waiting campaigner wins a later term once the leader lost", "Commands"}
	RuleResignEndsTerm = Rule{"resign-ends-term", "resign is ok and ends the term: an act after it is refused as not leader", "Commands"}
)

// Rules lists every rule, in order.
var Rules = []Rule{RuleReady, RuleCampaignWins, RuleTokenFields, RuleObserve, RuleLeaderWrites, RuleActNamesTerm,
	RuleCampaignHeld, RuleCampaignWaits, RuleNoStaleTerm, RuleLostSent, RuleNoWriteAfter, RuleNextWins, RuleResignEndsTerm}

// Outcome is how a campaigner fared on one rule.
type Outcome string

const (
	Held Outcome = "held"
	// Broken: the campaigner broke the rule; Saw says how.
	Broken Outcome = "BROKEN"
	// Declined: an optional command the rule needs was declined.
	Declined Outcome = "declined"
	// NotReached: an earlier broken rule left nothing to check it on.
	NotReached Outcome = "not reached"
)

// Finding is one rule's outcome and what was seen.
type Finding struct {
	Rule    Rule
	Outcome Outcome
	Saw     string
}

// Report is what the check found, rule by rule.
type Report struct {
	Findings []Finding
}

// Passed reports whether every rule held (or was declined, for an
// optional command): none broken, none left unreached.
func (r Report) Passed() bool {
	for _, f := range r.Findings {
		if f.Outcome == Broken || f.Outcome == NotReached {
			return false
		}
	}
	return len(r.Findings) > 0
}

// Broken lists the broken rules' findings.
func (r Report) Broken() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Outcome == Broken {
			out = append(out, f)
		}
	}
	return out
}

// String is the report, a line per rule; a broken rule names its section
// of the protocol.
func (r Report) String() string {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%-11s %-24s %s", f.Outcome, f.Rule.ID, f.Rule.Says)
		if f.Saw != "" {
			fmt.Fprintf(&b, "\n            saw: %s", f.Saw)
		}
		if f.Outcome == Broken {
			fmt.Fprintf(&b, "\n            see %s, %q", ProtocolDoc, f.Rule.Section)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// find is the finding of rule in r, if any.
func (r *Report) find(rule Rule) *Finding {
	for i := range r.Findings {
		if r.Findings[i].Rule.ID == rule.ID {
			return &r.Findings[i]
		}
	}
	return nil
}

// set records rule's outcome; a rule broken once stays broken.
func (r *Report) set(rule Rule, o Outcome, saw string) {
	if f := r.find(rule); f != nil {
		if f.Outcome != Broken {
			f.Outcome, f.Saw = o, saw
		}
		return
	}
	r.Findings = append(r.Findings, Finding{Rule: rule, Outcome: o, Saw: saw})
}

// rest marks every rule not yet judged as not reached.
func (r *Report) rest(why string) {
	for _, rule := range Rules {
		if r.find(rule) == nil {
			r.Findings = append(r.Findings, Finding{Rule: rule, Outcome: NotReached, Saw: why})
		}
	}
}
