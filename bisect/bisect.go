package bisect

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/semver"
)

// Candidate names a build: a version, and the source patches it is
// built with, joined by "+" ("v3.6.16+ensure-leadership-always-checks").
type Candidate string

// Version is the candidate's version.
func (c Candidate) Version() string { v, _, _ := strings.Cut(string(c), "+"); return v }

// Patches are the candidate's source patches, in order.
func (c Candidate) Patches() []string {
	parts := strings.Split(string(c), "+")
	return parts[1:]
}

// Trial is one run of a candidate.
type Trial struct {
	Seed int64 `json:"seed"`
	// Verdict is the run's: valid, invalid, unknown, error (it could
	// not run, or crashed), or cancelled (stopped because the candidate
	// was already decided).
	Verdict string `json:"verdict"`
	// Invalid are the properties the run found broken (P8, ...).
	Invalid []string `json:"invalid,omitempty"`
	// Summary is the run's one-line summary or error.
	Summary string  `json:"summary,omitempty"`
	RunDir  string  `json:"run_dir,omitempty"`
	Seconds float64 `json:"seconds"`
}

// The verdicts of a candidate.
const (
	Bad       = "bad"
	Good      = "good"
	Undecided = "undecided"
)

// Tested is what the search learnt of one candidate.
type Tested struct {
	Candidate Candidate `json:"candidate"`
	Verdict   string    `json:"verdict"`
	Trials    []Trial   `json:"trials"`
}

// Runner runs the test once on candidate c with seed.
type Runner func(ctx context.Context, c Candidate, seed int64) Trial

// Options say how hard the search looks at each candidate.
type Options struct {
	// Seeds is how many runs make a candidate good.
	Seeds int
	// FirstSeed is the first seed of every candidate's runs.
	FirstSeed int64
	// Parallel is how many runs of a candidate run at a time.
	Parallel int
	// Property is what makes a run bad ("P8"); "" any property.
	Property string
	// Budget bounds the search: no candidate is started once it is
	// spent; 0 is no bound.
	Budget time.Duration
	// TrustEnds skips testing the good and the bad end.
	TrustEnds bool
	// Log gets a line per run and per candidate decided; nil: none.
	Log func(format string, args ...any)
}

// Result is the search's outcome.
type Result struct {
	Good, Bad Candidate
	// Candidates are the good end, the releases between in order, and
	// the bad end.
	Candidates []Candidate `json:"candidates"`
	// Tested are the candidates run, in the order they were.
	Tested []Tested `json:"tested"`
	// FirstBad is the first bad candidate; "" when the search could
	// not say (Conclusion says why).
	FirstBad   Candidate `json:"first_bad,omitempty"`
	LastGood   Candidate `json:"last_good,omitempty"`
	Conclusion string    `json:"conclusion"`
	Seconds    float64   `json:"seconds"`
}

// Between are the releases of all strictly between good and bad in
// semantic-version order from good to bad, pre-releases left out (a
// bisection of releases, as users upgrade). Versions of other release
// branches are kept: v3.5.13..v3.6.16 visits v3.5.14-v3.5.x and
// v3.6.0-v3.6.15. A good release newer than the bad one looks for a
// fix: the releases come newest first, and the first bad one found is
// the last release with the bug.
func Between(all []string, good, bad string) []string {
	lo, hi := good, bad
	if semver.Compare(good, bad) > 0 {
		lo, hi = bad, good
	}
	var out []string
	for _, v := range all {
		if !semver.IsValid(v) || semver.Prerelease(v) != "" {
			continue
		}
		if semver.Compare(v, lo) > 0 && semver.Compare(v, hi) < 0 {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, semver.Compare)
	out = slices.Compact(out)
	if lo != good {
		slices.Reverse(out)
	}
	return out
}

// Search bisects the candidates good, between..., bad.
func Search(ctx context.Context, good, bad Candidate, between []Candidate, opts Options, run Runner) (res Result) {
	start := time.Now()
	if opts.Seeds < 1 {
		opts.Seeds = 1
	}
	if opts.Parallel < 1 {
		opts.Parallel = 1
	}
	if opts.Log == nil {
		opts.Log = func(string, ...any) {}
	}
	cands := append(append([]Candidate{good}, between...), bad)
	res = Result{Good: good, Bad: bad, Candidates: cands}
	defer func() { res.Seconds = time.Since(start).Seconds() }()
	spent := func() bool { return opts.Budget > 0 && time.Since(start) > opts.Budget }
	test := func(c Candidate) string {
		t := testCandidate(ctx, c, opts, run)
		res.Tested = append(res.Tested, t)
		opts.Log("%s: %s (%s)", c, t.Verdict, trialLine(t.Trials))
		return t.Verdict
	}
	lo, hi := 0, len(cands)-1
	if !opts.TrustEnds {
		switch v := test(bad); v {
		case Good:
			res.Conclusion = fmt.Sprintf("the bad end %s found nothing in %d runs: nothing to bisect (more seeds, or a fault that triggers it?)", bad, opts.Seeds)
			return res
		case Undecided:
			res.Conclusion = fmt.Sprintf("the bad end %s is undecided (a run was neither valid nor %s): see its runs", bad, what(opts.Property))
			return res
		}
		if spent() || ctx.Err() != nil {
			res.Conclusion = stopped(ctx, cands, lo, hi)
			return res
		}
		switch v := test(good); v {
		case Bad:
			res.Conclusion = fmt.Sprintf("the good end %s is bad too: the first bad release is %s or older", good, good)
			return res
		case Undecided:
			res.Conclusion = fmt.Sprintf("the good end %s is undecided (a run was neither valid nor %s): see its runs", good, what(opts.Property))
			return res
		}
	}
	for hi-lo > 1 {
		if spent() || ctx.Err() != nil {
			res.Conclusion = stopped(ctx, cands, lo, hi)
			return res
		}
		mid := (lo + hi) / 2
		switch test(cands[mid]) {
		case Bad:
			hi = mid
		case Good:
			lo = mid
		default:
			res.Conclusion = fmt.Sprintf("%s is undecided (a run was neither valid nor %s), so the search stopped: the first bad release is after %s and at or before %s", cands[mid], what(opts.Property), cands[lo], cands[hi])
			return res
		}
	}
	res.FirstBad, res.LastGood = cands[hi], cands[lo]
	res.Conclusion = fmt.Sprintf("first bad: %s (%s is good, %d runs each way)", cands[hi], cands[lo], opts.Seeds)
	if semver.Compare(good.Version(), bad.Version()) > 0 {
		// Searched from a fix back toward the bug: the releases came
		// newest first.
		res.Conclusion = fmt.Sprintf("first bad: %s, the newest release with it (fixed in %s, which is good; %d runs each way)", cands[hi], cands[lo], opts.Seeds)
	}
	if cands[hi].Version() != cands[lo].Version() {
		res.Conclusion += fmt.Sprintf("; the module proxy lists releases, not the commits between them: bisect the commits between %s and %s with git and --binary", cands[lo].Version(), cands[hi].Version())
	}
	return res
}

func what(property string) string {
	if property == "" {
		return "invalid"
	}
	return "invalid on " + property
}

func stopped(ctx context.Context, cands []Candidate, lo, hi int) string {
	why := "the time budget was spent"
	if ctx.Err() != nil {
		why = "it was interrupted"
	}
	return fmt.Sprintf("the search stopped (%s): the first bad release is after %s and at or before %s (%d between)", why, cands[lo], cands[hi], hi-lo-1)
}

// testCandidate runs up to opts.Seeds seeds of c, opts.Parallel at a
// time, and stops at the first run that is bad.
func testCandidate(ctx context.Context, c Candidate, opts Options, run Runner) Tested {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	trials := make([]Trial, opts.Seeds)
	var wg sync.WaitGroup
	sem := make(chan struct{}, opts.Parallel)
	for i := range opts.Seeds {
		seed := opts.FirstSeed + int64(i)
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			trials[i] = Trial{Seed: seed, Verdict: "cancelled", Summary: "not run: the candidate was decided"}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t := run(ctx, c, seed)
			t.Seed = seed
			if ctx.Err() != nil && t.Verdict != "invalid" {
				t.Verdict = "cancelled"
			}
			trials[i] = t
			opts.Log("  %s seed %d: %s %s", c, seed, t.Verdict, strings.Join(t.Invalid, ","))
			if isBad(t, opts.Property) {
				cancel()
			}
		}()
	}
	wg.Wait()
	verdict := Good
	for _, t := range trials {
		switch {
		case isBad(t, opts.Property):
			return Tested{Candidate: c, Verdict: Bad, Trials: trials}
		case t.Verdict != "valid":
			verdict = Undecided
		}
	}
	if ctx.Err() != nil && verdict == Good {
		verdict = Undecided
	}
	return Tested{Candidate: c, Verdict: verdict, Trials: trials}
}

// isBad says whether t found the property (any, if property is "").
func isBad(t Trial, property string) bool {
	if t.Verdict != "invalid" {
		return false
	}
	return property == "" || slices.Contains(t.Invalid, property)
}

// trialLine is "3 valid, 1 invalid (P8)".
func trialLine(ts []Trial) string {
	counts := map[string]int{}
	var order []string
	for _, t := range ts {
		k := t.Verdict
		if t.Verdict == "invalid" && len(t.Invalid) > 0 {
			k += " (" + strings.Join(t.Invalid, ",") + ")"
		}
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	return strings.Join(parts, ", ")
}

// Markdown is the result as a table, a row per candidate tested, in
// version order, then the conclusion.
func (r Result) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "| candidate | verdict | runs | seeds (verdict) |\n| --- | --- | --- | --- |\n")
	byCand := map[Candidate]Tested{}
	for _, t := range r.Tested {
		byCand[t.Candidate] = t
	}
	for _, c := range r.Candidates {
		t, ok := byCand[c]
		if !ok {
			given := map[Candidate]string{r.Good: Good, r.Bad: Bad}[c]
			if given != "" {
				fmt.Fprintf(&b, "| %s%s | %s (trusted, not run) | – | – |\n", c, firstBadMark(c, r.FirstBad), given)
			}
			continue
		}
		var seeds []string
		for _, tr := range t.Trials {
			if tr.Verdict == "cancelled" {
				continue
			}
			s := fmt.Sprintf("%d %s", tr.Seed, tr.Verdict)
			if len(tr.Invalid) > 0 {
				s += " " + strings.Join(tr.Invalid, ",")
			}
			seeds = append(seeds, s)
		}
		fmt.Fprintf(&b, "| %s%s | %s | %s | %s |\n", c, firstBadMark(c, r.FirstBad), t.Verdict, trialLine(t.Trials), strings.Join(seeds, "; "))
	}
	fmt.Fprintf(&b, "\n%s. Not run: %d of %d candidates.\n", r.Conclusion, len(r.Candidates)-len(r.Tested), len(r.Candidates))
	return b.String()
}

func firstBadMark(c, firstBad Candidate) string {
	if c == firstBad {
		return " **first bad**"
	}
	return ""
}
