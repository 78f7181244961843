package run

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/election-harness/harness/cluster"
	"github.com/election-harness/harness/db/etcd"
	"github.com/election-harness/harness/nemesis"
	"github.com/election-harness/harness/reports"
)

// parse parses `harness run` arguments into a Config, as the CLI does.
func parse(t *testing.T, args ...string) Config {
	t.Helper()
	c := NewConfig()
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	c.Flags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return c
}

// TestSettingsMeanWhatTheySay: left out, a duration takes the database's
// default; --nemesis none may be short; random rules that degrade with
// --nodes are noted, once each.
func TestSettingsMeanWhatTheySay(t *testing.T) {
	validate := func(args ...string) (Config, []string) {
		t.Helper()
		c := parse(t, args...)
		notes, err := c.Validate()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return c, notes
	}
	c, notes := validate()
	if c.TTL != Duration(3*time.Second) || c.TimeLimit != Duration(90*time.Second) || c.NemesisInterval != Duration(5*time.Second) {
		t.Errorf("defaults: ttl %v, time limit %v, interval %v", c.TTL, c.TimeLimit, c.NemesisInterval)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "partition: rule majorities-ring needs 5 members, runs as bridge with 3") {
		t.Errorf("--nodes 3 notes: %q; want the ring's fallback, once", notes)
	}
	if _, notes := validate("--nodes", "5"); len(notes) != 0 {
		t.Errorf("--nodes 5 notes: %q; want none", notes)
	}
	validate("--nemesis", "none", "--time-limit", "5s")
	validate("--nodes", "5", "--nemesis", "partition:majorities-ring")
	validate("--time-limit", "30s", "--seed", "1") // 3 faults
}

// TestArgsReproduceTheConfig: the reproduce command is derived from the
// flags the config is bound to, so parsing it gives the same settings
// back, every setting included.
func TestArgsReproduceTheConfig(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"--db", "consul", "--consistency", "stale", "--nemesis", "pause,clock:strobe", "--seed", "9", "--ttl", "12s"},
		{"--nodes", "5", "--campaigners", "2", "--nemesis", "none", "--time-limit", "30s", "--binary", "/tmp/etcd"},
		{"--image", "me/etcd:1", "--recipe", "etcd-unfenced", "--nemesis-interval", "2s"},
		{"--option", "renew=once", "--seed", "3"},
		{"--db", "consul", "--option", "lock-delay=1s"},
		{"--recipe", "etcd-serializable-reads", "--readers", "pinned", "--nemesis", "partition:isolate-random-member"},
		// The workload of runs recorded before leaders held: named even at
		// their zero, since the defaults are not.
		{"--hold-until-lost", "0", "--hold-through-stops=false"},
	} {
		c := parse(t, args...)
		again := parse(t, c.Args()...)
		again.Store, again.CacheDir = c.Store, c.CacheDir
		if strings.Join(again.Args(), " ") != strings.Join(c.Args(), " ") {
			t.Errorf("%v: args %v parse back as %v", args, c.Args(), again.Args())
		}
		for _, a := range args {
			if !strings.Contains(" "+strings.Join(c.Args(), " ")+" ", " "+a+" ") {
				t.Errorf("%v: the reproduce args %v lack %q", args, c.Args(), a)
			}
		}
		if strings.Contains(c.CommandLine(), "--store") || strings.Contains(c.CommandLine(), "--cache") {
			t.Errorf("%v: the command line names where results go: %s", args, c.CommandLine())
		}
		if again.HoldUntilLost != c.HoldUntilLost || again.HoldThroughStops != c.HoldThroughStops {
			t.Errorf("%v: hold %v through stops %v parse back as %v, %v", args, c.HoldUntilLost, c.HoldThroughStops, again.HoldUntilLost, again.HoldThroughStops)
		}
	}
}

// TestOptionsAreTheDriversToAccept: --option values reach the run only
// if the database's recipes take them, refused before anything starts.
func TestOptionsAreTheDriversToAccept(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"--option", "renew=once"}, true},
		{[]string{"--option", "renew=keepalive", "--recipe", "etcd-unfenced"}, true},
		{[]string{"--option", "renew=twice"}, false},
		{[]string{"--option", "lock-delay=1s"}, false}, // Consul's
		{[]string{"--db", "consul", "--option", "lock-delay=1s"}, true},
		{[]string{"--db", "consul", "--option", "renew=once"}, false},
		{[]string{"--db", "consul", "--option", "consistency=stale"}, false}, // --consistency's
		{[]string{"--option", "renew=once", "--recipe", "exec:/bin/true"}, false},
	} {
		c := parse(t, tc.args...)
		if _, err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%v: error %v; want accepted %v", tc.args, err, tc.ok)
		}
	}
}

// TestReadersPinned: --readers pinned gives campaigner i member i mod
// --nodes, names that member on the campaigner's command line alone,
// waits longer than the run's longest fault, and is refused where it
// cannot mean what it says; left out, nothing of a run changes.
func TestReadersPinned(t *testing.T) {
	c := parse(t)
	if _, err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Readers != "" || c.ReaderMembers() != nil || c.PinnedReadTimeout() != 0 || strings.Contains(c.CommandLine(), "readers") {
		t.Errorf("default: readers %q, members %v, timeout %v, command %s; want today's readers, unnamed", c.Readers, c.ReaderMembers(), c.PinnedReadTimeout(), c.CommandLine())
	}
	a := parse(t, "--readers", "all")
	if _, err := a.Validate(); err != nil || a.Readers != "" {
		t.Errorf("--readers all: %q, %v; want the default", a.Readers, err)
	}

	c = parse(t, "--readers", "pinned", "--nemesis", "pause:raft-leader,partition", "--time-limit", "60s", "--seed", "3")
	if _, err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.LeaseExpiry = Duration(4 * time.Second)
	want := map[string]string{"c1": "n1", "c2": "n2", "c3": "n3", "c4": "n1", "c5": "n2"}
	got := c.ReaderMembers()
	for name, m := range want {
		if got[name] != m {
			t.Errorf("%s reads through %q, want %s (all: %v)", name, got[name], m, got)
		}
	}
	var longest time.Duration
	for _, s := range nemesis.Plan(c.Seed, c.Nemesis, nemesis.Pace{Interval: time.Duration(c.NemesisInterval), TimeLimit: time.Duration(c.TimeLimit), LeaseExpiry: time.Duration(c.LeaseExpiry)}) {
		longest = max(longest, s.Duration)
	}
	if longest == 0 || c.PinnedReadTimeout() <= longest {
		t.Errorf("read timeout %v, longest fault %v: a read sent to a paused member must outwait it", c.PinnedReadTimeout(), longest)
	}

	// The campaigner's command line: every member for its election, its
	// reader's member alone for reads.
	addrs := map[string]netip.Addr{}
	for i := 1; i <= 3; i++ {
		addrs[fmt.Sprintf("n%d", i)] = netip.MustParseAddr(fmt.Sprintf("10.0.0.%d", i))
	}
	spec := ClusterSpec(c, etcd.DB{})
	pinned := 0
	for _, n := range spec.Nodes {
		if n.Role != cluster.RoleCampaigner {
			continue
		}
		argv := n.Command(addrs)
		i := slices.Index(argv, "--read-endpoints")
		if i < 0 || i+1 >= len(argv) {
			t.Errorf("%s: %v has no --read-endpoints", n.Name, argv)
			continue
		}
		if ep := argv[i+1]; strings.Contains(ep, ",") || !strings.Contains(ep, addrs[want[n.Name]].String()+":") {
			t.Errorf("%s reads through %s, want %s's endpoint alone", n.Name, ep, want[n.Name])
		}
		pinned++
	}
	if pinned != 5 {
		t.Errorf("%d campaigners pinned, want 5", pinned)
	}
	for _, n := range ClusterSpec(parse(t), etcd.DB{}).Nodes {
		if n.Role == cluster.RoleCampaigner && slices.Contains(n.Command(addrs), "--read-endpoints") {
			t.Errorf("%s pinned without --readers pinned", n.Name)
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--readers", "some"}, "want all or pinned"},
		{[]string{"--readers", "pinned", "--db", "consul"}, "not supported for consul"},
		{[]string{"--readers", "pinned", "--campaigners", "2"}, "give --campaigners 3 or more"},
	} {
		c := parse(t, tc.args...)
		if _, err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v; want a refusal saying %q", tc.args, err, tc.want)
		}
	}
}

// TestAPIServerFronts: each campaigner of a Kubernetes recipe's run
// reaches the store through one apiserver, in turn; the checker and the
// report's facts are told which, and no other run has any.
func TestAPIServerFronts(t *testing.T) {
	c := parse(t, "--recipe", "k8s-leaderelection", "--apiservers", "2", "--campaigners", "3")
	if _, err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"c1": "a1", "c2": "a2", "c3": "a1"}
	if got := c.APIServerFronts(); !maps.Equal(got, want) {
		t.Errorf("fronts %v, want %v", got, want)
	}
	if got := c.CheckerOptions().Fronts; !maps.Equal(got, want) {
		t.Errorf("the checker's fronts %v, want %v", got, want)
	}
	i := slices.IndexFunc(c.Facts(), func(f reports.Fact) bool { return f.Name == "apiservers" })
	if i < 0 || !strings.Contains(c.Facts()[i].Value, "c1→a1, c2→a2, c3→a1") {
		t.Errorf("facts %v: want an apiservers fact naming each campaigner's", c.Facts())
	}

	e := parse(t)
	if _, err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	if e.APIServerFronts() != nil || e.CheckerOptions().Fronts != nil || slices.ContainsFunc(e.Facts(), func(f reports.Fact) bool { return f.Name == "apiservers" }) {
		t.Errorf("a run without apiservers: fronts %v, facts %v", e.APIServerFronts(), e.Facts())
	}
}
