package nemesis

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestUpgrade(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		start string // every member's first version
		rule  string
		fail  error // of Prepare
		// want is the journal of the fault's start and stop, without
		// the history's lines.
		want []string
		// after says what is off the final version once it is stopped.
		after []string
	}{
		{name: "next member rolls forward; heal leaves it there", start: "old", rule: UpgradeNextMember,
			want:  []string{"versions prepare n1 new", "n1 kill wipe=false", "n1 start-with server-new n1", "versions moved n1 new"},
			after: []string{"n2 on old", "n3 on old"}},
		{name: "raft leader on the final version rolls back, and forward when healed", rule: TargetRaftLeader,
			want: []string{"versions prepare n2 old", "n2 kill wipe=false", "n2 start-with server-old n2", "versions moved n2 old",
				"versions prepare n2 new", "n2 kill wipe=false", "n2 start-with server-new n2", "versions moved n2 new"}},
		{name: "a move the database refuses leaves the member running", rule: TargetRaftLeader, fail: errors.New("refused"),
			want: []string{"versions prepare n2 old"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := newFakeCluster(t, 3, 2)
			fc.versions.start, fc.versions.failPrepare = tc.start, tc.fail
			f, err := fc.x.Start(ctx, Step{Kind: KindUpgrade, Rule: tc.rule, Duration: time.Second, Pick: 1})
			if err != nil {
				t.Fatal(err)
			}
			fc.x.Stop(ctx, f.ID)
			acts := fc.j.acts()
			if !slices.Equal(acts, tc.want) {
				t.Errorf("acts %q\nwant %q", acts, tc.want)
			}
			if got := fc.versions.offFinal(fc.x.Members); !slices.Equal(got, tc.after) {
				t.Errorf("off the final version: %q, want %q", got, tc.after)
			}
		})
	}
}

// HealAll ends a run with every member on the final version, moved one
// at a time after every other fault is healed.
func TestHealAllMovesEveryMemberToTheFinalVersion(t *testing.T) {
	fc := newFakeCluster(t, 3, 2)
	fc.versions.start = "old"
	ctx := context.Background()
	if _, err := fc.x.Start(ctx, Step{Kind: KindPause, Rule: TargetRaftLeader, Duration: time.Second, Pick: 1}); err != nil {
		t.Fatal(err)
	}
	if err := fc.x.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	if left := fc.healed(); left != "" {
		t.Fatalf("left: %s", left)
	}
	all := fc.j.all()
	lastHeal := -1
	for i, l := range all {
		if l == "n1 heal" || l == "n2 heal" || l == "n3 heal" {
			lastHeal = i
		}
	}
	if first := slices.Index(all, "versions prepare n1 new"); first < lastHeal {
		t.Errorf("a member moved before every agent healed: %q", all)
	}
}

func TestNeedsVersions(t *testing.T) {
	for _, tc := range []struct {
		kinds []string
		want  bool
	}{{nil, false}, {[]string{"partition", "kill"}, false}, {[]string{"partition", "upgrade"}, true}, {[]string{"upgrade:raft-leader"}, true}} {
		if got := NeedsVersions(tc.kinds); got != tc.want {
			t.Errorf("NeedsVersions(%q) = %v", tc.kinds, got)
		}
	}
}
