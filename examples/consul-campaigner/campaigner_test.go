package main

import (
	"testing"
	"time"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/electiontest"
)

// Runs of this example are shorter than Consul's default 240 s: enough
// faults to gate on, and make test stays within its budget.
const timeLimit = 100 * time.Second

// TestCampaignerConforms holds the campaigner to the protocol's rules.
func TestCampaignerConforms(t *testing.T) {
	electiontest.CheckCampaigner(t, electiontest.Options{DB: "consul", Campaigner: "."})
}

// TestElection gates this campaigner from `go test`: under pauses it
// must be VALID.
func TestElection(t *testing.T) {
	electiontest.Run(t, electiontest.Options{DB: "consul", Campaigner: ".", Nemesis: "pause", TimeLimit: timeLimit, Seed: 1})
}

// TestElectionCatchesTheUnfencedBuild: built without its fence, the same
// campaigner writes after its session was invalidated, and the test
// would fail.
func TestElectionCatchesTheUnfencedBuild(t *testing.T) {
	res, err := electiontest.Test(t, electiontest.Options{DB: "consul", Campaigner: ".", BuildFlags: []string{"-ldflags", "-X main.fencing=off"},
		Nemesis: "pause", TimeLimit: timeLimit, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != checker.Invalid {
		t.Fatalf("the unfenced build is %s, want INVALID:\n%s", res.Verdict, electiontest.Describe(res))
	}
	t.Logf("caught, as it should be:\n%s", electiontest.Describe(res))
}
