package main

import (
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
