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

// TestDocsLinksResolve: every relative link of the README and docs/
// names a file of the repository.
func TestDocsLinksResolve(t *testing.T) {
	pages, _ := filepath.Glob("../../docs/*.md")
	pages = append(pages, "../../README.md")
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(page), target)); err != nil {
				t.Errorf("%s links to %s, which is not there", strings.TrimPrefix(page, "../../"), target)
			}
		}
	}
}
