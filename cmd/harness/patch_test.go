package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/run"
)

// A control build runs as the stock one does (issue 22): v3.6.16 built
// with the source patch that takes the isActive shortcut out of
// ensureLeadership, its members logging at debug level, under the
// aimed rule of the paused-leader lease revocation (the raft leader
// stopped past the lease), leaders that never resign. The control
// holds (P8 judged and valid), the run records and reproduces its
// patch, the members' logs are debug logs, some term outlives a
// resign's hold, and nothing is left behind.
func TestControlBuildRun(t *testing.T) {
	needDocker(t)
	store := t.TempDir()
	r := harness(t, "run", "--version", "v3.6.16", "--patch", "ensure-leadership-always-checks", "--server-log-level", "debug",
		"--hold-until-lost", "1", "--ttl", "10s", "--nemesis", "pause:raft-leader-long", "--time-limit", "60s", "--seed", "1", "--store", store)
	t.Logf("stdout:\n%s\nstderr tail:\n%s", r.stdout, tail(r.stderr, 2000))
	if r.code != 0 {
		t.Fatalf("the control build: exit %d, want 0 (valid)", r.code)
	}
	dir := latestRun(t, store)
	b, err := os.ReadFile(filepath.Join(dir, histories.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var cfg run.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Patches, []string{"ensure-leadership-always-checks"}) || !strings.Contains(cfg.Command, "--patch ensure-leadership-always-checks") ||
		cfg.HoldUntilLost != 1 || !strings.Contains(cfg.Command, "--hold-until-lost 1") || !strings.Contains(cfg.Command, "--server-log-level debug") {
		t.Errorf("config.json does not record or reproduce the control build's settings: patches %v, hold %v, command %q", cfg.Patches, cfg.HoldUntilLost, cfg.Command)
	}
	log, err := os.ReadFile(filepath.Join(dir, histories.NodesDir, "n1.log"))
	if err != nil || !strings.Contains(string(log), `"level":"debug"`) {
		t.Errorf("n1's log has no debug line (err %v)", err)
	}
	res := readResults(t, dir)
	p8 := false
	for _, c := range res["checks"].([]any) {
		c := c.(map[string]any)
		if c["property"] == "P8" {
			counts, _ := c["counts"].(map[string]any)
			p8 = c["verdict"] == "valid" && counts["terms-renewed"] != nil
		}
	}
	if !p8 {
		t.Errorf("P8 was not judged valid on renewed terms: %v", res["checks"])
	}
	if got := longestTerm(t, dir); got < 8 {
		t.Errorf("the longest term lasted %.1f s: leaders that never resign should hold past the 4 s a resign allows", got)
	}
	if l := leftovers(t, dir); l != "" {
		t.Errorf("left behind: %s", l)
	}
}

// longestTerm is the longest span, in seconds, between the first and
// last write acknowledged under one term.
func longestTerm(t *testing.T, dir string) float64 {
	t.Helper()
	read, err := histories.ReadFile(filepath.Join(dir, histories.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	first, last := map[histories.Token]int64{}, map[histories.Token]int64{}
	for _, e := range read.Events {
		if e.F != histories.FWrite || e.Type != histories.OK || e.Token == nil {
			continue
		}
		if _, ok := first[*e.Token]; !ok {
			first[*e.Token] = e.Time
		}
		last[*e.Token] = e.Time
	}
	longest := 0.0
	for tok, f := range first {
		longest = max(longest, float64(last[tok]-f)/1e9)
	}
	return longest
}

// TestPlantedBugsCaught: the new checks' controls. v3.6.16 built with a
// planted watch bug (a response at a revision divisible by 25 carries
// its first event twice) is INVALID by P11, its store record staying
// right (P4 valid); built with a planted divergence (n2 applies a
// transaction in 50 with other values) it is INVALID by P9. Each is
// blamed on the database.
func TestPlantedBugsCaught(t *testing.T) {
	needDocker(t)
	for _, c := range []struct {
		patch, property, says string
		valid                 []string // properties the planted bug must not break
	}{
		{patch: "watch-duplicate-event", property: "P11", says: "unique (P11)", valid: []string{"P4", "P9"}},
		{patch: "member-applies-differently", property: "P9", says: "members disagree at revision"},
	} {
		t.Run(c.patch, func(t *testing.T) {
			store := t.TempDir()
			r := harness(t, "run", "--version", "v3.6.16", "--patch", c.patch, "--time-limit", "30s", "--seed", "1", "--store", store)
			t.Logf("stdout:\n%s\nstderr tail:\n%s", r.stdout, tail(r.stderr, 2000))
			if r.code != 1 {
				t.Fatalf("exit %d, want 1 (invalid)", r.code)
			}
			res := readResults(t, latestRun(t, store))
			verdicts, says := map[string]string{}, ""
			for _, ch := range res["checks"].([]any) {
				ch := ch.(map[string]any)
				verdicts[ch["property"].(string)], _ = ch["verdict"].(string)
				if ev, ok := ch["evidence"].([]any); ok && ch["property"] == c.property && len(ev) > 0 {
					says, _ = ev[0].(map[string]any)["message"].(string)
				}
			}
			if verdicts[c.property] != "invalid" {
				t.Errorf("%s %q, want invalid: %v", c.property, verdicts[c.property], verdicts)
			}
			for _, p := range c.valid {
				if verdicts[p] != "valid" {
					t.Errorf("%s %q, want valid: %v", p, verdicts[p], verdicts)
				}
			}
			if !strings.Contains(says, c.says) {
				t.Errorf("%s's first anomaly says %q, want %q", c.property, says, c.says)
			}
			if !strings.Contains(r.stdout, "whose: database broke") {
				t.Errorf("stdout does not say the database broke it")
			}
		})
	}
}
