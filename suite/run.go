package suite

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"slices"
	"strings"
	"sync"
	"time"

	"github.com/election-harness/harness/run"
)

// Config is the run of entry e: its settings, the suite's defaults, and
// the store its run directory goes into.
func (s Suite) Config(e Entry, store string) (run.Config, error) {
	c := run.NewConfig()
	c.DB, c.Version, c.Recipe, c.Consistency, c.Readers, c.Seed, c.Store = e.DB, e.Version, e.Recipe, e.Consistency, e.Readers, e.Seed, store
	c.Nemesis = nil
	if n := strings.TrimSpace(e.Nemesis); n != "" && n != "none" {
		c.Nemesis = strings.Split(n, ",")
	}
	d := s.Defaults
	given := map[string]bool{}
	for _, dur := range []struct {
		key, flag string
		v         string
		into      *run.Duration
	}{{"time_limit", "time-limit", d.TimeLimit, &c.TimeLimit}, {"ttl", "ttl", d.TTL, &c.TTL}, {"nemesis_interval", "nemesis-interval", d.NemesisInterval, &c.NemesisInterval}} {
		if dur.v == "" {
			continue
		}
		v, err := time.ParseDuration(dur.v)
		if err != nil {
			return c, fmt.Errorf("defaults.%s %q: %w", dur.key, dur.v, err)
		}
		*dur.into, given[dur.flag] = run.Duration(v), true
	}
	if d.Nodes > 0 {
		c.Nodes = d.Nodes
	}
	if d.Campaigners > 0 {
		c.Campaigners = d.Campaigners
	}
	c.Failpoints = d.Failpoints
	c.Options = d.Options
	if d.HoldUntilLost != nil {
		c.HoldUntilLost = *d.HoldUntilLost
	}
	if d.HoldThroughStops != nil {
		c.HoldThroughStops = *d.HoldThroughStops
	}
	c.ServerLogLevel, c.FailOn = d.ServerLogLevel, d.FailOn
	if c.ElectsThroughAPIServers() {
		if d.APIServers > 0 {
			c.APIServers = d.APIServers
		}
		c.KubeVersion = d.KubeVersion
	}
	if d.SnapshotCount > 0 {
		c.SnapshotCount = d.SnapshotCount
	}
	if v, patches, ok := strings.Cut(e.Version, "+"); ok {
		c.Version, c.Patches = v, strings.Split(patches, "+")
	}
	if err := c.CheckGiven(func(flag string) bool { return given[flag] }); err != nil {
		return c, err
	}
	return c, nil
}

// Validate checks every entry as its run would check its settings,
// before any runs: a suite with an entry that cannot run is refused
// whole, naming each such entry. It returns the notes of the entries'
// runs, each once.
func (s Suite) Validate(entries []Entry, store string) ([]string, error) {
	var bad, notes []string
	for _, e := range entries {
		c, err := s.Config(e, store)
		var ns []string
		if err == nil {
			ns, err = c.Validate()
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("[%d] %s: %v", e.Index, e, err))
			continue
		}
		for _, n := range ns {
			if !slices.Contains(notes, n) {
				notes = append(notes, n)
			}
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%d of %d runs cannot run (none was started):\n  %s", len(bad), len(entries), strings.Join(bad, "\n  "))
	}
	return notes, nil
}

// Options are how a suite's runs are carried out.
type Options struct {
	// Store is the directory of the runs' results.
	Store string
	// Parallel is how many runs run at a time (each a cluster of its own).
	Parallel int
	// Run is how each run is carried out (its Stdout and Stderr are
	// replaced: a run's console output is its own).
	Run run.Options
	// Log gets a line per finished run; nil: none.
	Log io.Writer
	// Budget, if set, bounds the suite's wall time: an entry is started
	// only while the time left holds a run as long as the longest so far
	// (before any finished, its time limit and a minute of set-up and
	// check). Entries not started are left out of the results, counted in
	// NotRun: a presubmit tier runs as many seeds as fit.
	Budget time.Duration
}

// budgetStartup is what a run takes besides its time limit, before one
// has finished to say: the cluster's start, the heal, the final reads
// and the check.
const budgetStartup = time.Minute

// Run runs entries, opts.Parallel at a time, through the engine, and
// reads what each found from its Result. A cancelled ctx interrupts the
// running runs (which heal their faults and remove their clusters) and
// starts no more; what finished is kept.
func (s Suite) Run(ctx context.Context, entries []Entry, opts Options, started time.Time, shardSpec string) Results {
	if opts.Parallel < 1 {
		opts.Parallel = 1
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	res := Results{Name: s.Name, Shard: shardSpec, Started: started, HarnessVersion: opts.Run.HarnessVersion, Outcomes: make([]Outcome, len(entries))}
	var wg sync.WaitGroup
	var logMu sync.Mutex
	var longest time.Duration // the longest finished run, under logMu
	sem := make(chan struct{}, opts.Parallel)
	skipped := make([]bool, len(entries))
	for i, e := range entries {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			res.Outcomes[i] = Outcome{Entry: e, Verdict: "error", Summary: "not run: the suite was interrupted"}
			continue
		}
		var need time.Duration
		if opts.Budget > 0 {
			logMu.Lock()
			need = longest
			logMu.Unlock()
			if need == 0 {
				need = s.timeLimit(e, opts.Store) + budgetStartup
			}
			if time.Since(started)+need > opts.Budget {
				<-sem
				skipped[i] = true
				continue
			}
		}
		startedAfter := time.Since(started)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var line bytes.Buffer
			o := s.runEntry(ctx, e, opts, &line)
			o.StartedAfter, o.BudgetNeed = roundSeconds(startedAfter), roundSeconds(need)
			res.Outcomes[i] = o
			logMu.Lock()
			longest = max(longest, time.Duration(o.Seconds*float64(time.Second)))
			opts.Log.Write(line.Bytes())
			logMu.Unlock()
		}()
	}
	wg.Wait()
	if opts.Budget > 0 {
		kept := res.Outcomes[:0]
		for i, o := range res.Outcomes {
			if skipped[i] {
				res.NotRun++
				continue
			}
			kept = append(kept, o)
		}
		res.Outcomes, res.Budget = kept, opts.Budget.String()
	}
	return res
}

// roundSeconds is d in seconds, to the tenth.
func roundSeconds(d time.Duration) float64 {
	return float64(d.Round(100*time.Millisecond)) / float64(time.Second)
}

// timeLimit is entry e's time limit, as its run will have it.
func (s Suite) timeLimit(e Entry, store string) time.Duration {
	c, err := s.Config(e, store)
	if err == nil {
		_, err = c.Validate()
	}
	if err != nil {
		return 0
	}
	return time.Duration(c.TimeLimit)
}

// runEntry runs one entry and reads what it found from its Result.
func (s Suite) runEntry(ctx context.Context, e Entry, opts Options, log io.Writer) (o Outcome) {
	start := time.Now()
	o = Outcome{Entry: e}
	defer func() {
		// A crash of one run is that run's error, not the suite's end.
		if r := recover(); r != nil {
			o.Verdict, o.Summary = "error", fmt.Sprintf("the harness crashed: %v", r)
		}
		o.Seconds = time.Since(start).Seconds()
		note := "as expected"
		if !o.Met() {
			note = "expected " + e.Expect
		}
		fmt.Fprintf(log, "[%d] %-60s %-8s (%s) %.0fs\n", e.Index, e, o.Verdict, note, o.Seconds)
	}()
	cfg, err := s.Config(e, opts.Store)
	if err != nil {
		o.Verdict, o.Summary = "error", err.Error()
		return o
	}
	o.KubeVersion = cfg.KubeVersion
	var stderr bytes.Buffer
	ro := opts.Run
	ro.Stdout, ro.Stderr, ro.Log = io.Discard, &stderr, nil
	res, err := run.Run(ctx, cfg, ro)
	o.RunDir = string(res.Dir)
	switch {
	case err != nil:
		// A run that was checked but then failed (its cluster left
		// behind) is an error too.
		o.Verdict, o.Summary = "error", lastLine(err.Error())
	case res.Results != nil:
		o.Verdict, o.Summary = string(res.Results.Valid), res.Results.Summary
		o.noteFindings(*res.Results)
	default:
		o.Verdict, o.Summary = "error", "no verdict: "+lastLine(stderr.String())
	}
	if o.Verdict == "error" {
		if err := o.readFindings(); err != nil {
			fmt.Fprintf(log, "[%d] %v\n", e.Index, err)
		}
	}
	return o
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
