package run

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/registry"
	"github.com/election-harness/harness/kube"
	"github.com/election-harness/harness/nemesis"
	"github.com/election-harness/harness/workloads"
)

// DefaultNemesis is the nemesis of a run that names none. Besides
// partitions, pauses (mostly of the election leader) and kills, one
// fault in four stops a random campaigner. Most campaigners are waiting
// in their campaign, and a waiter that outlives its session while it
// waits is how a campaign comes to return a grant that was never real
// (etcd #19597). docs/detection-notes.md measures why it is dealt so
// often. Runs record their --nemesis, so a run made under another
// default reproduces with its command.
const DefaultNemesis = "partition,pause,kill,pause:random-campaigner"

// NewConfig is a run's settings before any are given: what `harness
// run` with no flags does.
func NewConfig() Config {
	return Config{DB: registry.Default().Name(), Nodes: 3, Campaigners: 5, Nemesis: strings.Split(DefaultNemesis, ","), Seed: 1, Store: "store", CacheDir: db.DefaultCacheDir(),
		HoldUntilLost: DefaultHoldUntilLost, HoldThroughStops: true}
}

// Flags binds every run setting to a flag of fl, with c's values as the
// defaults. Args is derived from the same flags, so a setting has one
// name everywhere.
func (c *Config) Flags(fl *pflag.FlagSet) {
	fl.StringVar(&c.DB, "db", c.DB, "database: "+registry.Or(registry.Names()))
	fl.StringVar(&c.Version, "version", c.Version, "database version to build (default: the pinned version of --db); A,B: members take the versions in turn and end the run on the last; FROM..TO: all start on FROM and end on TO (--nemesis upgrade moves them)")
	fl.StringVar(&c.Binary, "binary", c.Binary, "use this static database binary instead of building one")
	fl.StringVar(&c.FromImage, "image", c.FromImage, "use this image, already on the Docker daemon, which holds the database binary (the agent is copied in)")
	fl.BoolVar(&c.Failpoints, "failpoints", c.Failpoints, "build the database with failpoints (gofail), which the failpoint fault sets; cached apart from the stock build")
	fl.StringSliceVar(&c.Patches, "patch", c.Patches, "build the database from sources changed by this named patch (repeatable; a control build, cached apart): "+registry.PatchesHelp())
	fl.StringVar(&c.ServerLogLevel, "server-log-level", c.ServerLogLevel, "the members' log level: "+registry.LogLevelsHelp()+" (default: the database's)")
	fl.IntVar(&c.SnapshotCount, "snapshot-count", c.SnapshotCount, "members snapshot every N applied entries and keep N for slow followers, so that one cut off for a while catches up by a snapshot (default: the database's)")
	fl.StringVar(&c.FailOn, "fail-on", c.FailOn, "which anomalies fail the run's exit code: all; recipe (the recipe's and undecided ones; the database's and the client library's are printed as warnings, exit 0); new (all but known database bugs) (default all)")
	fl.IntVar(&c.Nodes, "nodes", c.Nodes, "database members (3 or 5)")
	fl.IntVar(&c.Campaigners, "campaigners", c.Campaigners, "competing campaigners")
	fl.IntVar(&c.APIServers, "apiservers", c.APIServers, "kube-apiserver nodes in front of the members, for the Kubernetes recipes ("+strings.Join(apiServerRecipes(), ", ")+"); each campaigner talks to one (default 1 for them)")
	fl.StringVar(&c.KubeVersion, "kube-version", c.KubeVersion, "kube-apiserver release built for the Kubernetes recipes (default "+kube.DefaultVersion+")")
	fl.StringVar(&c.Recipe, "recipe", c.Recipe, "election recipe: "+strings.Join(registry.Recipes().Names(), ", ")+", or exec:PATH (your own campaigner) (default "+registry.DefaultRecipes()+")")
	fl.DurationVar((*time.Duration)(&c.TTL), "ttl", time.Duration(c.TTL), "session (lease) TTL (default "+perDB(func(d db.Defaults) time.Duration { return d.TTL })+")")
	fl.StringVar(&c.Consistency, "consistency", c.Consistency, "read consistency, for "+registry.ReadModesHelp()+" (default: the first)")
	fl.StringToStringVar(&c.Options, "option", c.Options, "a campaigner option of the database's recipes, NAME=VALUE (repeatable): "+registry.OptionsHelp())
	fl.StringVar(&c.Readers, "readers", c.Readers, "how campaigners read the register: all (through every member) or "+ReadersPinned+" (campaigner i through member i mod --nodes alone, no failover, with a read timeout longer than the run's longest fault) (default all)")
	fl.Float64Var(&c.HoldUntilLost, "hold-until-lost", c.HoldUntilLost, "the share of terms (0 to 1, drawn by the seed) whose leader never resigns: it writes until it loses the term or the run ends, as production leaders hold; the other leaders resign after 1-4 s")
	fl.BoolVar(&c.HoldThroughStops, "hold-through-stops", c.HoldThroughStops, "tell no leader to resign while a fault stops or cuts it off, nor for 2×TTL after it runs again: a resumed leader first shows what it believes (=false: the workload of runs recorded before 2026-12-06, with --hold-until-lost 0)")
	fl.Var(nemesisValue{&c.Nemesis}, "nemesis", "faults: a comma-separated list of "+strings.Join(nemesis.Kinds, ", ")+" (KIND:RULE for one rule of a kind), or none")
	fl.DurationVar((*time.Duration)(&c.NemesisInterval), "nemesis-interval", time.Duration(c.NemesisInterval), "mean time between faults (default "+perDB(func(d db.Defaults) time.Duration { return d.NemesisInterval })+")")
	fl.DurationVar((*time.Duration)(&c.TimeLimit), "time-limit", time.Duration(c.TimeLimit), "how long the workload runs under faults (default "+perDB(func(d db.Defaults) time.Duration { return d.TimeLimit })+")")
	fl.Int64Var(&c.Seed, "seed", c.Seed, "seed of the fault schedule and the workload")
	fl.StringVar(&c.Store, "store", c.Store, "directory of run results")
	fl.StringVar(&c.CacheDir, "cache", c.CacheDir, "cache of built database binaries")
	for _, name := range notReproduced {
		if f := fl.Lookup(name); f != nil {
			f.Annotations = map[string][]string{notReproducedAnnotation: {"true"}}
		}
	}
}

// DefaultHoldUntilLost is the share of terms held until lost in a run
// that does not say: a quarter of leaders hold as production leaders do.
const DefaultHoldUntilLost = 0.25

// alwaysReproduced are the flags the reproduce command names even at
// their zero: their defaults changed, and a run recorded before must
// reproduce with its own settings.
var alwaysReproduced = []string{"hold-until-lost", "hold-through-stops"}

// notReproduced are the flags that say where a run keeps things, not
// what it tests: the reproduce command leaves them out.
var notReproduced = []string{"store", "cache"}

const notReproducedAnnotation = "harness/not-reproduced"

// Args are the `harness run` arguments of the run c: every setting that
// decides what it tests, from the flags Flags binds.
func (c Config) Args() []string {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SortFlags = false
	cc := c
	cc.Flags(fs)
	args := []string{}
	fs.VisitAll(func(f *pflag.Flag) {
		if _, skip := f.Annotations[notReproducedAnnotation]; skip {
			return
		}
		v := f.Value.String()
		if f.Value.Type() == "stringToString" {
			// One flag an option, in a stable order (String() is "[a=b]").
			args = append(args, optionArgs("--"+f.Name, c.Options)...)
			return
		}
		if f.Value.Type() == "stringSlice" {
			// One flag a value, in the order given.
			for _, v := range c.Patches {
				args = append(args, "--"+f.Name, v)
			}
			return
		}
		always := slices.Contains(alwaysReproduced, f.Name)
		if f.Value.Type() == "bool" {
			switch {
			case v == "true":
				args = append(args, "--"+f.Name)
			case always:
				args = append(args, "--"+f.Name+"=false")
			}
			return
		}
		if always {
			args = append(args, "--"+f.Name, v)
			return
		}
		if v == "" || ((f.Value.Type() == "int" || f.Value.Type() == "float64") && v == "0") {
			return
		}
		args = append(args, "--"+f.Name, v)
	})
	return args
}

// optionArgs is flag NAME=VALUE for each option, sorted by name.
func optionArgs(flag string, opts map[string]string) []string {
	var args []string
	for _, n := range slices.Sorted(maps.Keys(opts)) {
		args = append(args, flag, n+"="+opts[n])
	}
	return args
}

// optionList is "NAME=VALUE NAME=VALUE", sorted by name.
func optionList(opts map[string]string) string {
	var parts []string
	for i, a := range optionArgs("", opts) {
		if i%2 == 1 {
			parts = append(parts, a)
		}
	}
	return strings.Join(parts, " ")
}

// CommandLine is the shell command that runs the test c again.
func (c Config) CommandLine() string {
	var parts []string
	for _, a := range append([]string{"harness", "run"}, c.Args()...) {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$`\\|&;<>()*?[]#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// nemesisValue is --nemesis: the kinds as given; Validate checks them.
type nemesisValue struct{ kinds *[]string }

func (v nemesisValue) String() string {
	if v.kinds == nil || len(*v.kinds) == 0 {
		return "none"
	}
	return strings.Join(*v.kinds, ",")
}

func (v nemesisValue) Set(s string) error {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		*v.kinds = nil
		return nil
	}
	*v.kinds = strings.Split(s, ",")
	return nil
}

func (nemesisValue) Type() string { return "kinds" }

// DurationSettings are the settings whose zero means "the database's
// default": given explicitly, each must be positive.
var DurationSettings = []string{"ttl", "time-limit", "nemesis-interval"}

// CheckGiven refuses a duration given explicitly (given says which
// flags were) that is not positive: left out, it takes the default.
func (c Config) CheckGiven(given func(flag string) bool) error {
	d, err := registry.Lookup(c.DB)
	if err != nil {
		return err
	}
	def := d.Defaults()
	for _, dur := range []struct {
		flag string
		v    Duration
		def  time.Duration
	}{{"ttl", c.TTL, def.TTL}, {"time-limit", c.TimeLimit, def.TimeLimit}, {"nemesis-interval", c.NemesisInterval, def.NemesisInterval}} {
		if given(dur.flag) && dur.v <= 0 {
			return fmt.Errorf("--%s %v: want a positive duration (leave --%s out for %s's default, %v)", dur.flag, time.Duration(dur.v), dur.flag, d.Name(), dur.def)
		}
	}
	return nil
}

// MinFaults is the fewest faults a run with a nemesis must plan: fewer,
// and a valid verdict would say little about failure.
const MinFaults = 3

// Validate checks the settings before anything is started, filling in
// the database's defaults for those left out and putting the nemesis
// kinds in their canonical form. It starts, builds and writes nothing,
// and takes no time: a run it refuses is refused at once. It returns
// what is worth saying once at the start (the rules of a kind dealt at
// random that degrade with Nodes).
func (c *Config) Validate() (notes []string, err error) {
	d, err := registry.Lookup(c.DB)
	if err != nil {
		return nil, err
	}
	for _, dur := range []struct {
		flag string
		v    Duration
	}{{"ttl", c.TTL}, {"time-limit", c.TimeLimit}, {"nemesis-interval", c.NemesisInterval}} {
		if dur.v < 0 {
			return nil, fmt.Errorf("--%s %v: want a positive duration (leave --%s out for %s's default)", dur.flag, time.Duration(dur.v), dur.flag, d.Name())
		}
	}
	c.applyDefaults(d)
	return c.validate(d)
}

// applyDefaults fills in the database's defaults for the settings left
// out (zero).
func (c *Config) applyDefaults(d db.DB) {
	def := d.Defaults()
	if c.Recipe == "" {
		c.Recipe = def.Recipe
	}
	if c.TTL == 0 {
		c.TTL = Duration(def.TTL)
	}
	if c.TimeLimit == 0 {
		c.TimeLimit = Duration(def.TimeLimit)
	}
	if c.NemesisInterval == 0 {
		c.NemesisInterval = Duration(def.NemesisInterval)
	}
	if c.Version == "" && c.FromImage == "" {
		// A --binary keeps the pinned version as its image's label; an
		// image has the version it has.
		c.Version = d.DefaultVersion()
	}
}

// validate refuses settings that cannot mean what they say, putting the
// read mode, the nemesis kinds and the readers in canonical form.
func (c *Config) validate(d db.DB) (notes []string, err error) {
	def := d.Defaults()
	if c.Consistency, err = registry.ReadMode(d, c.Consistency); err != nil {
		return nil, err
	}
	if len(c.Options) > 0 && strings.HasPrefix(c.Recipe, workloads.ExecPrefix) {
		return nil, fmt.Errorf("--option: options are for %s's built-in recipes, not %s", d.Name(), c.Recipe)
	}
	if err := registry.CheckOptions(d, c.Options); err != nil {
		return nil, fmt.Errorf("--option: %w", err)
	}
	if c.Nodes < 1 || c.Nodes > 9 {
		return nil, fmt.Errorf("--nodes %d: want 1 to 9 members (3 or 5 are usual)", c.Nodes)
	}
	if c.Campaigners < 1 || c.Campaigners > 32 {
		return nil, fmt.Errorf("--campaigners %d: want 1 to 32", c.Campaigners)
	}
	if c.Binary != "" && c.FromImage != "" {
		return nil, fmt.Errorf("--binary and --image: give one (an image holds its own binary)")
	}
	if err := checkRecipe(d, c.Recipe); err != nil {
		return nil, fmt.Errorf("--recipe: %w", err)
	}
	if err := c.checkAPIServers(); err != nil {
		return nil, err
	}
	if time.Duration(c.TTL) < def.MinTTL {
		return nil, fmt.Errorf("--ttl %v: want at least %v for %s", time.Duration(c.TTL), def.MinTTL, d.Name())
	}
	kinds, err := nemesis.ParseKinds(strings.Join(c.Nemesis, ","))
	if err != nil {
		return nil, fmt.Errorf("--nemesis: %w", err)
	}
	c.Nemesis = kinds
	for _, k := range kinds {
		kind, _, _ := strings.Cut(k, ":")
		if slices.Contains(db.Unsupported(d), kind) {
			return nil, fmt.Errorf("--nemesis %s: not supported for %s (it needs %s)", kind, d.Name(), db.Needs(d, kind))
		}
		if kind == nemesis.KindFailpoint && !c.Failpoints {
			return nil, fmt.Errorf("--nemesis %s: a stock build has no failpoints: give --failpoints (%s built with them, cached apart)", kind, d.Name())
		}
	}
	if c.Failpoints {
		if _, ok := d.(db.Failpoints); !ok {
			return nil, fmt.Errorf("--failpoints: %s cannot be built with failpoints", d.Name())
		}
		if c.FromImage != "" {
			return nil, fmt.Errorf("--failpoints and --image: the image holds its own build; give --failpoints with --version (built here) or --binary (your own failpoint build)")
		}
	}
	if c.HoldUntilLost < 0 || c.HoldUntilLost > 1 {
		return nil, fmt.Errorf("--hold-until-lost %v: want a share from 0 to 1", c.HoldUntilLost)
	}
	if err := c.checkFailOn(); err != nil {
		return nil, err
	}
	if err := c.checkBuild(d); err != nil {
		return nil, err
	}
	if time.Duration(c.TimeLimit) < 5*time.Second {
		return nil, fmt.Errorf("--time-limit %v: want at least 5s", time.Duration(c.TimeLimit))
	}
	if len(kinds) > 0 && time.Duration(c.NemesisInterval) < time.Second {
		return nil, fmt.Errorf("--nemesis-interval %v: want at least 1s", time.Duration(c.NemesisInterval))
	}
	if err := c.checkVersions(d); err != nil {
		return nil, err
	}
	if err := c.checkReaders(d); err != nil {
		return nil, err
	}
	if notes, err = nemesis.Preconditions(kinds, c.Nodes); err != nil {
		return nil, fmt.Errorf("--nemesis %w", err)
	}
	if err := c.checkFaultCount(d); err != nil {
		return nil, err
	}
	return notes, nil
}

// ReadersPinned is --readers pinned: each campaigner reads through one
// member alone.
const ReadersPinned = "pinned"

// checkReaders puts --readers in its canonical form ("" for all) and
// refuses pinned readers where they cannot mean what they say.
func (c *Config) checkReaders(d db.DB) error {
	switch c.Readers {
	case "", "all":
		c.Readers = ""
		return nil
	case ReadersPinned:
	default:
		return fmt.Errorf("--readers %q: want all or %s", c.Readers, ReadersPinned)
	}
	if _, ok := d.(db.PinnedReaders); !ok {
		return fmt.Errorf("--readers %s: not supported for %s: its recipes read through their own failover client and cannot pin a reader to one server", ReadersPinned, d.Name())
	}
	if strings.HasPrefix(c.Recipe, workloads.ExecPrefix) {
		return fmt.Errorf("--readers %s: needs a built-in recipe (the built-in campaigner takes --%s); %s is your own campaigner", ReadersPinned, workloads.ReadEndpointsFlag, c.Recipe)
	}
	if c.Campaigners < c.Nodes {
		return fmt.Errorf("--readers %s with --campaigners %d and --nodes %d leaves members without a reader: give --campaigners %d or more", ReadersPinned, c.Campaigners, c.Nodes, c.Nodes)
	}
	return nil
}

// ReaderMembers maps each campaigner (c1..cM) to the member (n1..nN) it
// reads through with pinned readers: workloads.ReaderMember, members in
// turn. Nil unless --readers pinned.
func (c Config) ReaderMembers() map[string]string {
	if c.Readers != ReadersPinned || c.Nodes < 1 {
		return nil
	}
	out := map[string]string{}
	for i := range c.Campaigners {
		out[fmt.Sprintf("c%d", i+1)] = fmt.Sprintf("n%d", workloads.ReaderMember(i, c.Nodes)+1)
	}
	return out
}

// APIServerFronts maps each campaigner (c1..cM) to the apiserver
// (a1..aK) it reaches the store through, apiservers in turn, as a
// controller talks to its own node's. Nil in runs without apiservers.
func (c Config) APIServerFronts() map[string]string {
	if c.APIServers < 1 {
		return nil
	}
	out := map[string]string{}
	for i := range c.Campaigners {
		out[fmt.Sprintf("c%d", i+1)] = apiServerName(i%c.APIServers + 1)
	}
	return out
}

// pinnedReadMargin is how much longer than the run's longest fault a
// pinned reader waits for its read: a read sent to a paused member is
// answered once it resumes (etcd #20418 is a read so answered).
const pinnedReadMargin = 3 * time.Second

// PinnedReadTimeout bounds each read of a pinned reader: the longest
// fault the run plans, plus pinnedReadMargin; 0 without pinned readers
// (the reader's usual timeout).
func (c Config) PinnedReadTimeout() time.Duration {
	if c.Readers != ReadersPinned {
		return 0
	}
	var longest time.Duration
	for _, s := range nemesis.Plan(c.Seed, c.Nemesis, nemesis.Pace{Interval: time.Duration(c.NemesisInterval), TimeLimit: time.Duration(c.TimeLimit), LeaseExpiry: time.Duration(c.LeaseExpiry)}) {
		longest = max(longest, s.Duration)
	}
	return longest + pinnedReadMargin
}

// checkRecipe checks that recipe can elect through d: a built-in recipe
// of d's, or the user's own campaigner, a static binary.
func checkRecipe(d db.DB, recipe string) error {
	info, err := registry.RecipeFor(recipe, d.Name())
	if err != nil {
		return err
	}
	if info.Exec != "" {
		if err := CheckStatic(info.Exec); err != nil {
			return fmt.Errorf("%w; node images are FROM scratch: build it with CGO_ENABLED=0", err)
		}
	}
	return nil
}

// apiServerRecipes names the recipes that elect through apiserver nodes.
func apiServerRecipes() []string {
	var out []string
	for _, n := range registry.Recipes().Names() {
		if registry.Recipes()[n].APIServer {
			out = append(out, n)
		}
	}
	return out
}

// ElectsThroughAPIServers says whether the run's recipe elects through
// kube-apiserver nodes in front of the members.
func (c Config) ElectsThroughAPIServers() bool {
	info, err := registry.Recipes().Lookup(c.Recipe)
	return err == nil && info.APIServer
}

// MaxAPIServers bounds --apiservers: each is a full kube-apiserver, and
// two cores run the whole cluster.
const MaxAPIServers = 3

// checkAPIServers fills in and checks the apiserver nodes: one by default
// for a recipe that elects through them, none for any other.
func (c *Config) checkAPIServers() error {
	if !c.ElectsThroughAPIServers() {
		if c.APIServers != 0 || c.KubeVersion != "" {
			return fmt.Errorf("--apiservers and --kube-version are for the Kubernetes recipes (%s), not %s", strings.Join(apiServerRecipes(), ", "), c.Recipe)
		}
		for _, k := range c.Nemesis {
			kind, rule, _ := strings.Cut(strings.TrimSpace(k), ":")
			if r, ok := nemesis.LookupRule(kind, rule); ok && r.OnAPIServers {
				return fmt.Errorf("--nemesis %s: it acts on kube-apiserver nodes, which only the Kubernetes recipes (%s) have", k, strings.Join(apiServerRecipes(), ", "))
			}
		}
		return nil
	}
	if c.APIServers == 0 {
		c.APIServers = 1
	}
	if c.KubeVersion == "" {
		c.KubeVersion = kube.DefaultVersion
	}
	switch {
	case c.APIServers < 1 || c.APIServers > MaxAPIServers:
		return fmt.Errorf("--apiservers %d: want 1 to %d", c.APIServers, MaxAPIServers)
	case c.Readers == ReadersPinned:
		return fmt.Errorf("--readers %s: an apiserver reads through whichever member its storage client picks; %s cannot pin its reads", ReadersPinned, c.Recipe)
	case c.mixed():
		return fmt.Errorf("--version %s: runs of several versions are not built for %s yet", c.Version, c.Recipe)
	}
	return nil
}

// checkFaultCount refuses a run whose fault plan deals fewer than
// MinFaults faults, naming the time limit and the interval that would
// deal enough. The plan is the one the run would follow: the same seed,
// kinds and pace give the same steps.
func (c *Config) checkFaultCount(d db.DB) error {
	kinds := c.Nemesis
	if len(kinds) == 0 {
		return nil
	}
	ttl, interval, timeLimit := time.Duration(c.TTL), time.Duration(c.NemesisInterval), time.Duration(c.TimeLimit)
	planned := func(interval, limit time.Duration) int {
		return len(nemesis.Plan(c.Seed, kinds, nemesis.Pace{Interval: interval, TimeLimit: limit, LeaseExpiry: d.LeaseExpiry(ttl)}))
	}
	n := planned(interval, timeLimit)
	if n >= MinFaults {
		return nil
	}
	// A longer time limit keeps the plan's steps and adds to them.
	limit := timeLimit.Truncate(time.Second)
	for planned(interval, limit) < MinFaults && limit < timeLimit+100*interval {
		limit += time.Second
	}
	fix := fmt.Sprintf("give --time-limit %v or more", limit)
	for i := interval.Truncate(time.Second); i >= time.Second; i -= time.Second {
		if i < interval && planned(i, timeLimit) >= MinFaults {
			fix += fmt.Sprintf(", or --nemesis-interval %v or less", i)
			break
		}
	}
	faults := "faults"
	if n == 1 {
		faults = "fault"
	}
	return fmt.Errorf("--time-limit %v with --nemesis-interval %v deals %d %s (seed %d, --nemesis %s): a run under faults needs at least %d "+
		"(the first comes after one quiet interval, then about one every two intervals): %s; or --nemesis none for a run without faults",
		timeLimit, interval, n, faults, c.Seed, strings.Join(kinds, ","), MinFaults, fix)
}

// CheckStore makes the store directory and proves it writable (a probe
// file created and removed), before anything is built or started.
func CheckStore(store string) error {
	if err := os.MkdirAll(store, 0o755); err != nil {
		return fmt.Errorf("--store %s: cannot create it: %w (give a writable directory)", store, err)
	}
	probe, err := os.CreateTemp(store, ".write-probe-*")
	if err != nil {
		return fmt.Errorf("--store %s: not writable: %w (give a writable directory)", store, err)
	}
	name := probe.Name()
	err = errors.Join(probe.Close(), os.Remove(name))
	if err != nil {
		return fmt.Errorf("--store %s: %w", store, err)
	}
	return nil
}

// absRecipe makes an exec:PATH recipe's path absolute, so that
// config.json reproduces the run from anywhere.
func (c *Config) absRecipe() error {
	if path, ok := strings.CutPrefix(c.Recipe, workloads.ExecPrefix); ok && path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return fmt.Errorf("--recipe: %w", err)
		}
		c.Recipe = workloads.ExecPrefix + abs
	}
	return nil
}

// perDB says a default per database, for flag help ("5s for A, 10s
// for B").
func perDB(value func(db.Defaults) time.Duration) string {
	var parts []string
	for _, d := range registry.All() {
		parts = append(parts, fmt.Sprintf("%gs for %s", value(d.Defaults()).Seconds(), d.Name()))
	}
	return strings.Join(parts, ", ")
}

// checkBuild refuses source patches and a log level the database does
// not take, and patches of a build made elsewhere.
func (c Config) checkBuild(d db.DB) error {
	if len(c.Patches) > 0 {
		sp, ok := d.(db.SourcePatches)
		if !ok {
			return fmt.Errorf("--patch: %s has no source patches", d.Name())
		}
		if _, err := db.LookupPatches(sp.Patches(), c.Patches); err != nil {
			return fmt.Errorf("--patch: %w", err)
		}
		if c.Binary != "" || c.FromImage != "" {
			return fmt.Errorf("--patch with --binary or --image: a patch changes a build made here from --version")
		}
	}
	if c.SnapshotCount < 0 {
		return fmt.Errorf("--snapshot-count %d: want a positive count (0: the database's default)", c.SnapshotCount)
	}
	if _, ok := d.(db.Snapshots); c.SnapshotCount > 0 && !ok {
		return fmt.Errorf("--snapshot-count: the harness cannot set %s's snapshot frequency", d.Name())
	}
	if c.ServerLogLevel != "" {
		ll, ok := d.(db.ServerLogLevels)
		if !ok {
			return fmt.Errorf("--server-log-level: the harness cannot set %s's log level", d.Name())
		}
		if !slices.Contains(ll.LogLevels(), c.ServerLogLevel) {
			return fmt.Errorf("--server-log-level %q: %s takes %s", c.ServerLogLevel, d.Name(), strings.Join(ll.LogLevels(), ", "))
		}
	}
	return nil
}
