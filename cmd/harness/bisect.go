package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/election-harness/harness/bisect"
	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/registry"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/run"
)

func bisectCmd() *cobra.Command {
	cfg := run.NewConfig()
	var good, bad, from, property, out string
	var seeds, parallel int
	var budget time.Duration
	var trustEnds bool
	c := &cobra.Command{
		Use:   "bisect --good V --bad V [run flags] | bisect --from RUN_DIR --good V",
		Short: "Find the first bad release between a good and a bad one (seeded runs of one test per release)",
		Long: `Find the first release of the database that breaks a property, between one
that does not (--good) and one that does (--bad). The releases in between are
the versions the Go module proxy lists (tagged releases; pre-releases left
out; every release branch in version order), each built and cached as
` + "`harness run`" + ` builds one. Each release visited runs --seeds seeded runs of the
same test (the run flags, or the config.json of --from RUN_DIR, a run that
failed), --parallel at a time: a release is bad as soon as a run breaks
--property (any property if none is named), good when every run is valid,
and undecided otherwise, which stops the search and says where. Both ends
are run first unless --trust-ends.

A candidate may carry source patches, VERSION+PATCH (` + "`harness run --patch`" + `):
--good v3.6.16+ensure-leadership-always-checks --bad v3.6.16 measures a
control build against the stock one, the same way.

The module proxy lists releases, not the commits between them: the search
stops at the first bad release and says so; bisect its commits with git and
--binary.

Writes bisect.json and bisect.md (the table) into --out, with the runs
under --out/store. Exit 0 when it named the first bad release, 1 when it
could not, 3 when it could not start.`,
		Example: `  harness bisect --good v3.5.13 --bad v3.6.16 --nemesis pause:raft-leader-long --ttl 10s --property P8 --seeds 5
  harness bisect --from store/TEST/20261206T101010 --good v3.5.13
  harness bisect --good v3.6.16+ensure-leadership-always-checks --bad v3.6.16 --nemesis pause:raft-leader-long --ttl 10s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			given := givenFlags(cmd)
			if from != "" {
				loaded, prop, err := bisectFrom(from, given)
				if err != nil {
					return setupError("--from: %v", err)
				}
				loaded.CacheDir, loaded.Store = cfg.CacheDir, cfg.Store
				if given["seed"] {
					loaded.Seed = cfg.Seed
				}
				cfg = loaded
				if bad == "" {
					bad = cfg.Version
				}
				if property == "" {
					property = prop
				}
			} else if err := cfg.CheckGiven(func(f string) bool { return given[f] }); err != nil {
				return setupError("%v", err)
			}
			if good == "" || bad == "" {
				return setupError("--good and --bad are needed (--bad defaults to the version of --from's run)")
			}
			if cfg.Binary != "" || cfg.FromImage != "" {
				return setupError("--binary or --image: bisect builds each release itself from --good, --bad and the releases between")
			}
			if given["version"] {
				return setupError("--version: bisect sets each run's version itself (give --good and --bad)")
			}
			if seeds < 1 || parallel < 1 {
				return setupError("--seeds and --parallel: want at least 1")
			}
			if out == "" {
				out = filepath.Join(cfg.Store, "bisect-"+time.Now().UTC().Format("20060102T150405"))
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return setupError("--out: %v", err)
			}
			cfg.Store = filepath.Join(out, "store")
			return runBisect(cmd.Context(), cfg, bisect.Candidate(good), bisect.Candidate(bad), bisect.Options{
				Seeds: seeds, FirstSeed: cfg.Seed, Parallel: parallel, Property: property, Budget: budget, TrustEnds: trustEnds,
			}, out)
		},
	}
	cfg.Flags(c.Flags())
	fl := c.Flags()
	fl.StringVar(&good, "good", "", "a release (VERSION or VERSION+PATCH) that does not break the property")
	fl.StringVar(&bad, "bad", "", "a release that does (default: --from's run's version)")
	fl.StringVar(&from, "from", "", "a run directory whose test (config.json) is bisected; its version is --bad, the property it broke --property")
	fl.StringVar(&property, "property", "", "the property that makes a run bad (P8); default any")
	fl.IntVar(&seeds, "seeds", 10, "runs per release (seeds --seed, --seed+1, ...): all valid makes a release good")
	fl.IntVar(&parallel, "parallel", 1, "runs of a release at a time (each a cluster of its own)")
	fl.DurationVar(&budget, "budget", 0, "start no release once this much time is spent (0: no bound)")
	fl.BoolVar(&trustEnds, "trust-ends", false, "take --good and --bad at their word instead of running them first")
	fl.StringVar(&out, "out", "", "where bisect.json, bisect.md and the runs go (default --store/bisect-TIME)")
	return c
}

// bisectFrom is the test of a stored run and the property it broke
// (the first invalid one), unless run flags were given too.
func bisectFrom(dir string, given map[string]bool) (run.Config, string, error) {
	for f := range given {
		if !slices.Contains([]string{"from", "good", "bad", "property", "seeds", "parallel", "budget", "trust-ends", "out", "store", "cache", "seed"}, f) {
			return run.Config{}, "", fmt.Errorf("--%s: the test is --from's run's; give no run flags with it", f)
		}
	}
	rd := histories.RunDir(dir)
	cfg, err := run.ReadConfig(rd)
	if err != nil {
		return run.Config{}, "", err
	}
	var res checker.Results
	prop := ""
	if b, err := os.ReadFile(filepath.Join(dir, "results.json")); err == nil && json.Unmarshal(b, &res) == nil {
		for _, ch := range res.Checks {
			if ch.Verdict == checker.Invalid && !ch.Informational {
				prop = ch.Property
				break
			}
		}
	}
	return cfg, prop, nil
}

// runBisect lists the releases between the ends, searches them with
// real runs, and writes the result.
func runBisect(parent context.Context, cfg run.Config, good, bad bisect.Candidate, opts bisect.Options, out string) error {
	d, err := registry.Lookup(cfg.DB)
	if err != nil {
		return setupError("%v", err)
	}
	// Each end is checked as its runs will be; the bad end's check also
	// fills in the database's defaults that every run shares.
	base := slices.Clone(cfg.Patches)
	for _, c := range []bisect.Candidate{good, bad} {
		if err := db.ValidVersion(c.Version()); err != nil {
			return setupError("%v", err)
		}
		cc := cfg
		cc.Version, cc.Patches = c.Version(), append(slices.Clone(base), c.Patches()...)
		if _, err := cc.Validate(); err != nil {
			return setupError("%s: %v", c, err)
		}
		if c == bad {
			cfg, cfg.Patches = cc, base
		}
	}
	ctx, stop := untilStopSignal(parent)
	defer stop()
	var between []bisect.Candidate
	if good.Version() != bad.Version() {
		if rel, ok := d.(db.Releases); ok {
			all, err := rel.Releases(ctx, cfg.CacheDir)
			if err != nil {
				return setupError("%v", err)
			}
			for _, v := range bisect.Between(all, good.Version(), bad.Version()) {
				between = append(between, bisect.Candidate(v))
			}
		} else {
			fmt.Fprintf(os.Stderr, "harness: note: the harness cannot list %s's releases: only the two ends are run\n", d.Name())
		}
	}
	self, err := run.StaticSelf()
	if err != nil {
		return setupError("%v", err)
	}
	fmt.Fprintf(os.Stderr, "bisect %s: %s (good) .. %s (bad), %d releases between, %d runs each (property %s)\n",
		d.Name(), good, bad, len(between), opts.Seeds, or(opts.Property, "any"))
	opts.Log = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	runOpts := run.Options{Harness: self, HarnessVersion: harnessVersion(), CheckCommand: []string{self, checkChildCmdName}}
	res := bisect.Search(ctx, good, bad, between, opts, func(ctx context.Context, c bisect.Candidate, seed int64) bisect.Trial {
		return bisectTrial(ctx, cfg, c, seed, runOpts)
	})
	md := fmt.Sprintf("# harness bisect: %s %s .. %s\n\nTest: `%s` (seeds %d-%d, property %s), %s, %.0f s.\n\n%s",
		d.Name(), good, bad, testCommand(cfg), opts.FirstSeed, opts.FirstSeed+int64(opts.Seeds)-1, or(opts.Property, "any"),
		time.Now().UTC().Format("2006-01-02"), res.Seconds, res.Markdown())
	b, _ := json.MarshalIndent(struct {
		Test     string  `json:"test"`
		Property string  `json:"property,omitempty"`
		Seeds    int     `json:"seeds"`
		Harness  string  `json:"harness_version"`
		Date     string  `json:"date"`
		Result   any     `json:"result"`
		Seconds  float64 `json:"seconds"`
	}{testCommand(cfg), opts.Property, opts.Seeds, harnessVersion(), time.Now().UTC().Format(time.RFC3339), res, res.Seconds}, "", "  ")
	if err := errors.Join(os.WriteFile(filepath.Join(out, "bisect.json"), append(b, '\n'), 0o644),
		os.WriteFile(filepath.Join(out, "bisect.md"), []byte(md), 0o644)); err != nil {
		return setupError("writing the result: %v", err)
	}
	fmt.Print(res.Markdown())
	fmt.Printf("written to %s\n", out)
	if res.FirstBad == "" {
		return &exitError{code: exitInvalid}
	}
	return nil
}

// bisectTrial is one run of the test on candidate c.
func bisectTrial(ctx context.Context, cfg run.Config, c bisect.Candidate, seed int64, opts run.Options) bisect.Trial {
	start := time.Now()
	cfg.Version, cfg.Patches, cfg.Seed = c.Version(), append(slices.Clone(cfg.Patches), c.Patches()...), seed
	res, err := run.Run(ctx, cfg, opts)
	t := bisect.Trial{RunDir: string(res.Dir), Seconds: time.Since(start).Seconds()}
	switch {
	case err != nil:
		t.Verdict, t.Summary = "error", lastLine(err.Error())
	case res.Results == nil:
		t.Verdict, t.Summary = "error", "no verdict"
	default:
		t.Verdict, t.Summary = string(res.Results.Valid), res.Results.Summary
		for _, ch := range res.Results.Checks {
			if ch.Verdict == checker.Invalid && !ch.Informational {
				t.Invalid = append(t.Invalid, ch.Property)
			}
		}
	}
	return t
}

// testCommand is the run's command without its version and seed, which
// the bisection sets.
func testCommand(cfg run.Config) string {
	var keep []string
	args := cfg.Args()
	for i := 0; i < len(args); i++ {
		if args[i] == "--version" || args[i] == "--seed" {
			i++
			continue
		}
		keep = append(keep, args[i])
	}
	return "harness run " + strings.Join(keep, " ")
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
