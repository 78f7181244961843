package checker

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/election-harness/harness/histories"
)

// Verdict is one check's outcome. Unknown is never valid.
type Verdict string

const (
	Valid   Verdict = "valid"
	Invalid Verdict = "invalid"
	Unknown Verdict = "unknown"
)

// Options are what the checker must know about the run.
type Options struct {
	// ElectionPrefix: store keys under it are election (leader) keys.
	ElectionPrefix string
	// RegisterPrefix: store keys under it are the fenced registers.
	RegisterPrefix string
	// LivenessBound is P6's bound from heal to a leader; 0 derives it as
	// 2*TTL + 10s.
	LivenessBound time.Duration
	TTL           time.Duration
	// ReadConsistency is the mode register reads were made in. With ""
	// or "consistent" reads are linearizable and checked as such. With
	// "default" (Consul's default) they are checked as linearizable,
	// and anomalies are named as reads of that mode. With "stale" reads
	// may lag, so they are not checked for linearizability. Stale reads
	// are counted, and reads of values no write produced are still
	// anomalies.
	ReadConsistency string
	// LinearizabilityTimeout is porcupine's deadline per key (0 = 30s);
	// running out gives unknown.
	LinearizabilityTimeout time.Duration
	// ExpectFaults: the run asked for a nemesis, so a history in which
	// no fault started tested nothing it meant to: unknown, never valid.
	ExpectFaults bool
	// Fronts maps a campaigner to the node it reaches the store through
	// when that is not a member (its kube-apiserver): a fault on that
	// node during its act is a cause of the act, and one on another
	// front is not.
	Fronts map[string]string
}

// Results is results.json.
type Results struct {
	Valid   Verdict       `json:"-"`
	Summary string        `json:"summary"`
	Checks  []CheckResult `json:"checks"`
	// Truncated is set when the history was cut off (a crashed run).
	Truncated bool `json:"truncated,omitempty"`
	// Coverage is what the run exercised.
	Coverage Coverage `json:"coverage"`
	// Whose says whose promises the anomalies broke (Whose), once known
	// bugs are named; "" when no judged property failed.
	Whose string `json:"whose,omitempty"`
	// Gate is the run's gate policy applied to an invalid verdict: the
	// verdict stays invalid, the gate may pass.
	Gate *Gate `json:"gate,omitempty"`
}

// Gate is a gate policy's decision on an invalid run.
type Gate struct {
	// FailOn is the policy: all, recipe or new.
	FailOn string `json:"fail_on"`
	// Passed: every anomaly is one the policy accepts.
	Passed bool `json:"passed"`
	// Accepted lists each accepted anomaly (property, party, message);
	// Failing says why the gate did not pass, if it did not.
	Accepted []string `json:"accepted,omitempty"`
	Failing  string   `json:"failing,omitempty"`
}

// CheckResult is one property's result.
type CheckResult struct {
	Name     string  `json:"name"`
	Property string  `json:"property"`
	Verdict  Verdict `json:"verdict"`
	// Informational checks are reported and never change Results.Valid.
	Informational bool `json:"informational,omitempty"`
	// Counts are keyed by the Count constants in counts.go.
	Counts   map[string]int64   `json:"counts"`
	Stats    map[string]float64 `json:"stats,omitempty"`
	Evidence []Evidence         `json:"evidence,omitempty"`
	// Unlisted counts the anomalies past the listed Evidence by whose
	// they are and what they are, so that a gate can still say whether
	// it accepts every one. Its keys are the party, then the message up
	// to its first ": ".
	Unlisted map[string]int64 `json:"unlisted,omitempty"`
	// UnlistedKnown names the known database bug each Unlisted key
	// matches, where one does (set with the known bugs, outside the
	// checker).
	UnlistedKnown map[string]string `json:"unlisted_known,omitempty"`
	Notes         []string          `json:"notes,omitempty"`
	// reasons counts the Notes that say why the check is unknown: the
	// first ones.
	reasons int
}

// Evidence is one anomaly (or one reason for unknown) and the exact
// events that prove it.
type Evidence struct {
	Message string            `json:"message"`
	Events  []histories.Event `json:"events,omitempty"`
	// Story tells an anomaly of an invalid check for people (story.go).
	Story *Story `json:"story,omitempty"`
	// Blame says whose promise the anomaly broke (blame.go); nil for a
	// reason a check is unknown.
	Blame *Blame `json:"blame,omitempty"`
}

// maxEvidence caps the anomalies listed per check; Counts keeps the total.
const maxEvidence = 20

// Check checks every property of a history. An error means the history
// or the options cannot be checked at all (a malformed history, or
// prefixes that match nothing in it): no verdict, never a guess.
func Check(ctx context.Context, h []histories.Event, opts Options) (Results, error) {
	if opts.LivenessBound == 0 {
		opts.LivenessBound = 2*opts.TTL + 10*time.Second
	}
	if opts.LinearizabilityTimeout == 0 {
		opts.LinearizabilityTimeout = 30 * time.Second
	}
	hist, err := index(h)
	if err != nil {
		return Results{}, err
	}
	rec := replayRecord(hist, opts)
	if err := matchOptions(hist, rec, opts); err != nil {
		return Results{}, err
	}
	rr := attributePuts(hist, rec)
	bounds := newRevisionTimes(rec.ordered, rr.landed)
	checks := []CheckResult{
		checkRaftSafety(hist),
		checkTerms(hist),
		checkGranted(hist, rec, bounds),
		checkRegister(ctx, hist, rec, rr, bounds, opts),
		checkObservers(hist, rec),
		checkLiveness(hist, opts),
		checkLeases(hist, rec),
	}
	if r := checkRenewals(hist, rec, bounds); r != nil {
		checks = append(checks, *r)
	}
	if a := checkAgreement(hist); a != nil {
		checks = append(checks, *a)
	}
	if x := checkCrashes(hist); x != nil {
		checks = append(checks, *x)
	}
	if w := checkWatches(hist, rec); w != nil {
		checks = append(checks, *w)
	}
	checks = append(checks, checkSplitBrain(hist))
	reblameAfterLoss(hist, checks)
	if v := checkVersions(hist); v != nil {
		checks = append(checks, *v)
	}
	tell(hist, rec, rr, checks, opts.Fronts)
	res := combine(checks)
	res.Coverage = coverage(hist, rec, opts.TTL)
	if res.Coverage.Faults == 0 && res.Valid == Valid {
		if opts.ExpectFaults {
			res.Valid = Unknown
			res.Summary = "no fault started although a nemesis was asked for: this run tested nothing under failure"
		} else {
			res.Summary += " (no faults: this run tested nothing under failure)"
		}
	}
	return res, nil
}

// matchOptions refuses options whose prefixes do not fit the history:
// checked against the wrong prefixes, every property would see an empty
// store and cry wolf.
func matchOptions(h *history, rec *record, opts Options) error {
	if n := len(rec.ordered) - len(rec.gaps); n > 0 && rec.electionEvents == 0 && len(rec.registerPuts) == 0 {
		return fmt.Errorf("the store's record holds %d changes, none under the election prefix %q or the register prefix %q: the options do not match this history", n, opts.ElectionPrefix, opts.RegisterPrefix)
	}
	if opts.RegisterPrefix != "" {
		for _, f := range []string{histories.FWrite, histories.FRead} {
			for _, o := range h.ops[f] {
				if !strings.HasPrefix(o.invoke.Key, opts.RegisterPrefix) {
					return fmt.Errorf("event %d: %s of register %q, outside the register prefix %q: the options do not match this history", o.invoke.Index, f, o.invoke.Key, opts.RegisterPrefix)
				}
			}
		}
	}
	// Members whose data diverged (P9) explain an observation that does
	// not match the record read through one of them: that is P9's
	// anomaly to report, not a history to refuse.
	diverged := membersDiverged(h)
	for _, e := range h.observed {
		first, ok := rec.keys[keyID{e.Key, e.CreateRevision}]
		if ok && !diverged && e.Value != "" && first.Value != "" && e.Value != first.Value {
			return fmt.Errorf("event %d: %s observed leader %s@%d named %q, but the store's record holds that key with %q: the observation does not match the store", e.Index, e.Process, e.Key, e.CreateRevision, e.Value, first.Value)
		}
	}
	if opts.ElectionPrefix != "" {
		for _, w := range campaignsWon(h) {
			if !strings.HasPrefix(w.token.Key, opts.ElectionPrefix) {
				return fmt.Errorf("event %d: %s won term %s, whose key is outside the election prefix %q: the options do not match this history", w.done.Index, w.process(), w.token, opts.ElectionPrefix)
			}
		}
	}
	return nil
}

// combine derives the overall verdict: invalid if any check is invalid,
// else unknown if any is unknown, else valid.
func combine(checks []CheckResult) Results {
	r := Results{Valid: Valid, Checks: checks}
	var firstInvalid, firstUnknown *CheckResult
	for i := range checks {
		c := &checks[i]
		if c.Informational {
			continue
		}
		switch c.Verdict {
		case Invalid:
			if firstInvalid == nil {
				firstInvalid = c
			}
		case Unknown:
			if firstUnknown == nil {
				firstUnknown = c
			}
		}
	}
	switch {
	case firstInvalid != nil:
		r.Valid = Invalid
		r.Summary = fmt.Sprintf("%s failed: %s", firstInvalid.Name, firstReason(*firstInvalid))
	case firstUnknown != nil:
		r.Valid = Unknown
		r.Summary = fmt.Sprintf("%s could not be decided: %s", firstUnknown.Name, firstReason(*firstUnknown))
	default:
		r.Summary = "all properties hold"
	}
	return r
}

func firstReason(c CheckResult) string {
	if len(c.Evidence) > 0 {
		return c.Evidence[0].Message
	}
	if len(c.Notes) > 0 {
		return c.Notes[0]
	}
	return string(c.Verdict)
}

// MarshalJSON writes the top-level "valid" as true, false or "unknown".
func (r Results) MarshalJSON() ([]byte, error) {
	type plain Results
	var valid any = "unknown"
	switch r.Valid {
	case Valid:
		valid = true
	case Invalid:
		valid = false
	}
	return json.Marshal(struct {
		Valid any `json:"valid"`
		plain
	}{valid, plain(r)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Results) UnmarshalJSON(b []byte) error {
	type plain Results
	var v struct {
		Valid any `json:"valid"`
		plain
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = Results(v.plain)
	switch v.Valid {
	case true:
		r.Valid = Valid
	case false:
		r.Valid = Invalid
	case "unknown":
		r.Valid = Unknown
	default:
		return fmt.Errorf("results: \"valid\" is %v, want true, false or \"unknown\"", v.Valid)
	}
	return nil
}

// newCheck starts a check as valid with empty counts.
func newCheck(property, name string) CheckResult {
	return CheckResult{Name: name, Property: property, Verdict: Valid, Counts: map[string]int64{}}
}

// unknown marks the check undecided, unless it is already invalid.
func (c *CheckResult) unknown(why string) {
	if c.Verdict != Invalid {
		c.Verdict = Unknown
	}
	// The reasons lead the notes, so the summary quotes a reason, never
	// a note added before it.
	c.Notes = slices.Insert(c.Notes, c.reasons, why)
	c.reasons++
}
