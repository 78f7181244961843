package run

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
)

// Every golden run's first anomaly says whose it is: the paused-leader
// runs the database's, and a known bug; each unsafe control the
// recipe's; the recipe that takes Campaign's word the recipe's, with a
// reason that names the client library's part. The run's "whose" line
// says so too.
func TestGoldenBlame(t *testing.T) {
	for _, tc := range []struct {
		golden string
		party  checker.Party
		known  string
		why    string
	}{
		{"etcd-paused-leader-aimed", checker.PartyDatabase, "etcd-paused-leader-revocation", "lease"},
		{"etcd-paused-leader-p8", checker.PartyDatabase, "etcd-paused-leader-revocation", "lease"},
		{"etcd-unfenced-p4", checker.PartyRecipe, "", "outside its term"},
		{"etcd-cached-p4", checker.PartyRecipe, "", "outside its term"},
		{"etcd-check-then-act-p4", checker.PartyRecipe, "", "outside its term"},
		{"consul-unfenced-p4", checker.PartyRecipe, "", "outside its term"},
		{"etcd-trust-campaign-p3", checker.PartyRecipe, "", "client library"},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(goldenDir, tc.golden, histories.ResultsFile))
			if err != nil {
				t.Fatal(err)
			}
			var res checker.Results
			if err := json.Unmarshal(b, &res); err != nil {
				t.Fatal(err)
			}
			var first *checker.Evidence
			for _, c := range res.Checks {
				if c.Verdict == checker.Invalid && !c.Informational {
					first = &c.Evidence[0]
					break
				}
			}
			if first == nil || first.Blame == nil {
				t.Fatalf("no blamed first anomaly in %s", tc.golden)
			}
			bl := first.Blame
			if bl.Party != tc.party || !strings.Contains(bl.Why, tc.why) {
				t.Errorf("blame %q (%s), want %q saying %q", bl.Party, bl.Why, tc.party, tc.why)
			}
			gotKnown := ""
			if bl.Known != nil {
				gotKnown = bl.Known.ID
			}
			if gotKnown != tc.known {
				t.Errorf("known %q, want %q", gotKnown, tc.known)
			}
			if !strings.HasPrefix(res.Whose, string(tc.party)) {
				t.Errorf("whose %q does not lead with %q", res.Whose, tc.party)
			}
		})
	}
}

// The gate policies on a run's anomalies: all fails on any; recipe
// passes the database's and the client library's and fails on the
// recipe's and undecided ones; new passes known database bugs alone. A
// check that lists fewer anomalies than it found cannot pass a policy
// that accepts some.
func TestGate(t *testing.T) {
	known := &checker.Known{ID: "x"}
	res := func(blames ...checker.Blame) checker.Results {
		c := checker.CheckResult{Property: "P8", Verdict: checker.Invalid, Counts: map[string]int64{"anomalies": int64(len(blames))}}
		for i := range blames {
			c.Evidence = append(c.Evidence, checker.Evidence{Message: "m", Blame: &blames[i]})
		}
		return checker.Results{Valid: checker.Invalid, Checks: []checker.CheckResult{c}}
	}
	db := checker.Blame{Party: checker.PartyDatabase}
	dbKnown := checker.Blame{Party: checker.PartyDatabase, Known: known}
	lib := checker.Blame{Party: checker.PartyClientLibrary}
	recipe := checker.Blame{Party: checker.PartyRecipe}
	undecided := checker.Blame{Party: checker.PartyUndecided}
	for _, tc := range []struct {
		policy string
		res    checker.Results
		passed bool
	}{
		{FailOnAll, res(dbKnown), false},
		{FailOnRecipe, res(db, dbKnown, lib), true},
		{FailOnRecipe, res(db, recipe), false},
		{FailOnRecipe, res(undecided), false},
		{FailOnNew, res(dbKnown), true},
		{FailOnNew, res(dbKnown, db), false},
		{FailOnNew, res(lib), false},
	} {
		g := gate(tc.res, tc.policy)
		if g.Passed != tc.passed || g.FailOn != tc.policy {
			t.Errorf("%s on %v: passed %v (%s), want %v", tc.policy, tc.res.Checks[0].Evidence, g.Passed, g.Failing, tc.passed)
		}
		if g.Passed && len(g.Accepted) != len(tc.res.Checks[0].Evidence) {
			t.Errorf("%s: %d accepted, want every anomaly listed", tc.policy, len(g.Accepted))
		}
	}
	many := res(db)
	many.Checks[0].Counts["anomalies"] = 25
	if g := gate(many, FailOnRecipe); g.Passed || !strings.Contains(g.Failing, "lists 1") {
		t.Errorf("25 anomalies, 1 listed: passed %v (%s)", g.Passed, g.Failing)
	}
	// The unlisted ones counted by whose and what they are: accepted
	// when the policy accepts each kind, a known bug's where one matches.
	dbKey := checker.UnlistedKey(checker.PartyDatabase, "bookmarkable (P11): the watch of n1 ...")
	recipeKey := checker.UnlistedKey(checker.PartyRecipe, "lost write: c1's ...")
	for _, tc := range []struct {
		name     string
		unlisted map[string]int64
		known    map[string]string
		policy   string
		passed   bool
	}{
		{"database's, recipe policy", map[string]int64{dbKey: 24}, nil, FailOnRecipe, true},
		{"database's unknown, new policy", map[string]int64{dbKey: 24}, nil, FailOnNew, false},
		{"database's known, new policy", map[string]int64{dbKey: 24}, map[string]string{dbKey: "x"}, FailOnNew, true},
		{"a recipe's among them", map[string]int64{dbKey: 20, recipeKey: 4}, nil, FailOnRecipe, false},
		{"fewer counted than found", map[string]int64{dbKey: 10}, nil, FailOnRecipe, false},
	} {
		r := res(dbKnown)
		r.Checks[0].Counts["anomalies"] = 25
		r.Checks[0].Unlisted, r.Checks[0].UnlistedKnown = tc.unlisted, tc.known
		if g := gate(r, tc.policy); g.Passed != tc.passed {
			t.Errorf("%s: passed %v (%s), want %v", tc.name, g.Passed, g.Failing, tc.passed)
		}
	}
}
