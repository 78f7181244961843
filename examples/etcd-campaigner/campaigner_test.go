package main

import (
	"strings"
	"testing"
	"time"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/electiontest"
)

// TestElection gates this campaigner from `go test`, as a team gates
// its own: under pauses it must be VALID.
func TestElection(t *testing.T) {
	electiontest.Run(t, electiontest.Options{Campaigner: ".", Nemesis: "pause", TimeLimit: 45 * time.Second, Seed: 2})
}

// TestCampaignerConforms holds the campaigner to the protocol's rules in
// about a minute, before any long run: what a team runs first.
func TestCampaignerConforms(t *testing.T) {
	electiontest.CheckCampaigner(t, electiontest.Options{Campaigner: "."})
}

// TestElectionCatchesTheUnfencedBuild: built without its fence, the same
// campaigner writes after losing its lease, and the test would fail.
func TestElectionCatchesTheUnfencedBuild(t *testing.T) {
	res, err := electiontest.Test(t, electiontest.Options{Campaigner: ".", BuildFlags: []string{"-ldflags", "-X main.fencing=off"},
		Nemesis: "pause", TimeLimit: 45 * time.Second, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != checker.Invalid {
		t.Fatalf("the unfenced build is %s, want INVALID:\n%s", res.Verdict, electiontest.Describe(res))
	}
	t.Logf("caught, as it should be:\n%s", electiontest.Describe(res))
}

// TestElectionCatchesTheKeepTermBuildByItsWrites: built to "heal" a lost
// session by putting its leader key back and keeping its old term, the
// campaigner writes outside that term, and P4 (judged safety, not only
// liveness) says so: a paused leader is not told to resign, so it shows
// what it believes when it runs again.
func TestElectionCatchesTheKeepTermBuildByItsWrites(t *testing.T) {
	res, err := electiontest.Test(t, electiontest.Options{Campaigner: ".", BuildFlags: []string{"-ldflags", "-X main.recreate=keep-term"},
		Nemesis: "pause", TimeLimit: 60 * time.Second, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Results == nil {
		t.Fatalf("no verdict: %s", electiontest.Describe(res))
	}
	for _, c := range res.Results.Checks {
		if c.Property == "P4" && c.Verdict == checker.Invalid {
			t.Logf("caught by P4, as it should be:\n%s", electiontest.Describe(res))
			return
		}
	}
	t.Fatalf("the keep-term build is not caught by P4 (a write outside its term):\n%s", electiontest.Describe(res))
}

// TestACampaignerThatDoesNotObserveIsJudged: observe is optional. Built to
// decline it, the campaigner is judged by the other properties (VALID),
// and P5 says it was not checked.
func TestACampaignerThatDoesNotObserveIsJudged(t *testing.T) {
	res := electiontest.Run(t, electiontest.Options{Campaigner: ".", BuildFlags: []string{"-ldflags", "-X main.mutant=no-observe"},
		Nemesis: "pause", TimeLimit: 45 * time.Second, Seed: 2})
	for _, c := range res.Results.Checks {
		if c.Property == "P5" && (!c.Informational || len(c.Notes) == 0 || !strings.HasPrefix(c.Notes[0], "not checked")) {
			t.Errorf("P5 informational %v, notes %v: want not checked", c.Informational, c.Notes)
		}
	}
}
