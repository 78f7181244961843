package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bisect refuses what cannot mean what it says, before anything is
// built or run: no ends, a --version of its own, a binary or image
// (bisect builds each release), a --from that is not a run, or run
// flags beside --from.
func TestBisectRefusals(t *testing.T) {
	golden := filepath.Join("..", "..", "testdata", "golden", "etcd-paused-leader-aimed")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bisect", "--bad", "v3.6.16"}, "--good and --bad are needed"},
		{[]string{"bisect", "--good", "v3.5.13", "--bad", "v3.6.16", "--version", "v3.6.16"}, "bisect sets each run's version itself"},
		{[]string{"bisect", "--good", "v3.5.13", "--bad", "v3.6.16", "--binary", "/bin/true"}, "bisect builds each release itself"},
		{[]string{"bisect", "--good", "v3.5.13", "--from", t.TempDir()}, "--from"},
		{[]string{"bisect", "--good", "v3.5.13", "--from", golden, "--nemesis", "pause"}, "give no run flags with it"},
		{[]string{"bisect", "--good", "v3.5.13", "--bad", "v3.6.16", "--seeds", "0"}, "want at least 1"},
		{[]string{"bisect", "--good", "3.5.13", "--bad", "v3.6.16"}, "is not of the form vX.Y.Z"},
		{[]string{"bisect", "--good", "v3.6.16+no-such-patch", "--bad", "v3.6.16"}, "no source patch \"no-such-patch\""},
	} {
		r := harness(t, append(tc.args, "--store", t.TempDir())...)
		if r.code != 3 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("harness %v: exit %d, stderr %q; want exit 3 saying %q", tc.args, r.code, tail(r.stderr, 400), tc.want)
		}
	}
}

// --from takes a failed run's test, version (--bad) and broken property;
// a spent budget stops the search before any run, and the table and
// bisect.json say so (exit 1: no first bad release named). It lists the
// releases through the Go module proxy, so it is not a -short test.
func TestBisectFromARun(t *testing.T) {
	if testing.Short() {
		t.Skip("lists etcd's releases through the Go module proxy")
	}
	golden := filepath.Join("..", "..", "testdata", "golden", "etcd-paused-leader-aimed")
	out := t.TempDir()
	r := harness(t, "bisect", "--from", golden, "--good", "v3.5.13", "--trust-ends", "--budget", "1ns", "--out", out)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (stopped by the budget)\nstdout %s\nstderr %s", r.code, r.stdout, tail(r.stderr, 1000))
	}
	md, err := os.ReadFile(filepath.Join(out, "bisect.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"property P8", "--hold-until-lost 1", "--nemesis pause:raft-leader-long", "| v3.6.16 | bad (trusted, not run)", "time budget was spent"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("bisect.md does not say %q:\n%s", want, md)
		}
	}
	var res struct {
		Property string `json:"property"`
		Result   struct {
			Candidates []string `json:"candidates"`
		} `json:"result"`
	}
	b, _ := os.ReadFile(filepath.Join(out, "bisect.json"))
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	c := res.Result.Candidates
	if res.Property != "P8" || len(c) < 3 || c[0] != "v3.5.13" || c[len(c)-1] != "v3.6.16" {
		t.Errorf("property %q, candidates %v: want P8, from v3.5.13 to v3.6.16 with releases between", res.Property, c)
	}
}
