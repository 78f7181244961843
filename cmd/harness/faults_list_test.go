package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/election-harness/harness/nemesis"
)

// TestFaultsListsTheNemesisTables: `harness faults` prints every kind and
// every rule of the tables the nemesis deals from, one line each.
func TestFaultsListsTheNemesisTables(t *testing.T) {
	r := harness(t, "faults")
	if r.code != 0 {
		t.Fatalf("harness faults: exit %d\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if want := len(nemesis.KindTable) + len(nemesis.RuleTable); len(lines) != want {
		t.Errorf("harness faults printed %d lines; want %d (a line per kind and per rule)", len(lines), want)
	}
	for _, k := range nemesis.KindTable {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, k.Name+": ") }) {
			t.Errorf("harness faults lacks kind %s", k.Name)
		}
	}
	for _, rule := range nemesis.RuleTable {
		prefix := "  " + rule.Kind + ":" + rule.Name + "  " + rule.Does
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, prefix) }) {
			t.Errorf("harness faults lacks %q", prefix)
		}
	}
	for _, want := range []string{"needs 5 members, else runs as bridge", "only when named (pause:random-member)", "(not for consul)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("harness faults does not say %q", want)
		}
	}
}

// TestReadmeFaultsTableNamesEveryRule: the README's Faults table names,
// in each kind's row, exactly the rules of the nemesis table.
func TestReadmeFaultsTableNamesEveryRule(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile("`([a-z-]+)`")
	rows := 0
	for _, line := range strings.Split(string(b), "\n") {
		for _, k := range nemesis.Kinds {
			if !strings.HasPrefix(line, "| `"+k+"` |") {
				continue
			}
			rows++
			cells := strings.Split(strings.Trim(line, "| "), " | ")
			var got []string
			for _, m := range code.FindAllStringSubmatch(cells[len(cells)-1], -1) {
				if !slices.Contains(got, m[1]) {
					got = append(got, m[1])
				}
			}
			var want []string
			for _, r := range nemesis.Rules(k) {
				want = append(want, r.Name)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("README's %s row names rules %v; the nemesis has %v", k, got, want)
			}
		}
	}
	if rows != len(nemesis.Kinds) {
		t.Errorf("README's Faults table has %d kind rows; the nemesis has %d kinds", rows, len(nemesis.Kinds))
	}
}

// TestHelpHasExamplesAndExitCodes: run, check and suite say how they are
// used and what their exit codes mean.
func TestHelpHasExamplesAndExitCodes(t *testing.T) {
	for _, cmd := range []string{"run", "check", "suite", "faults"} {
		r := harness(t, cmd, "--help")
		if r.code != 0 {
			t.Errorf("%s --help: exit %d", cmd, r.code)
		}
		if !strings.Contains(r.stdout, "Examples:\n  harness "+cmd) {
			t.Errorf("%s --help has no examples:\n%s", cmd, r.stdout)
		}
		if cmd != "faults" && !strings.Contains(r.stdout, "0 valid, 1 invalid (anomalies found), 2 unknown") {
			t.Errorf("%s --help does not give the exit codes:\n%s", cmd, r.stdout)
		}
	}
}

// TestReferencePagesAreCurrent: docs/reference holds the pages the code
// makes now (`make reference` writes them).
func TestReferencePagesAreCurrent(t *testing.T) {
	for _, p := range referencePages() {
		var b bytes.Buffer
		p.write(&b)
		path := filepath.Join("..", "..", "docs", "reference", p.file)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run make reference)", path, err)
		}
		if !bytes.Equal(got, b.Bytes()) {
			t.Errorf("%s is not what the code makes now: run make reference", path)
		}
	}
}
