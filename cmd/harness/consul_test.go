package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/election-harness/harness/db/consul"
	"github.com/election-harness/harness/nemesis"
)

// Consul integration tests: a real Consul cluster built from its module
// (cached; the first build takes minutes).

func TestConsulBuildIsCachedByVersion(t *testing.T) {
	needDocker(t)
	first := harness(t, "build", "--db", "consul")
	if first.code != 0 {
		t.Fatalf("harness build --db consul: exit %d\n%s%s", first.code, first.stdout, tail(first.stderr, 3000))
	}
	second := harness(t, "build", "--db", "consul")
	if second.code != 0 {
		t.Fatalf("second build: exit %d\n%s%s", second.code, second.stdout, second.stderr)
	}
	if strings.Contains(second.stderr, "building consul") {
		t.Errorf("the second build built Consul again:\n%s", second.stderr)
	}
	if !strings.Contains(second.stdout, "consul v1.20.6: binary ") {
		t.Errorf("build did not name the cached binary:\n%s", second.stdout)
	}
}

func TestConsulSafeRecipesUnderFaults(t *testing.T) {
	needDocker(t)
	// Faults every 10s, more often than Consul's default, so that a
	// short run sees several.
	for _, tc := range []struct {
		recipe, nemesis, timeLimit, consistency string
	}{
		{"consul-lock", "partition,pause,kill", "90s", "default"},
		{"consul-session", "partition,pause", "60s", "consistent"},
	} {
		t.Run(tc.recipe, func(t *testing.T) {
			store := t.TempDir()
			r := harness(t, "run", "--db", "consul", "--recipe", tc.recipe, "--nemesis", tc.nemesis,
				"--time-limit", tc.timeLimit, "--nemesis-interval", "10s", "--consistency", tc.consistency, "--seed", "1", "--store", store)
			t.Logf("stdout:\n%s\nstderr tail:\n%s", r.stdout, tail(r.stderr, 2000))
			if r.code != 0 {
				t.Fatalf("%s exit %d, want 0", tc.recipe, r.code)
			}
			dir := latestRun(t, store)
			res := readResults(t, dir)
			checkCounts(t, res)
			b, err := os.ReadFile(filepath.Join(dir, "results.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "reads were made in "+tc.consistency+" mode") {
				t.Errorf("results.json does not say the reads' consistency mode (%s)", tc.consistency)
			}
			if l := leftovers(t, dir); l != "" {
				t.Errorf("left behind: %s", l)
			}
			reproduces(t, dir, 0)
		})
	}
}

func TestConsulUnfencedControlIsCaught(t *testing.T) {
	expectStaleLeaderWrite(t, "--db", "consul", "--recipe", "consul-unfenced", "--nemesis", "pause", "--time-limit", "180s", "--seed", "1")
}

func TestConsulRefusesWhatItCannotDo(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--db", "consul", "--nemesis", "compact"}, "--nemesis compact: not supported for consul"},
		{[]string{"--db", "consul", "--ttl", "5s"}, "--ttl 5s: want at least 10s for consul"},
		{[]string{"--db", "consul", "--consistency", "strong"}, `--consistency "strong": want one of default, consistent, stale`},
		{[]string{"--db", "etcd", "--consistency", "stale"}, "--consistency is consul's"},
		{[]string{"--db", "consul", "--recipe", "etcd-election"}, "elects through etcd, not db consul"},
	} {
		r := harness(t, append([]string{"run", "--store", t.TempDir()}, tc.args...)...)
		if r.code != exitSetup || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("harness run %v: exit %d, stderr %q; want exit %d naming %q", tc.args, r.code, r.stderr, exitSetup, tc.want)
		}
	}
}

// TestConsulWipeReplacesAServer loses a server's data on real Consul
// servers: it leaves raft and gossip, and comes back empty as a new
// server (a new node ID) that autopilot makes a voter again and that
// holds the last write made while it was gone.
func TestConsulWipeReplacesAServer(t *testing.T) {
	needDocker(t)
	fc := startFaultClusterOf(t, faultClusterSpec{db: consul.DB{}, recipe: "consul-lock", ttl: 10 * time.Second, leaders: noLeaders{}})
	ctx := context.Background()
	clientOf := func(m string) *api.Client {
		cfg := api.DefaultNonPooledConfig()
		cfg.Address = netip.AddrPortFrom(fc.byName[m].IP(), 8500).String()
		cli, err := api.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return cli
	}
	// servers is the raft configuration as server through sees it:
	// node name -> "ID voter".
	servers := func(through string) (map[string]string, error) {
		cfg, err := clientOf(through).Operator().RaftGetConfiguration((&api.QueryOptions{}).WithContext(ctx))
		if err != nil {
			return nil, err
		}
		out := map[string]string{}
		for _, s := range cfg.Servers {
			out[s.Node] = fmt.Sprintf("%s voter=%v", s.ID, s.Voter)
		}
		return out, nil
	}
	other := ""
	before, err := servers(fc.members[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	f := fc.start(t, nemesis.KindWipe, nemesis.TargetRandomMember)
	m := f.Targets[0]
	for _, mem := range fc.members {
		if mem.Name != m {
			other = mem.Name
		}
	}
	during, err := servers(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := during[m]; ok || len(during) != len(fc.members)-1 {
		t.Fatalf("while wiped, raft's servers are %v; want all but %s", during, m)
	}
	const key, last = "eh/f/wipe", "written-while-wiped"
	if _, err := clientOf(other).KV().Put(&api.KVPair{Key: key, Value: []byte(last)}, (&api.WriteOptions{}).WithContext(ctx)); err != nil {
		t.Fatalf("writing through %s while %s is wiped: %v", other, m, err)
	}
	if err := fc.exec.Stop(ctx, f.ID); err != nil {
		for _, mem := range fc.members {
			logs, _ := fc.byName[mem.Name].Logs(ctx)
			lines := strings.Split(string(logs), "\n")
			for _, l := range lines[max(0, len(lines)-40):] {
				t.Logf("%s: %s", mem.Name, l[:min(len(l), 250)])
			}
		}
		t.Fatalf("healing the wipe of %s: %v", m, err)
	}
	var after map[string]string
	voter := func() bool {
		after, err = servers(other)
		return err == nil && len(after) == len(fc.members) && strings.HasSuffix(after[m], "voter=true")
	}
	for deadline := time.Now().Add(90 * time.Second); !voter() && time.Now().Before(deadline); time.Sleep(time.Second) {
	}
	if !voter() {
		t.Fatalf("after the rejoin raft's servers are %v (%v); want %s back as a voter", after, err, m)
	}
	if strings.Fields(after[m])[0] == strings.Fields(before[m])[0] {
		t.Errorf("%s came back as %s, the identity it had before its data was lost", m, after[m])
	}
	// Its own copy of the store (a stale read answers from it) holds
	// the write made while it was gone, and it serves a consistent read.
	for _, mode := range []api.QueryOptions{{AllowStale: true}, {RequireConsistent: true}} {
		var got string
		for deadline := time.Now().Add(30 * time.Second); got != last && time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			if kv, _, err := clientOf(m).KV().Get(key, mode.WithContext(ctx)); err == nil && kv != nil {
				got = string(kv.Value)
			}
		}
		if got != last {
			t.Errorf("%s read (stale %v, consistent %v) %q, want %q", m, mode.AllowStale, mode.RequireConsistent, got, last)
		}
	}
}
