package run

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/election-harness/harness/db/registry"
)

// TestCrashMarkersFindACrashNotItsFlags: each database's markers find a
// panic in a member's log, and not the lines a healthy member writes
// (its configuration names corruption checks; the agent logs its
// process's exits).
func TestCrashMarkersFindACrashNotItsFlags(t *testing.T) {
	healthy := `{"level":"info","ts":"2026-12-06T10:00:00Z","msg":"starting","initial-corrupt-check":false,"corrupt-check-time":"0s"}
time=2026-12-06T10:00:01Z level=INFO msg="process exited" pid=12 code=-1 err="signal: killed"
{"level":"warn","msg":"slow fdatasync","took":"1.2s"}
`
	crashed := healthy + "panic: runtime error: index out of range [3] with length 3\n\ngoroutine 1 [running]:\n"
	for _, name := range registry.Names() {
		d, _ := registry.Lookup(name)
		cm, ok := d.(interface{ CrashMarkers() []string })
		if !ok {
			continue
		}
		var markers []*regexp.Regexp
		for _, p := range cm.CrashMarkers() {
			markers = append(markers, regexp.MustCompile(p))
		}
		dir := t.TempDir()
		for file, body := range map[string]string{"healthy.log": healthy, "crashed.log": crashed} {
			os.WriteFile(filepath.Join(dir, file), []byte(body), 0o644)
		}
		if _, _, n, err := firstMatch(filepath.Join(dir, "healthy.log"), markers); err != nil || n != 0 {
			t.Errorf("%s: a healthy log matched %d lines (%v)", name, n, err)
		}
		line, at, n, err := firstMatch(filepath.Join(dir, "crashed.log"), markers)
		if err != nil || n != 1 || at != 4 || line != "panic: runtime error: index out of range [3] with length 3" {
			t.Errorf("%s: a crashed log: %q at line %d, %d matched (%v)", name, line, at, n, err)
		}
	}
}
