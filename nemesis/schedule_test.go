package nemesis

import (
	"reflect"
	"testing"
	"time"
)

func TestPlanIsAFunctionOfItsInputs(t *testing.T) {
	kinds := []string{KindPartition, KindPause, KindKill}
	a := Plan(7, kinds, 5*time.Second, 60*time.Second)
	b := Plan(7, kinds, 5*time.Second, 60*time.Second)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed gave different schedules:\n%v\n%v", a, b)
	}
	c := Plan(8, kinds, 5*time.Second, 60*time.Second)
	if reflect.DeepEqual(a, c) {
		t.Fatalf("seeds 7 and 8 gave the same schedule %v", a)
	}
}

func TestPlanBounds(t *testing.T) {
	for seed := int64(1); seed <= 50; seed++ {
		steps := Plan(seed, []string{KindPause, KindPartition}, 5*time.Second, 60*time.Second)
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
	}
	for _, c := range cases {
		got, err := ParseKinds(c.in)
		if (err != nil) != c.wantErr || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseKinds(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.wantErr)
		}
	}
}

func TestNoKindsNoFaults(t *testing.T) {
	if s := Plan(1, nil, 5*time.Second, time.Minute); len(s) != 0 {
		t.Fatalf("no kinds gave %d steps", len(s))
	}
}

func TestPlanNarrowedToOneRule(t *testing.T) {
	for _, s := range Plan(3, []string{"clock:" + ClockSlowElectionLeader}, 5*time.Second, time.Minute) {
		if s.Kind != KindClock || s.Rule != ClockSlowElectionLeader {
			t.Fatalf("step %+v: want only clock slow-election-leader", s)
		}
	}
}
