package bisect

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/semver"
)

// fakeRunner is a database whose releases from firstBad on break P8 in
// the seeds listed (every seed when hits is nil), and are valid
// otherwise; it counts the runs of each candidate.
type fakeRunner struct {
	firstBad string
	hits     map[int64]bool
	other    map[Candidate]string // a candidate whose runs end so instead
	mu       sync.Mutex
	runs     map[Candidate]int
}

func (f *fakeRunner) run(ctx context.Context, c Candidate, seed int64) Trial {
	f.mu.Lock()
	if f.runs == nil {
		f.runs = map[Candidate]int{}
	}
	f.runs[c]++
	f.mu.Unlock()
	if v, ok := f.other[c]; ok {
		return Trial{Verdict: v}
	}
	bad := semver.Compare(c.Version(), f.firstBad) >= 0 && len(c.Patches()) == 0
	if bad && (f.hits == nil || f.hits[seed]) {
		return Trial{Verdict: "invalid", Invalid: []string{"P8"}}
	}
	return Trial{Verdict: "valid"}
}

func cands(vs ...string) []Candidate {
	var out []Candidate
	for _, v := range vs {
		out = append(out, Candidate(v))
	}
	return out
}

func TestSearch(t *testing.T) {
	releases := []string{"v3.5.12", "v3.5.13", "v3.5.14", "v3.5.15", "v3.5.16", "v3.5.17", "v3.6.0-rc.1", "v3.6.0", "v3.6.1", "v3.6.16", "v3.6.17"}
	between := func(good, bad string) []Candidate { return cands(Between(releases, good, bad)...) }
	for _, tc := range []struct {
		name      string
		good, bad Candidate
		runner    *fakeRunner
		opts      Options
		firstBad  Candidate
		concl     string
		maxRuns   map[Candidate]int
	}{
		{name: "every seed hits", good: "v3.5.13", bad: "v3.6.16", runner: &fakeRunner{firstBad: "v3.5.16"},
			opts: Options{Seeds: 4, FirstSeed: 1}, firstBad: "v3.5.16", concl: "first bad: v3.5.16",
			// a bad candidate stops at its first bad run; a good one needs all four
			maxRuns: map[Candidate]int{"v3.6.16": 1, "v3.5.13": 4, "v3.5.16": 1, "v3.5.15": 4}},
		{name: "one seed in four hits", good: "v3.5.13", bad: "v3.6.16", runner: &fakeRunner{firstBad: "v3.5.16", hits: map[int64]bool{3: true}},
			opts: Options{Seeds: 4, FirstSeed: 1, Parallel: 2}, firstBad: "v3.5.16", concl: "first bad: v3.5.16"},
		{name: "the first release between", good: "v3.5.13", bad: "v3.6.16", runner: &fakeRunner{firstBad: "v3.5.14"},
			opts: Options{Seeds: 2, FirstSeed: 1}, firstBad: "v3.5.14"},
		{name: "the bad end itself", good: "v3.5.13", bad: "v3.6.16", runner: &fakeRunner{firstBad: "v3.6.16"},
			opts: Options{Seeds: 2, FirstSeed: 1}, firstBad: "v3.6.16"},
		{name: "bad end finds nothing", good: "v3.5.13", bad: "v3.6.16", runner: &fakeRunner{firstBad: "v9.0.0"},
			opts: Options{Seeds: 2, FirstSeed: 1}, concl: "found nothing in 2 runs"},
		{name: "good end is bad", good: "v3.5.13", bad: "v3.6.16", runner: &fakeRunner{firstBad: "v3.5.12"},
			opts: Options{Seeds: 2, FirstSeed: 1}, concl: "the good end v3.5.13 is bad too"},
		{name: "trusted ends are not run", good: "v3.5.13", bad: "v3.6.16", runner: &fakeRunner{firstBad: "v9.0.0"},
			opts: Options{Seeds: 2, FirstSeed: 1, TrustEnds: true}, firstBad: "v3.6.16", maxRuns: map[Candidate]int{"v3.5.13": 0, "v3.6.16": 0}},
		{name: "another property is not this bug", good: "v3.5.13", bad: "v3.6.16", runner: &fakeRunner{firstBad: "v3.5.16", other: map[Candidate]string{"v3.5.16": "unknown"}},
			opts: Options{Seeds: 2, FirstSeed: 1, Property: "P8"}, concl: "v3.5.16 is undecided"},
		{name: "a control build is good", good: "v3.6.16+ensure-leadership-always-checks", bad: "v3.6.16", runner: &fakeRunner{firstBad: "v3.5.16"},
			opts: Options{Seeds: 3, FirstSeed: 1}, firstBad: "v3.6.16", concl: "first bad: v3.6.16 (v3.6.16+ensure-leadership-always-checks is good"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var between_ []Candidate
			if tc.good.Version() != tc.bad.Version() {
				between_ = between(tc.good.Version(), tc.bad.Version())
			}
			res := Search(context.Background(), tc.good, tc.bad, between_, tc.opts, tc.runner.run)
			if res.FirstBad != tc.firstBad {
				t.Fatalf("first bad %q, want %q (%s)\n%s", res.FirstBad, tc.firstBad, res.Conclusion, res.Markdown())
			}
			if !strings.Contains(res.Conclusion, tc.concl) {
				t.Fatalf("conclusion %q, want it to say %q", res.Conclusion, tc.concl)
			}
			for c, n := range tc.maxRuns {
				if got := tc.runner.runs[c]; got > n {
					t.Errorf("%s ran %d times, want at most %d", c, got, n)
				}
			}
			if res.FirstBad != "" && !strings.Contains(res.Markdown(), string(res.FirstBad)+" **first bad**") {
				t.Errorf("the table does not mark the first bad:\n%s", res.Markdown())
			}
		})
	}
}

// Between keeps releases strictly inside the range, in order, and leaves
// pre-releases out.
func TestBetween(t *testing.T) {
	got := Between([]string{"v3.6.0", "v3.5.9", "v3.5.10", "v3.6.0-rc.1", "v3.5.13", "v3.7.0", "junk"}, "v3.5.9", "v3.7.0")
	if want := "v3.5.10 v3.5.13 v3.6.0"; strings.Join(got, " ") != want {
		t.Fatalf("got %v, want %s", got, want)
	}
	// A fix: good is the newer; the releases come from it toward bad.
	got = Between([]string{"v3.5.10", "v3.5.11", "v3.5.12", "v3.5.13", "v3.5.14"}, "v3.5.14", "v3.5.10")
	if want := "v3.5.13 v3.5.12 v3.5.11"; strings.Join(got, " ") != want {
		t.Fatalf("fix: got %v, want %s", got, want)
	}
}

// A spent budget stops the search between candidates and says what
// range is left.
func TestSearchBudget(t *testing.T) {
	slow := func(ctx context.Context, c Candidate, seed int64) Trial {
		time.Sleep(30 * time.Millisecond)
		if semver.Compare(c.Version(), "v1.0.5") >= 0 {
			return Trial{Verdict: "invalid"}
		}
		return Trial{Verdict: "valid"}
	}
	var vs []Candidate
	for i := 1; i < 9; i++ {
		vs = append(vs, Candidate(fmt.Sprintf("v1.0.%d", i)))
	}
	res := Search(context.Background(), "v1.0.0", "v1.0.9", vs, Options{Seeds: 1, Budget: 50 * time.Millisecond}, slow)
	if res.FirstBad != "" || !strings.Contains(res.Conclusion, "time budget") {
		t.Fatalf("got %q: %s", res.FirstBad, res.Conclusion)
	}
	if res.Seconds < 0.05 {
		t.Fatalf("the search took %.3f s by its result, at least the 50 ms budget by the clock", res.Seconds)
	}
}
