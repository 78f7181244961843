package db

import "testing"

func TestKnownBugMatches(t *testing.T) {
	b := KnownBug{Property: "P8", Kind: "lease ended early", Affected: []VersionRange{{From: "v3.5.16"}}, Faults: []string{"pause", "freeze"}}
	for _, tc := range []struct {
		property, msg string
		versions      []string
		faults        []string
		want          bool
	}{
		{"P8", "lease ended early: c4's lease", []string{"v3.6.16"}, []string{"pause:raft-leader-long"}, true},
		{"P8", "lease ended early: c4's lease", []string{"v3.5.16"}, []string{"partition", "freeze"}, true},
		{"P8", "lease ended early: c4's lease", []string{"v3.5.15"}, []string{"pause"}, false},
		{"P8", "lease ended early: c4's lease", []string{"v3.5.15", "v3.6.16"}, []string{"pause"}, true}, // a mixed cluster
		{"P8", "lease ended early: c4's lease", []string{"v3.6.16"}, []string{"kill"}, false},
		{"P8", "lease ended early: c4's lease", []string{"v3.6.16"}, nil, false},
		{"P7", "lease ended early: c4's lease", []string{"v3.6.16"}, []string{"pause"}, false},
		{"P8", "something else", []string{"v3.6.16"}, []string{"pause"}, false},
	} {
		if got := b.Matches(tc.property, tc.msg, tc.versions, tc.faults, ""); got != tc.want {
			t.Errorf("Matches(%s, %q, %v, %v) = %v, want %v", tc.property, tc.msg, tc.versions, tc.faults, got, tc.want)
		}
	}
	rm := KnownBug{Property: "P4", Kind: "is not linearizable", Affected: []VersionRange{{}}, ReadMode: "default"}
	if !rm.Matches("P4", "register r is not linearizable: x", []string{"v1.20.6"}, nil, "default") || rm.Matches("P4", "register r is not linearizable: x", []string{"v1.20.6"}, nil, "consistent") {
		t.Error("a read-mode bug must match its read mode alone")
	}
	r := VersionRange{From: "v3.6.0", Before: "v3.6.5"}
	if !r.Contains("v3.6.4") || r.Contains("v3.6.5") || r.Contains("v3.5.22") {
		t.Error("VersionRange: From inclusive, Before exclusive")
	}
}
