package checker

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

// The Jepsen etcd histories that porcupine ships in its module's
// test_data, checked with our RegisterModel. The expected verdicts are
// read from porcupine's own tests (checkJepsen(t, N, verdict)), not
// written down here.

func porcupineDir(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/anishathalye/porcupine").Output()
	if err != nil {
		t.Fatalf("locating the porcupine module: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		t.Fatal("the porcupine module is not in the module cache (run go mod download)")
	}
	return dir
}

// jepsenVerdicts reads checkJepsen(t, N, true|false) from porcupine's tests.
func jepsenVerdicts(t testing.TB, dir string) map[int]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "porcupine_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`checkJepsen\(t, (\d+), (true|false)\)`)
	out := map[int]bool{}
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		n, _ := strconv.Atoi(m[1])
		out[n] = m[2] == "true"
	}
	if len(out) < 50 {
		t.Fatalf("found only %d Jepsen verdicts in porcupine's tests", len(out))
	}
	return out
}

var (
	jepsenLine = regexp.MustCompile(`^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:(read|write|cas)\s+(.*)$`)
	jepsenCas  = regexp.MustCompile(`^\[(\d+)\s+(\d+)\]$`)
)

// parseJepsen turns a Jepsen etcd log into porcupine events of our
// register model: values as strings, nil as "" (absent). An operation
// that timed out (info) or never returned may take effect at any later
// time, so it returns, unknown, after everything else; a failed read
// constrains nothing.
func parseJepsen(t testing.TB, path string) []porcupine.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []porcupine.Event
	open := map[int]int{} // process -> op id
	var late []porcupine.Event
	id := 0
	value := func(s string) string {
		if s == "nil" {
			return ""
		}
		return s
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := jepsenLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		proc, _ := strconv.Atoi(m[1])
		typ, f, arg := m[2], m[3], m[4]
		if typ == "invoke" {
			var in RegisterInput
			switch f {
			case "read":
				in = RegisterInput{Kind: "read"}
			case "write":
				in = RegisterInput{Kind: "write", Value: value(arg)}
			case "cas":
				c := jepsenCas.FindStringSubmatch(arg)
				if c == nil {
					t.Fatalf("%s: cas argument %q", path, arg)
				}
				in = RegisterInput{Kind: "cas", From: c[1], Value: c[2]}
			}
			events = append(events, porcupine.Event{ClientId: proc, Kind: porcupine.CallEvent, Value: in, Id: id})
			open[proc] = id
			id++
			continue
		}
		call, ok := open[proc]
		if !ok {
			t.Fatalf("%s: completion without invocation: %s", path, sc.Text())
		}
		delete(open, proc)
		var out RegisterOutput
		switch {
		case typ == "info":
			late = append(late, porcupine.Event{ClientId: proc, Kind: porcupine.ReturnEvent, Value: RegisterOutput{Unknown: true}, Id: call})
			continue
		case typ == "fail" && f == "read":
			out = RegisterOutput{Unknown: true}
		case f == "read":
			out = RegisterOutput{Value: value(arg)}
		case f == "cas":
			out = RegisterOutput{OK: typ == "ok"}
		}
		events = append(events, porcupine.Event{ClientId: proc, Kind: porcupine.ReturnEvent, Value: out, Id: call})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for proc, call := range open {
		late = append(late, porcupine.Event{ClientId: proc, Kind: porcupine.ReturnEvent, Value: RegisterOutput{Unknown: true}, Id: call})
	}
	return append(events, late...)
}

func TestRegisterModelOnJepsenEtcdHistories(t *testing.T) {
	dir := porcupineDir(t)
	verdicts := jepsenVerdicts(t, dir)
	var linearizable, not int
	for n, want := range verdicts {
		events := parseJepsen(t, filepath.Join(dir, "test_data", "jepsen", "etcd_"+pad3(n)+".log"))
		if len(events) == 0 {
			t.Fatalf("etcd_%s.log: no operations parsed", pad3(n))
		}
		got := porcupine.CheckEvents(RegisterModel, events)
		if got != want {
			t.Errorf("etcd_%s.log: linearizable = %v, porcupine's own test says %v", pad3(n), got, want)
		}
		if want {
			linearizable++
		} else {
			not++
		}
	}
	t.Logf("%d Jepsen etcd histories agree with porcupine's verdicts: %d linearizable, %d not", len(verdicts), linearizable, not)
}

func pad3(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}
