package checker

import (
	"context"
	"encoding/json"
	"fmt"
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
	// ReadConsistency is the mode register reads were made in: "" or
	// "consistent" (linearizable: checked as such), "default" (Consul's
	// default: checked as linearizable, anomalies named as reads of
	// that mode) or "stale" (reads may lag: they are not checked for
	// linearizability; stale reads are counted, reads of values no
	// write produced are still anomalies).
	ReadConsistency string
	// LinearizabilityTimeout is porcupine's deadline per key (0 = 30s);
	// running out gives unknown.
	LinearizabilityTimeout time.Duration
}

// Results is results.json.
type Results struct {
	Valid   Verdict       `json:"-"`
	Summary string        `json:"summary"`
	Checks  []CheckResult `json:"checks"`
	// Truncated is set when the history was cut off (a crashed run).
	Truncated bool `json:"truncated,omitempty"`
}

// CheckResult is one property's result.
type CheckResult struct {
	Name     string  `json:"name"`
	Property string  `json:"property"`
	Verdict  Verdict `json:"verdict"`
	// Informational checks are reported and never change Results.Valid.
	Informational bool               `json:"informational,omitempty"`
	Counts        map[string]int64   `json:"counts"`
	Stats         map[string]float64 `json:"stats,omitempty"`
	Evidence      []Evidence         `json:"evidence,omitempty"`
	Notes         []string           `json:"notes,omitempty"`
}

// Evidence is one anomaly (or one reason for unknown) and the exact
// events that prove it.
type Evidence struct {
	Message string            `json:"message"`
	Events  []histories.Event `json:"events,omitempty"`
}

// maxEvidence caps the anomalies listed per check; Counts keeps the total.
const maxEvidence = 20

// Check checks every property of a history.
func Check(ctx context.Context, h []histories.Event, opts Options) Results {
	if opts.LivenessBound == 0 {
		opts.LivenessBound = 2*opts.TTL + 10*time.Second
	}
	if opts.LinearizabilityTimeout == 0 {
		opts.LinearizabilityTimeout = 30 * time.Second
	}
	hist := index(h)
	rec := replayRecord(hist, opts)
	checks := []CheckResult{
		checkRaftSafety(hist),
		checkTerms(hist),
		checkGranted(hist, rec),
		checkRegister(ctx, hist, rec, opts),
		checkObservers(hist, rec),
		checkLiveness(hist, opts),
		checkLeases(hist, rec),
		checkSplitBrain(hist),
	}
	return combine(checks)
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

// fail records one anomaly, keeping at most maxEvidence of them.
func (c *CheckResult) fail(msg string, events ...histories.Event) {
	c.Verdict = Invalid
	c.Counts["anomalies"]++
	if len(c.Evidence) < maxEvidence {
		c.Evidence = append(c.Evidence, Evidence{Message: msg, Events: events})
	}
}

// unknown marks the check undecided, unless it is already invalid.
func (c *CheckResult) unknown(why string) {
	if c.Verdict != Invalid {
		c.Verdict = Unknown
	}
	c.Notes = append(c.Notes, why)
}
