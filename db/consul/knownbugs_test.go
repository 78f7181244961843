package consul

import "testing"

// TestKnownStaleReadAtStartUp: Consul #2644 is named for a stale read in
// the default read mode on a run whose faults elect a new leader or
// restart members, and for nothing else.
func TestKnownStaleReadAtStartUp(t *testing.T) {
	const msg = `register r is not linearizable: stale read: c3:r read "c5/378/87" after "c5/378/88" had overwritten it (a read in "default" consistency mode)`
	for _, tc := range []struct {
		faults   []string
		readMode string
		want     bool
	}{
		{[]string{"kill:raft-leader"}, "default", true},
		{[]string{"lose-unsynced"}, "default", true},
		{[]string{"partition", "pause"}, "default", true},
		{[]string{"lose-unsynced"}, "consistent", false},
		{[]string{"clock"}, "default", false},
	} {
		matched := false
		for _, b := range (DB{}).KnownBugs() {
			if b.ID == "consul-2644" && b.Matches("P4", msg, []string{"v1.20.6"}, tc.faults, tc.readMode) {
				matched = true
			}
		}
		if matched != tc.want {
			t.Errorf("faults %v, %s reads: named #2644 %v, want %v", tc.faults, tc.readMode, matched, tc.want)
		}
	}
}
