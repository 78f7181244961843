package clock

import (
	"math"
	"testing"
	"time"
)

func TestFamilyMapping(t *testing.T) {
	cases := []struct {
		f    family
		t    int64
		want int64
	}{
		{family{rate: one}, 12345, 12345},
		{family{base: 1000, offset: 5e9, rate: one}, 3000, 5e9 + 3000},
		{family{base: 1e18, rate: one / 2}, 1e18 + 2e9, 1e18 + 1e9},
		{family{base: 1e18, rate: 2 * one}, 1e18 + 3600e9, 1e18 + 7200e9}, // an hour at double speed: no overflow
		{family{base: 1e18, rate: one / 2}, 1e18 - 2e9, 1e18 - 1e9},
	}
	for _, c := range cases {
		if got := c.f.at(c.t); got != c.want {
			t.Errorf("%+v at %d = %d, want %d", c.f, c.t, got, c.want)
		}
	}
}

func TestNextIsContinuousAndMonotonic(t *testing.T) {
	now := int64(1e18)
	fast := identity.next(Skew{Rate: 2}, now, now)
	later := now + 10e9
	lead := fast.monotonic.at(later) - later // 10s ahead after 10s at double speed
	if lead != 10e9 {
		t.Fatalf("lead %d, want 10s", lead)
	}
	// Resetting cannot take the monotonic clock back: it keeps its lead.
	reset := fast.next(None, later, later)
	if got := reset.monotonic.at(later); got != fast.monotonic.at(later) {
		t.Errorf("monotonic jumps from %d to %d at the reset", fast.monotonic.at(later), got)
	}
	// The wall clock may jump: a bump of -3s reads 3s behind.
	bump := identity.next(Skew{Offset: -3 * time.Second, Rate: 1}, now, now)
	if got := bump.realtime.at(now + 1e9); got != now+1e9-3e9 {
		t.Errorf("bumped wall clock %d", got)
	}
}

func TestSkewValidate(t *testing.T) {
	for _, s := range []Skew{{Rate: 0}, {Rate: -1}, {Rate: math.Inf(1)}, {Rate: 1, MonotonicOffset: -time.Second}} {
		if s.Validate() == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	if err := None.Validate(); err != nil {
		t.Error(err)
	}
}
