package main

import (
	"strings"
	"testing"
)

// TestCampaignerCheck: the example campaigner and the built-in recipe
// hold every rule; each mutant of the example breaks the rule it was
// built to break, and the check names it and its section.
func TestCampaignerCheck(t *testing.T) {
	needDocker(t)
	for _, c := range []struct {
		name, recipe, ldflags string
		broken                string // "" : every rule holds
	}{
		{name: "example", ldflags: ""},
		{name: "built-in", recipe: "etcd-election"},
		{name: "cached-campaign", ldflags: "-X main.mutant=cached-campaign", broken: "no-stale-term"},
		{name: "no-lost", ldflags: "-X main.mutant=no-lost", broken: "lost-on-session-end"},
		{name: "bare-token", ldflags: "-X main.mutant=bare-token", broken: "token-fields"},
	} {
		t.Run(c.name, func(t *testing.T) {
			recipe := c.recipe
			if recipe == "" {
				var args []string
				if c.ldflags != "" {
					args = []string{"-ldflags", c.ldflags}
				}
				recipe = "exec:" + buildExample(t, "campaigner-"+c.name, args...)
			}
			store := t.TempDir()
			r := harness(t, "campaigner-check", recipe, "--store", store)
			t.Logf("stdout:\n%s\nstderr tail:\n%s", r.stdout, tail(r.stderr, 1500))
			if c.broken == "" {
				if r.code != 0 || !strings.Contains(r.stdout, "every rule held") || strings.Contains(r.stdout, "BROKEN") {
					t.Fatalf("exit %d; want 0, every rule held", r.code)
				}
				return
			}
			if r.code != 1 {
				t.Fatalf("exit %d, want 1 (a rule broken)", r.code)
			}
			for _, l := range strings.Split(r.stdout, "\n") {
				if strings.HasPrefix(l, "BROKEN") && strings.Contains(l, " "+c.broken+" ") {
					if !strings.Contains(r.stdout, "see docs/campaigner-protocol.md") {
						t.Errorf("the broken rule does not name its section of the protocol")
					}
					return
				}
			}
			t.Fatalf("rule %s not reported BROKEN", c.broken)
		})
	}
}
