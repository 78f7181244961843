package run

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
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
