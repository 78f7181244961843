package consul

import "github.com/election-harness/harness/db"

var _ db.KnownBugs = DB{}

// knownBugs are the Consul bugs of the README's track record that a
// run with a safe recipe meets. #18271 is the client's (api.Lock), met
// only by the stock recipe, and so is the recipe's to own.
var knownBugs = []db.KnownBug{
	{
		ID: "consul-2644", Property: "P4", Kind: "is not linearizable",
		Title:    "Consul #2644: a newly elected leader answers default-mode reads before it has applied its predecessor's commits (fixed for consistent reads only)",
		Link:     "https://github.com/hashicorp/consul/issues/2644",
		Affected: []db.VersionRange{{}},
		// A power loss (lose-unsynced) restarts members as kill does:
		// the start-up the issue is about.
		Faults:   []string{"kill", "pause", "freeze", "partition", "wipe", "lose-unsynced"},
		ReadMode: "default",
	},
}

// KnownBugs lists Consul's known bugs.
func (DB) KnownBugs() []db.KnownBug { return knownBugs }
