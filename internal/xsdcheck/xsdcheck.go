// Package xsdcheck validates XML files against an XML schema in tests,
// with xmllint (Debian's libxml2-utils): no Go module of the proxy
// validates XSD without cgo, and the harness is built with
// CGO_ENABLED=0. `make test` and `make unit` install libxml2-utils as
// root; in CI (CI=true) a missing xmllint fails the test instead of
// skipping it.
package xsdcheck

import (
	"os"
	"os/exec"
	"testing"
)

// Validate fails t unless the XML file at path is valid against the
// schema at xsd.
func Validate(t testing.TB, xsd, path string) {
	t.Helper()
	need(t)
	if out, err := Check(xsd, path); err != nil {
		b, _ := os.ReadFile(path)
		t.Fatalf("%s is not valid against %s: %v\n%s\n--- the file:\n%s", path, xsd, err, out, b)
	}
}

// Check validates the XML file at path against the schema at xsd; the
// output is xmllint's.
func Check(xsd, path string) (string, error) {
	out, err := exec.Command("xmllint", "--noout", "--nonet", "--schema", xsd, path).CombinedOutput()
	return string(out), err
}

// need skips t without xmllint, or fails it in CI.
func need(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but no xmllint on PATH (apt-get install libxml2-utils; `make test` does)")
		}
		t.Skip("no xmllint on PATH (apt-get install libxml2-utils)")
	}
}

// Need skips t when xmllint is missing, or fails it in CI (CI=true).
func Need(t testing.TB) { t.Helper(); need(t) }
