package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --fail-on recipe passes the gate of a run whose anomalies are the
// database's, with a warning naming each and the known bug, and fails
// every unsafe control's (issue 23's acceptance, on the golden runs,
// re-checked offline); the default policy fails them all, and an
// unknown policy is refused.
func TestCheckFailOn(t *testing.T) {
	golden := filepath.Join("..", "..", "testdata", "golden")
	copyRun := func(name string) string {
		dir := filepath.Join(t.TempDir(), name)
		os.MkdirAll(dir, 0o755)
		for _, f := range []string{"config.json", "history.jsonl"} {
			b, err := os.ReadFile(filepath.Join(golden, name, f))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, f), b, 0o644)
		}
		return dir
	}
	for _, tc := range []struct {
		golden string
		policy string
		code   int
		want   []string
	}{
		{"etcd-paused-leader-aimed", "recipe", 0, []string{"warning: accepted by --fail-on recipe: P8, database (known: etcd-paused-leader-revocation)", "GATE PASSED", "INVALID"}},
		{"etcd-paused-leader-aimed", "new", 0, []string{"GATE PASSED (--fail-on new)"}},
		{"etcd-paused-leader-aimed", "", 1, []string{"whose: database (known: etcd-paused-leader-revocation) broke P8"}},
		{"etcd-unfenced-p4", "recipe", 1, []string{"GATE FAILED (--fail-on recipe): P4, recipe", "first anomaly: the recipe:"}},
		{"etcd-cached-p4", "recipe", 1, []string{"GATE FAILED"}},
		{"etcd-check-then-act-p4", "recipe", 1, []string{"GATE FAILED"}},
		{"etcd-trust-campaign-p3", "recipe", 1, []string{"GATE FAILED (--fail-on recipe): P3, recipe"}},
		{"consul-unfenced-p4", "recipe", 1, []string{"GATE FAILED"}},
		{"etcd-election-valid", "recipe", 0, []string{"VALID"}},
		{"etcd-unfenced-p4", "team", 3, nil},
	} {
		dir := copyRun(tc.golden)
		args := []string{"check", dir}
		if tc.policy != "" {
			args = append(args, "--fail-on", tc.policy)
		}
		r := harness(t, args...)
		if r.code != tc.code {
			t.Errorf("%s --fail-on %q: exit %d, want %d\n%s%s", tc.golden, tc.policy, r.code, tc.code, tail(r.stdout, 1500), tail(r.stderr, 500))
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%s --fail-on %q: the output does not say %q:\n%s", tc.golden, tc.policy, w, tail(r.stdout, 1500))
			}
		}
		if tc.code == 0 && tc.policy == "recipe" && tc.golden != "etcd-election-valid" {
			junit, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
			if !strings.Contains(string(junit), `type="accepted"`) || strings.Contains(string(junit), "<failure") {
				t.Errorf("%s: junit.xml should list the accepted anomaly as skipped, with no failure:\n%s", tc.golden, junit)
			}
		}
	}
}
