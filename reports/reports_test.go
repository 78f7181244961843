package reports

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	junit "github.com/joshdk/go-junit"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/synthetic"
)

const (
	electionPrefix = "/eh/r/election/"
	registerKey    = "/eh/r/register/r"
)

var opts = checker.Options{ElectionPrefix: electionPrefix, RegisterPrefix: "/eh/r/register/", TTL: 3e9}

// run is a hand-built history: c1 leads and writes, is paused, c2 takes
// over; with stale set, c1 wakes and its unfenced write lands after
// c2's. value is what c1 writes (tests put markup in it).
func run(stale bool, value string) []histories.Event {
	var events []histories.Event
	op := int64(0)
	add := func(ms int64, e histories.Event) {
		e.Index, e.Time = int64(len(events)), ms*1e6
		events = append(events, e)
	}
	invoke := func(ms int64, p, f, key, v string, tok *histories.Token) int64 {
		op++
		add(ms, histories.Event{Type: histories.Invoke, Process: p, F: f, Op: op, Key: key, Value: v, Token: tok})
		return op
	}
	done := func(ms, id int64, typ histories.Type, v string, tok *histories.Token) {
		for _, e := range events {
			if e.Op == id && e.Type == histories.Invoke {
				e.Type = typ
				if tok != nil {
					e.Token = tok
				}
				if e.F == histories.FRead {
					e.Value = v
				}
				add(ms, e)
				return
			}
		}
	}
	store := func(ms int64, f, key, v string, rev, create int64) {
		add(ms, histories.Event{Type: histories.OK, Process: histories.ProcessStore, F: f, Key: key, Value: v, Revision: rev, CreateRevision: create})
	}
	probe := func(ms int64, m string, term uint64, leader bool) {
		add(ms, histories.Event{Type: histories.OK, Process: "probe:" + m, F: histories.FStatus, Member: &histories.MemberStatus{Name: m, ID: m, Term: term, IsLeader: leader, Leader: "n1"}})
	}
	t1 := &histories.Token{Key: electionPrefix + "c1", Seq: 2}
	t2 := &histories.Token{Key: electionPrefix + "c2", Seq: 3}
	add(0, histories.Event{Type: histories.Info, Process: histories.ProcessHarness, F: histories.FPhase, Value: histories.PhaseStart})
	probe(10, "n1", 2, true)
	probe(11, "n2", 2, false)
	c1 := invoke(20, "c1", histories.FCampaign, "", "c1", nil)
	store(25, histories.FStorePut, electionPrefix+"c1", "c1", 2, 2)
	done(30, c1, histories.OK, "", t1)
	c2 := invoke(35, "c2", histories.FCampaign, "", "c2", nil)
	store(40, histories.FStorePut, electionPrefix+"c2", "c2", 3, 3)
	w := invoke(100, "c1", histories.FWrite, registerKey, "c1/2/1", t1)
	store(105, histories.FStorePut, registerKey, "c1/2/1", 4, 4)
	done(110, w, histories.OK, "", nil)
	add(150, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart,
		Fault: &histories.Fault{ID: 1, Kind: "pause", Targets: []string{"c1"}, Params: map[string]string{"rule": "election-leader"}}})
	w = invoke(160, "c1", histories.FWrite, registerKey, value, t1)
	store(3200, histories.FStoreDelete, electionPrefix+"c1", "", 5, 2) // c1's lease expires
	done(3210, c2, histories.OK, "", t2)
	w2 := invoke(3300, "c2", histories.FWrite, registerKey, "c2/3/1", t2)
	store(3305, histories.FStorePut, registerKey, "c2/3/1", 6, 4)
	done(3310, w2, histories.OK, "", nil)
	add(5000, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStop,
		Fault: &histories.Fault{ID: 1, Kind: "pause", Targets: []string{"c1"}}})
	if stale {
		store(5005, histories.FStorePut, registerKey, value, 7, 4)
		done(5010, w, histories.OK, "", nil)
	} else {
		done(5010, w, histories.Fail, "", nil)
	}
	add(5020, histories.Event{Type: histories.Info, Process: "c1", F: histories.FLost, Token: t1})
	add(5100, histories.Event{Type: histories.Info, Process: histories.ProcessHarness, F: histories.FPhase, Value: histories.PhaseHeal})
	r := invoke(5200, "c2:r", histories.FRead, registerKey, "", nil)
	last := "c2/3/1"
	if stale {
		last = value
	}
	done(5210, r, histories.OK, last, nil)
	w3 := invoke(5300, "c2", histories.FWrite, registerKey, "c2/3/2", t2)
	store(5305, histories.FStorePut, registerKey, "c2/3/2", 8, 4)
	done(5310, w3, histories.OK, "", nil)
	add(5400, histories.Event{Type: histories.Info, Process: "c3", F: histories.FObserved, Key: electionPrefix + "c2", Value: "c2", CreateRevision: 3})
	probe(5500, "n1", 2, true)
	add(22000, histories.Event{Type: histories.Info, Process: histories.ProcessHarness, F: histories.FPhase, Value: histories.PhaseEnd})
	add(22100, histories.Event{Type: histories.Info, Process: histories.ProcessHarness, F: histories.FPhase, Value: histories.PhaseRecord})
	return events
}

// render checks a history and writes report.html and junit.xml into a
// fresh directory.
func render(t *testing.T, events []histories.Event) (string, checker.Results) {
	t.Helper()
	dir := t.TempDir()
	res, err := checker.Check(context.Background(), events, opts)
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Title: "etcd-unfenced-pause", Facts: []Fact{{"db", "etcd v3.6.16"}}, Config: map[string]string{"seed": "1"},
		Command: "harness run --seed 1", Options: opts, Results: res, Events: events, NodeLogs: []string{"nodes/n1.log"}}
	if err := WriteHTML(filepath.Join(dir, histories.ReportFile), in); err != nil {
		t.Fatal(err)
	}
	if err := WriteJUnit(filepath.Join(dir, histories.JUnitFile), in); err != nil {
		t.Fatal(err)
	}
	return dir, res
}

func TestHandBuiltRunsHaveTheExpectedVerdicts(t *testing.T) {
	for _, c := range []struct {
		stale bool
		want  checker.Verdict
	}{{false, checker.Valid}, {true, checker.Invalid}} {
		res, err := checker.Check(context.Background(), run(c.stale, "c1/2/2"), opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Valid != c.want {
			t.Errorf("stale=%v: %s (%s), want %s", c.stale, res.Valid, res.Summary, c.want)
		}
	}
}

func TestReportEscapesHistoryValues(t *testing.T) {
	evil := `<script>alert("pwned")</script><img src=x onerror=alert(1)>`
	dir, res := render(t, run(true, evil))
	if res.Valid != checker.Invalid {
		t.Fatalf("the stale write was not caught: %s", res.Summary)
	}
	b, err := os.ReadFile(filepath.Join(dir, histories.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, raw := range []string{`<script>alert`, `<img src=x`} {
		if strings.Contains(page, raw) {
			i := strings.Index(page, raw)
			t.Errorf("report.html holds %q unescaped: ...%s...", raw, page[max(0, i-80):min(len(page), i+80)])
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(") {
		t.Errorf("the value is not shown as text in the evidence")
	}
	for _, remote := range []string{`src="http`, `href="http`, `@import`} {
		if strings.Contains(page, remote) {
			t.Errorf("report.html refers to the network (%s): it must work offline", remote)
		}
	}
}

func TestJUnitNamesTheFailingCheck(t *testing.T) {
	dir, res := render(t, run(true, "c1/2/2"))
	suites, err := junit.IngestFile(filepath.Join(dir, histories.JUnitFile))
	if err != nil {
		t.Fatalf("junit.xml does not parse: %v", err)
	}
	if len(suites) != 1 {
		t.Fatalf("%d suites, want 1", len(suites))
	}
	var failed []string
	for _, tc := range suites[0].Tests {
		if tc.Status == junit.StatusFailed {
			failed = append(failed, tc.Name)
			if tc.Error == nil || !strings.Contains(tc.Error.Error(), "stale-leader write") {
				t.Errorf("%s fails with %v, want the stale-leader write as its message", tc.Name, tc.Error)
			}
		}
	}
	if fmt.Sprint(failed) != "[P4 fenced work is linearizable]" {
		t.Fatalf("failed test cases %v, want only P4", failed)
	}
	if got := len(suites[0].Tests); got != len(res.Checks) {
		t.Errorf("%d test cases, want one per check (%d)", got, len(res.Checks))
	}
}

// A long run's report stays small: the timeline is spans, latency is
// sampled, porcupine draws a window, and the page says what it left out.
func TestReportOfALongRun(t *testing.T) {
	dir, res := renderLong(t)
	if res.Valid != checker.Valid {
		t.Fatalf("synthetic run: %s", res.Summary)
	}
	st, err := os.Stat(filepath.Join(dir, histories.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 8<<20 {
		t.Errorf("report.html of %d events is %d bytes", len(longRun), st.Size())
	}
	b, _ := os.ReadFile(filepath.Join(dir, histories.ReportFile))
	for _, want := range []string{"ok operations sampled evenly", "checked on their own for this picture"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the report does not say what it left out (%q)", want)
		}
	}
	t.Logf("%d events: report.html is %d KiB", len(longRun), st.Size()>>10)
}

var longRun = synthetic.Run(100000)

func renderLong(t testing.TB) (string, checker.Results) {
	dir := t.TempDir()
	o := checker.Options{ElectionPrefix: synthetic.ElectionPrefix, RegisterPrefix: synthetic.RegisterPrefix, TTL: 3e9}
	res, err := checker.Check(context.Background(), longRun, o)
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Title: "synthetic", Options: o, Results: res, Events: longRun}
	if err := WriteHTML(filepath.Join(dir, histories.ReportFile), in); err != nil {
		t.Fatal(err)
	}
	return dir, res
}

// BenchmarkReport100kEvents is the time to render report.html of a
// 100,000-event history (checking excluded).
func BenchmarkReport100kEvents(b *testing.B) {
	o := checker.Options{ElectionPrefix: synthetic.ElectionPrefix, RegisterPrefix: synthetic.RegisterPrefix, TTL: 3e9}
	res, err := checker.Check(context.Background(), longRun, o)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := WriteHTML(filepath.Join(dir, histories.ReportFile), Input{Title: "synthetic", Options: o, Results: res, Events: longRun}); err != nil {
			b.Fatal(err)
		}
	}
	st, _ := os.Stat(filepath.Join(dir, histories.ReportFile))
	b.ReportMetric(float64(st.Size())/(1<<20), "MiB")
}
