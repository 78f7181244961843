package run

import (
	"os"
	"path/filepath"
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
	// A process the kernel's OOM killer ended writes nothing; the agent
	// says it exited unasked.
	oomed := healthy + `time=2026-12-06T10:00:02Z level=ERROR msg="process exited unasked" pid=13 code=-1 signal=killed err="signal: killed"` + "\n"
	for _, name := range registry.Names() {
		d, _ := registry.Lookup(name)
		markers := crashMarkers(d)
		dir := t.TempDir()
		for file, body := range map[string]string{"healthy.log": healthy, "crashed.log": crashed, "oomed.log": oomed} {
			os.WriteFile(filepath.Join(dir, file), []byte(body), 0o644)
		}
		if m, err := firstMatch(filepath.Join(dir, "healthy.log"), markers); err != nil || m.count != 0 {
			t.Errorf("%s: a healthy log matched %d lines (%v)", name, m.count, err)
		}
		m, err := firstMatch(filepath.Join(dir, "crashed.log"), markers)
		if err != nil || m.count != 1 || m.at != 4 || m.line != "panic: runtime error: index out of range [3] with length 3" {
			t.Errorf("%s: a crashed log: %q at line %d, %d matched (%v)", name, m.line, m.at, m.count, err)
		}
		m, err = firstMatch(filepath.Join(dir, "oomed.log"), markers)
		if err != nil || m.count != 1 || m.at != 4 || len(m.before) != 3 || m.before[2] != `{"level":"warn","msg":"slow fdatasync","took":"1.2s"}` {
			t.Errorf("%s: an unasked exit: %+v (%v)", name, m, err)
		}
	}
}
