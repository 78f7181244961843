package run

import (
	"fmt"
	"slices"
	"strings"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/registry"
)

// The gate policies (--fail-on): which anomalies fail a run's gate.
// The verdict is always the checker's; a policy only decides the exit
// code, and every anomaly it accepts is printed and kept.
const (
	// FailOnAll fails on any anomaly (the default).
	FailOnAll = "all"
	// FailOnRecipe fails on the recipe's anomalies and those nobody can
	// be blamed for; the database's and the client library's are
	// reported, not failed on: a team gating its own election code.
	FailOnRecipe = "recipe"
	// FailOnNew fails on every anomaly but a known database bug.
	FailOnNew = "new"
)

// FailOnPolicies are the --fail-on values, the default first.
var FailOnPolicies = []string{FailOnAll, FailOnRecipe, FailOnNew}

// judge names the known database bugs among res's anomalies, says whose
// the anomalies are (Results.Whose), and applies the run's gate policy
// to an invalid verdict (Results.Gate).
func judge(res *checker.Results, cfg Config) {
	if d, err := registry.Lookup(cfg.DB); err == nil {
		if kb, ok := d.(db.KnownBugs); ok {
			nameKnownBugs(res, kb.KnownBugs(), cfg)
		}
	}
	res.Whose = checker.Whose(*res)
	if res.Valid == checker.Invalid {
		res.Gate = gate(*res, cfg.failOn())
	}
}

// failOn is the run's policy, all when it names none.
func (c Config) failOn() string {
	if c.FailOn == "" {
		return FailOnAll
	}
	return c.FailOn
}

// nameKnownBugs marks each of the database's anomalies that matches a
// known bug of its driver's list.
func nameKnownBugs(res *checker.Results, bugs []db.KnownBug, cfg Config) {
	versions := distinct(cfg.Versions())
	for i := range res.Checks {
		c := &res.Checks[i]
		for j := range c.Evidence {
			e := &c.Evidence[j]
			if e.Blame == nil || e.Blame.Party != checker.PartyDatabase {
				continue
			}
			for _, b := range bugs {
				if b.Matches(c.Property, e.Message, versions, cfg.Nemesis, cfg.Consistency) {
					e.Blame.Known = &checker.Known{ID: b.ID, Title: b.Title, Link: b.Link}
					break
				}
			}
		}
		for key := range c.Unlisted {
			party, kind := checker.UnlistedParty(key)
			if party != checker.PartyDatabase {
				continue
			}
			for _, b := range bugs {
				if b.Matches(c.Property, kind, versions, cfg.Nemesis, cfg.Consistency) {
					if c.UnlistedKnown == nil {
						c.UnlistedKnown = map[string]string{}
					}
					c.UnlistedKnown[key] = b.ID
					break
				}
			}
		}
	}
}

// gate decides an invalid run under policy: it passes when the policy
// accepts every anomaly, and a check with more anomalies than it lists
// cannot be shown to be accepted.
func gate(res checker.Results, policy string) *checker.Gate {
	g := &checker.Gate{FailOn: policy, Passed: true}
	for _, c := range res.Checks {
		if c.Informational || c.Verdict != checker.Invalid {
			continue
		}
		var unlisted int64
		for key, n := range c.Unlisted {
			unlisted += n
			party, kind := checker.UnlistedParty(key)
			_, known := c.UnlistedKnown[key]
			if !accepts(policy, party, known) {
				g.Passed, g.Failing = false, fmt.Sprintf("%s, %s: %d more anomalies: %s", c.Property, party, n, kind)
				return g
			}
		}
		if c.Counts[checker.CountAnomalies] > int64(len(c.Evidence))+unlisted && policy != FailOnAll {
			g.Passed, g.Failing = false, fmt.Sprintf("%s found %d anomalies and lists %d: the rest cannot be shown to be accepted", c.Property, c.Counts[checker.CountAnomalies], len(c.Evidence))
			return g
		}
		for _, e := range c.Evidence {
			party, known := checker.PartyUndecided, false
			if e.Blame != nil {
				party, known = e.Blame.Party, e.Blame.Known != nil
			}
			if !accepts(policy, party, known) {
				g.Passed, g.Failing = false, fmt.Sprintf("%s, %s: %s", c.Property, party, e.Message)
				return g
			}
			who := string(party)
			if known {
				who += " (known: " + e.Blame.Known.ID + ")"
			}
			g.Accepted = append(g.Accepted, fmt.Sprintf("%s, %s: %s", c.Property, who, e.Message))
		}
	}
	return g
}

// accepts says whether policy lets an anomaly of party (a known
// database bug if known) pass the gate.
func accepts(policy string, party checker.Party, known bool) bool {
	switch policy {
	case FailOnRecipe:
		return party == checker.PartyDatabase || party == checker.PartyClientLibrary
	case FailOnNew:
		return party == checker.PartyDatabase && known
	}
	return false
}

// checkFailOn refuses a --fail-on the harness does not know.
func (c Config) checkFailOn() error {
	if c.FailOn != "" && !slices.Contains(FailOnPolicies, c.FailOn) {
		return fmt.Errorf("--fail-on %q: want %s", c.FailOn, strings.Join(FailOnPolicies, ", "))
	}
	return nil
}
