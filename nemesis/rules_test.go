package nemesis

import (
	"strings"
	"testing"
)

// Every kind has rules, every rule belongs to a kind, and names are
// unique within their kind.
func TestRuleTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range RuleTable {
		if !strings.Contains(strings.Join(Kinds, ","), r.Kind) {
			t.Errorf("rule %s of unknown kind %s", r.Name, r.Kind)
		}
		if seen[r.Kind+":"+r.Name] {
			t.Errorf("rule %s:%s twice", r.Kind, r.Name)
		}
		seen[r.Kind+":"+r.Name] = true
		if r.Does == "" || r.MinMembers < 1 || r.Weight < 0 {
			t.Errorf("rule %s:%s: incomplete %+v", r.Kind, r.Name, r)
		}
		if r.Fallback != "" {
			if fb, ok := LookupRule(r.Kind, r.Fallback); !ok || fb.MinMembers >= r.MinMembers {
				t.Errorf("rule %s:%s falls back to %q, which is not a rule needing fewer members", r.Kind, r.Name, r.Fallback)
			}
		}
		if _, err := ParseKinds(r.Kind + ":" + r.Name); err != nil {
			t.Errorf("%s:%s: %v", r.Kind, r.Name, err)
		}
	}
	for _, k := range Kinds {
		if len(Rules(k)) == 0 {
			t.Errorf("kind %s has no rules", k)
		}
	}
}

// Each kind's file holds its own rules only, and kinds are named once.
func TestKindsHoldTheirOwnRules(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range allKinds {
		if seen[k.name] || k.does == "" || k.resolve == nil {
			t.Errorf("kind %q: twice, or without what it does or how it resolves", k.name)
		}
		seen[k.name] = true
		for _, r := range k.rules {
			if r.Kind != k.name {
				t.Errorf("kind %s holds rule %s:%s", k.name, r.Kind, r.Name)
			}
		}
	}
}

func TestPreconditions(t *testing.T) {
	for _, tc := range []struct {
		entries []string
		members int
		err     string // "" : accepted
		note    string // a note expected ("" : none)
	}{
		{[]string{"partition", "pause", "kill"}, 5, "", ""},
		{[]string{"partition", "pause", "kill"}, 3, "", "partition: rule majorities-ring needs 5 members, runs as bridge with 3"},
		{[]string{"partition:majorities-ring"}, 3, "partition:majorities-ring needs 5 members, not 3", ""},
		{[]string{"partition:majorities-ring"}, 5, "", ""},
		{[]string{"partition:bridge"}, 2, "partition:bridge needs 3 members, not 2", ""},
		{[]string{"wipe"}, 2, "wipe: no rule of it can run with 2 members (it needs 3)", ""},
		{[]string{"wipe:raft-leader"}, 1, "needs 3 members", ""},
		{[]string{"clock"}, 1, "", "clock: rule others-slow needs 2 members, is not applied with 1"},
		{[]string{"pause:random-member"}, 1, "", ""},
	} {
		notes, err := Preconditions(tc.entries, tc.members)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%v with %d: %v", tc.entries, tc.members, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v with %d: error %v, want %q", tc.entries, tc.members, err, tc.err)
		}
		if tc.note != "" && !strings.Contains(strings.Join(notes, "\n"), tc.note) {
			t.Errorf("%v with %d: notes %q, want %q", tc.entries, tc.members, notes, tc.note)
		}
		if tc.note == "" && tc.err == "" && len(notes) > 0 {
			t.Errorf("%v with %d: unexpected notes %q", tc.entries, tc.members, notes)
		}
	}
}
