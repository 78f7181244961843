package checker

import (
	"fmt"
	"slices"
	"strings"

	"github.com/election-harness/harness/histories"
)

// Party is who broke the promise an anomaly shows.
type Party string

// The parties. A team gates its recipe on the harness; the database and
// the client library are the teams upstream; undecided is where the
// evidence cannot say.
const (
	PartyRecipe        Party = "recipe"
	PartyDatabase      Party = "database"
	PartyClientLibrary Party = "client library"
	PartyUndecided     Party = "undecided"
)

// Blame says whose promise an anomaly broke, and why the evidence says
// so. Known is set, outside the checker, when the anomaly matches a
// database bug the harness knows (its driver lists them).
type Blame struct {
	Party Party  `json:"party"`
	Why   string `json:"why"`
	Known *Known `json:"known,omitempty"`
}

// Known is a known bug an anomaly matches.
type Known struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Link  string `json:"link"`
}

// The reasons each kind of anomaly gives.
var (
	blameRaft        = Blame{PartyDatabase, "two members led raft in one term: raft's own safety", nil}
	blameTerms       = Blame{PartyRecipe, "the recipe told two campaigners they hold one term, or handed out terms out of order", nil}
	blameGrant       = Blame{PartyRecipe, "the recipe reported a grant the store never gave: a client library may return one (a campaign that waited past its session), and a recipe must read its key back before it believes it leads", nil}
	blameStaleWrite  = Blame{PartyRecipe, "the recipe acted outside its term: its write was not fenced by its term, or was sent after it lost it", nil}
	blameFailedWrite = Blame{PartyRecipe, "the recipe reported failed a write the store applied: an outcome it cannot know must be reported as indeterminate (info)", nil}
	blameStore       = Blame{PartyDatabase, "the store's record contradicts what it acknowledged: a write lost, applied twice, or a value nobody wrote", nil}
	blameRead        = Blame{PartyDatabase, "a read the recipe made in the store's linearizable mode returned a value older than one already written: the store's promise (a recipe that reads serializably owns this instead)", nil}
	blameLease       = Blame{PartyDatabase, "the store ended a lease before the time it had promised the holder: the store's lease promise", nil}
	blameCrash       = Blame{PartyDatabase, "a member of the store crashed (a panic, a fatal error, found corruption) when no fault asked it to", nil}
	blameDivergence  = Blame{PartyDatabase, "members of the store hold different data at one revision: replication's own promise", nil}
	blameObservers   = Blame{PartyUndecided, "observers disagree on the sequence of leaders: the store's watch, the client library's Observe or the recipe's report could each be the cause", nil}
	blameRegressed   = Blame{PartyDatabase, "the store went back in time: read linearizably, it answered below a revision its record had already seen, so it lost changes it had acknowledged", nil}
	blameLiveness    = Blame{PartyUndecided, "no leader came after the heal: a recipe that stopped campaigning or a store that stopped granting look the same", nil}
)

// storeRegressions are the history's FStoreRegressed events.
func storeRegressions(h *history) []histories.Event {
	var out []histories.Event
	for _, e := range h.events {
		if e.F == histories.FStoreRegressed {
			out = append(out, e)
		}
	}
	return out
}

// reblameAfterLoss gives the database the anomalies a recipe or no one was
// blamed for once the store has lost acknowledged changes. From the first
// fault that stopped a member on, what campaigners did rests on writes the
// store acknowledged and then lost (a term's key, a fenced value). So the
// recipe cannot be told apart from the loss. Anomalies before that fault
// keep their blame.
func reblameAfterLoss(h *history, checks []CheckResult) {
	regressed := storeRegressions(h)
	what := ""
	if len(regressed) > 0 {
		what = fmt.Sprintf(" (its revision fell from %s to %d after a member was stopped)", regressed[0].Value, regressed[0].Revision)
	} else if !anyBlamed(checks, blameRegressed) {
		return
	}
	from := int64(-1)
	for _, e := range h.events {
		if e.F == histories.FFaultStart && e.Fault != nil && (e.Fault.Kind == histories.FaultKill || e.Fault.Kind == histories.FaultLoseUnsynced) {
			from = e.Time
			break
		}
	}
	if from < 0 {
		return
	}
	why := "the store lost changes it had acknowledged" + what + ": what the campaigners did from then on rests on them, so this is the loss's doing"
	for i := range checks {
		c := &checks[i]
		if c.Informational {
			continue
		}
		for j := range c.Evidence {
			ev := &c.Evidence[j]
			if ev.Blame == nil || ev.Blame.Party == PartyDatabase || len(ev.Events) == 0 || ev.Events[len(ev.Events)-1].Time < from {
				continue
			}
			ev.Blame = &Blame{Party: PartyDatabase, Why: why}
		}
	}
}

// anyBlamed says whether any anomaly of checks was blamed so.
func anyBlamed(checks []CheckResult, b Blame) bool {
	for _, c := range checks {
		for _, ev := range c.Evidence {
			if ev.Blame != nil && ev.Blame.Why == b.Why {
				return true
			}
		}
	}
	return false
}

// failAs records one anomaly and whose it is, keeping at most
// maxEvidence of them (Counts keeps the total).
func (c *CheckResult) failAs(b Blame, msg string, events ...histories.Event) {
	c.Verdict = Invalid
	c.Counts[CountAnomalies]++
	if len(c.Evidence) < maxEvidence {
		c.Evidence = append(c.Evidence, Evidence{Message: msg, Events: events, Blame: &b})
		return
	}
	if c.Unlisted == nil {
		c.Unlisted = map[string]int64{}
	}
	c.Unlisted[UnlistedKey(b.Party, msg)]++
}

// UnlistedKey is the key under which CheckResult.Unlisted counts an
// anomaly of party with message msg: the party, then the message up to
// its first ": " (what kind of anomaly it is, without its particulars).
func UnlistedKey(party Party, msg string) string {
	kind, _, _ := strings.Cut(msg, ": ")
	return string(party) + ": " + kind
}

// UnlistedParty is the party of an Unlisted key, and the kind of anomaly.
func UnlistedParty(key string) (Party, string) {
	p, kind, _ := strings.Cut(key, ": ")
	return Party(p), kind
}

// Whose says, in one line, whose promises the run's anomalies broke:
// which parties, each with its properties, and the judged properties
// that held (what a team gating its recipe reads first). "" when no
// judged property failed.
func Whose(res Results) string {
	parties := map[Party][]string{}
	var order []Party
	var held []string
	for _, c := range res.Checks {
		if c.Informational || c.Verdict == Unknown {
			continue
		}
		if c.Verdict == Valid {
			held = append(held, c.Property)
			continue
		}
		for _, e := range c.Evidence {
			p := PartyUndecided
			if e.Blame != nil {
				p = e.Blame.Party
				if e.Blame.Known != nil {
					p = Party(string(p) + " (known: " + e.Blame.Known.ID + ")")
				}
			}
			if !slices.Contains(order, p) {
				order = append(order, p)
			}
			if !slices.Contains(parties[p], c.Property) {
				parties[p] = append(parties[p], c.Property)
			}
		}
	}
	if len(order) == 0 {
		return ""
	}
	var parts []string
	for _, p := range order {
		parts = append(parts, fmt.Sprintf("%s broke %s", p, strings.Join(parties[p], ", ")))
	}
	line := strings.Join(parts, "; ")
	if len(held) > 0 {
		line += "; held: " + strings.Join(held, ", ")
	}
	return line
}

// BlameLine is an anomaly's party, and the known bug it matches: "the
// database (known: ID)", "the recipe"; "" without a blame.
func BlameLine(b *Blame) string {
	if b == nil {
		return ""
	}
	line := "the " + string(b.Party)
	if b.Party == PartyUndecided {
		line = "undecided whose"
	}
	if b.Known != nil {
		line += " (known: " + b.Known.ID + ")"
	}
	return line
}
