package nemesis

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestPlanIsAFunctionOfItsInputs(t *testing.T) {
	kinds := []string{KindPartition, KindPause, KindKill}
	a := Plan(7, kinds, Pace{Interval: 5 * time.Second, TimeLimit: 60 * time.Second})
	b := Plan(7, kinds, Pace{Interval: 5 * time.Second, TimeLimit: 60 * time.Second})
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed gave different schedules:\n%v\n%v", a, b)
	}
	c := Plan(8, kinds, Pace{Interval: 5 * time.Second, TimeLimit: 60 * time.Second})
	if reflect.DeepEqual(a, c) {
		t.Fatalf("seeds 7 and 8 gave the same schedule %v", a)
	}
}

func TestPlanBounds(t *testing.T) {
	for seed := int64(1); seed <= 50; seed++ {
		steps := Plan(seed, []string{KindPause, KindPartition}, Pace{Interval: 5 * time.Second, TimeLimit: 60 * time.Second})
		if len(steps) < 3 {
			t.Fatalf("seed %d: only %d faults in 60s at a 5s interval", seed, len(steps))
		}
		var prevEnd time.Duration
		for _, s := range steps {
			if s.Start < prevEnd {
				t.Errorf("seed %d: step %+v overlaps the previous one (ended %v)", seed, s, prevEnd)
			}
			if s.Start+s.Duration > 60*time.Second {
				t.Errorf("seed %d: step %+v runs past the time limit", seed, s)
			}
			if s.Kind != KindPause && s.Kind != KindPartition {
				t.Errorf("seed %d: kind %q not asked for", seed, s.Kind)
			}
			if s.Rule == "" {
				t.Errorf("seed %d: step without a rule", seed)
			}
			prevEnd = s.Start + s.Duration
		}
	}
}

func TestParseKinds(t *testing.T) {
	cases := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"none", nil, false},
		{"", nil, false},
		{"partition,pause,kill", []string{"partition", "pause", "kill"}, false},
		{"pause, pause", []string{"pause"}, false},
		{"partition,flood", nil, true},
		{"clock:slow-election-leader,pause", []string{"clock:slow-election-leader", "pause"}, false},
		{"clock:slow-everyone", nil, true},
		{"pause:random-member", []string{"pause:random-member"}, false},
	}
	for _, c := range cases {
		got, err := ParseKinds(c.in)
		if (err != nil) != c.wantErr || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseKinds(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.wantErr)
		}
	}
}

func TestNoKindsNoFaults(t *testing.T) {
	if s := Plan(1, nil, Pace{Interval: 5 * time.Second, TimeLimit: time.Minute}); len(s) != 0 {
		t.Fatalf("no kinds gave %d steps", len(s))
	}
}

func TestPlanNarrowedToOneRule(t *testing.T) {
	for _, s := range Plan(3, []string{"clock:" + ClockSlowElectionLeader}, Pace{Interval: 5 * time.Second, TimeLimit: time.Minute}) {
		if s.Kind != KindClock || s.Rule != ClockSlowElectionLeader {
			t.Fatalf("step %+v: want only clock slow-election-leader", s)
		}
	}
}

// A pause or freeze of the election leader outlives the store's lease
// (unless the run ends first); other faults keep their drawn length.
func TestLeaderPausesOutliveTheLease(t *testing.T) {
	pace := Pace{Interval: 5 * time.Second, TimeLimit: 120 * time.Second, LeaseExpiry: 8 * time.Second}
	short := 0
	for seed := int64(1); seed <= 30; seed++ {
		for _, s := range Plan(seed, []string{KindPause, KindFreeze, KindPartition}, pace) {
			leaderStop := (s.Kind == KindPause || s.Kind == KindFreeze) && s.Rule == TargetElectionLeader
			ranToTheEnd := s.Start+s.Duration == pace.TimeLimit
			if leaderStop && s.Duration < pace.LeaseExpiry+time.Second && !ranToTheEnd {
				t.Errorf("seed %d: %+v: the election leader is stopped for less than its lease", seed, s)
			}
			if !leaderStop && s.Duration < pace.LeaseExpiry {
				short++
			}
		}
	}
	if short == 0 {
		t.Errorf("no fault other than a leader pause was shorter than the lease: the floor applies to all")
	}
}

// A rule of weight 0 comes up only when asked for by name.
func TestZeroWeightRulesOnlyWhenNamed(t *testing.T) {
	pace := Pace{Interval: 5 * time.Second, TimeLimit: 5 * time.Minute}
	named := 0
	for seed := int64(1); seed <= 20; seed++ {
		for _, s := range Plan(seed, []string{KindPause}, pace) {
			if s.Rule == TargetRandomMember {
				t.Fatalf("seed %d: %+v: a weight-0 rule was dealt", seed, s)
			}
		}
		for _, s := range Plan(seed, []string{KindPause + ":" + TargetRandomMember}, pace) {
			if s.Rule != TargetRandomMember {
				t.Fatalf("seed %d: %+v: want only pause:random-member", seed, s)
			}
			named++
		}
	}
	if named == 0 {
		t.Fatal("pause:random-member planned nothing")
	}
}

// Every step of a long rule outlasts the lease expiry by its margin
// (the old holder must still be cut off when the next one takes the
// lock; the old raft leader must still be stopped when the next holder
// renews through its successor); the short twin keeps its durations.
func TestLongRulesOutlastLease(t *testing.T) {
	p := Pace{Interval: 5 * time.Second, TimeLimit: 400 * time.Second, LeaseExpiry: 30 * time.Second}
	for _, tc := range []struct {
		long, short string
		margin      time.Duration
	}{
		{KindPartition + ":" + GrudgeIsolateElectionLeaderLong, KindPartition + ":" + GrudgeIsolateElectionLeader, LongIsolationMargin},
		{KindPause + ":" + TargetRaftLeaderLong, KindPause + ":" + TargetRaftLeader, LongStopMargin},
	} {
		for seed := int64(1); seed <= 20; seed++ {
			steps := Plan(seed, []string{tc.long}, p)
			if len(steps) < 3 {
				t.Fatalf("%s seed %d: %d steps in 400 s", tc.long, seed, len(steps))
			}
			for i, s := range steps {
				last := i == len(steps)-1 && s.Start+s.Duration == p.TimeLimit // cut by the time limit
				if !last && s.Duration < p.LeaseExpiry+tc.margin {
					t.Fatalf("%s seed %d step %d lasts %v, want at least %v", tc.long, seed, i, s.Duration, p.LeaseExpiry+tc.margin)
				}
			}
			short := Plan(seed, []string{tc.short}, p)
			if slices.ContainsFunc(short, func(s Step) bool { return s.Duration > 2*p.Interval }) {
				t.Fatalf("%s seed %d: got longer than 2 intervals: %v", tc.short, seed, short)
			}
		}
	}
}
