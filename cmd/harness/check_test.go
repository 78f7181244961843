package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/run"
)

// offlineRun writes a run directory with a config and the given history
// lines, as a stored run would have them.
func offlineRun(t *testing.T, lines []string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := run.Config{Test: "etcd-election-none", RunID: "t", DB: "etcd", Version: "v3.6.16", Nodes: 3, Campaigners: 2,
		Recipe: "etcd-election", TTL: run.Duration(3 * time.Second), ElectionPrefix: "/eh/t/election/",
		RegisterPrefix: "/eh/t/register/", RegisterKey: "/eh/t/register/r", LivenessBound: run.Duration(16 * time.Second)}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, histories.ConfigFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	var h strings.Builder
	for i, l := range lines {
		if strings.Contains(l, `"index":%d`) {
			l = fmt.Sprintf(l, i) // events are numbered by their line
		}
		h.WriteString(l)
	}
	if err := os.WriteFile(filepath.Join(dir, histories.HistoryFile), []byte(h.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Lines of a small history: two probes, then c1 campaigns and wins.
// offlineRun numbers them.
var (
	lineProbeN1 = `{"index":%d,"time":1000,"type":"ok","process":"probe:n1","f":"status","member":{"name":"n1","id":"a1","term":2,"is_leader":true}}` + "\n"
	lineProbeN2 = `{"index":%d,"time":2000,"type":"ok","process":"probe:n2","f":"status","member":{"name":"n2","id":"a2","term":2,"is_leader":true}}` + "\n"
	lineInvoke  = `{"index":%d,"time":3000,"type":"invoke","process":"c1","f":"campaign","op":1,"value":"c1"}` + "\n"
	lineOK      = `{"index":%d,"time":4000,"type":"ok","process":"c1","f":"campaign","op":1,"value":"c1","token":{"key":"/eh/t/election/c1","seq":5}}` + "\n"
)

func TestCheckOffline(t *testing.T) {
	cases := []struct {
		name     string
		lines    []string
		wantCode int
		wantOut  string // in stdout (verdict) or stderr (setup error)
	}{
		{"two raft leaders in one term is invalid", []string{lineProbeN1, lineProbeN2, lineInvoke, lineOK}, exitInvalid,
			"INVALID: P1 raft election safety failed: two leaders in raft term 2"},
		{"an undecided history is unknown, not valid", []string{lineProbeN1, lineInvoke, lineOK}, exitUnknown, "UNKNOWN:"},
		{"a malformed line is refused with FILE:LINE", []string{lineProbeN1, lineInvoke, "{\"index\":2,\"time\":\n", lineOK}, exitSetup,
			"history.jsonl:3: "},
		{"a line of an unknown type is refused", []string{lineProbeN1, strings.Replace(lineInvoke, `"invoke"`, `"started"`, 1)}, exitSetup,
			`history.jsonl:2: unknown event type "started"`},
		{"a completion without its invoke is refused", []string{lineProbeN1, lineProbeN2, lineOK}, exitSetup,
			`history.jsonl:3: ok of op 1 ("campaign" by c1) has no invoke before it`},
		{"an empty history is refused, not valid", nil, exitSetup, "history.jsonl: no events"},
		{"a history of one cut-off line is refused", []string{lineProbeN1[:30]}, exitSetup, "history.jsonl: no events"},
		{"a history cut off by a crash is still checked", []string{lineProbeN1, lineProbeN2, lineInvoke, lineOK[:40]}, exitInvalid,
			"history cut off"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := offlineRun(t, c.lines)
			r := harness(t, "check", dir)
			if r.code != c.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, c.wantCode, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout+r.stderr, c.wantOut) {
				t.Fatalf("output does not contain %q\nstdout:\n%s\nstderr:\n%s", c.wantOut, r.stdout, r.stderr)
			}
			_, err := os.Stat(filepath.Join(dir, histories.ResultsFile))
			if c.wantCode == exitSetup {
				if err == nil {
					t.Errorf("a refused history still produced results.json")
				}
				return
			}
			if err != nil {
				t.Fatalf("no results.json: %v", err)
			}
			res := readResults(t, dir)
			wantValid := map[int]any{exitValid: true, exitInvalid: false, exitUnknown: "unknown"}[c.wantCode]
			if res["valid"] != wantValid {
				t.Errorf("results.json valid = %v, want %v", res["valid"], wantValid)
			}
			for _, f := range []string{histories.ReportFile, histories.JUnitFile} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("no %s: %v", f, err)
				}
			}
		})
	}
}

// A crash of the checker is exit 4, never a verdict: no results.json,
// no report claiming one (not even an earlier check's), the history
// kept, and the checker's output where the message says.
func TestCheckCrashIsNotAVerdict(t *testing.T) {
	history := []string{lineProbeN1, lineProbeN2, lineInvoke, lineOK}
	for _, crash := range []string{"check", "check-fatal", "check-kill", "report", "report-fatal", "report-kill"} {
		t.Run(crash, func(t *testing.T) {
			dir := offlineRun(t, history)
			if r := harness(t, "check", dir); r.code != exitInvalid {
				t.Fatalf("first check: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
			}
			before, _ := os.ReadFile(filepath.Join(dir, histories.HistoryFile))
			r := harnessEnv(t, []string{"HARNESS_TEST_CRASH=" + crash}, "check", dir)
			if r.code != exitCrash {
				t.Fatalf("exit %d, want 4\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			logPath := filepath.Join(dir, histories.CheckLogFile)
			why := "panic: HARNESS_TEST_CRASH=" + crash
			if strings.HasSuffix(crash, "-kill") {
				why = "signal: killed"
			}
			for _, want := range []string{"the checker crashed", why, "results.json was not written", logPath} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
				}
			}
			if strings.Contains(r.stdout, "INVALID") || strings.Contains(r.stdout, "VALID:") {
				t.Errorf("a crashed check printed a verdict:\n%s", r.stdout)
			}
			for _, f := range []string{histories.ResultsFile, histories.ReportFile, histories.JUnitFile,
				histories.ResultsFile + ".tmp", histories.ReportFile + ".tmp", histories.JUnitFile + ".tmp"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
					t.Errorf("a crashed check left %s", f)
				}
			}
			if log, err := os.ReadFile(logPath); err != nil || !strings.HasSuffix(crash, "-kill") && !strings.Contains(string(log), "HARNESS_TEST_CRASH="+crash) {
				t.Errorf("the checker's output is not in %s: %v\n%s", logPath, err, log)
			}
			if after, _ := os.ReadFile(filepath.Join(dir, histories.HistoryFile)); string(after) != string(before) {
				t.Errorf("history.jsonl changed")
			}
			// Checked again without the crash: the verdict, and no log left.
			if r := harness(t, "check", dir); r.code != exitInvalid {
				t.Fatalf("check after the crash: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
			}
			if _, err := os.Stat(logPath); err == nil {
				t.Errorf("a finished check left %s", histories.CheckLogFile)
			}
			if _, err := os.Stat(filepath.Join(dir, histories.ResultsFile)); err != nil {
				t.Errorf("no results.json: %v", err)
			}
		})
	}
}

func TestCheckRefusesWhatIsNotARun(t *testing.T) {
	r := harness(t, "check", t.TempDir())
	if r.code != exitSetup || !strings.Contains(r.stderr, "a run directory?") {
		t.Fatalf("exit %d, stderr %q; want 3 and a hint", r.code, r.stderr)
	}
}

// TestCheckRefusesAConfigWithoutWhatItNeeds: a config.json without the
// prefixes, TTL or liveness bound is refused (exit 3, naming each field),
// never judged: judged, every key would be foreign and every run invalid.
func TestCheckRefusesAConfigWithoutWhatItNeeds(t *testing.T) {
	for _, c := range []struct {
		config string
		want   []string
	}{
		{`{}`, []string{"db", "election_prefix", "register_prefix", "ttl", "liveness_bound"}},
		{`{"db":"etcd","ttl":"3s","liveness_bound":"16s","nemesis":["pause"]}`, []string{"election_prefix", "register_prefix"}},
	} {
		dir := offlineRun(t, []string{lineProbeN1, lineProbeN2, lineInvoke, lineOK})
		if err := os.WriteFile(filepath.Join(dir, histories.ConfigFile), []byte(c.config), 0o644); err != nil {
			t.Fatal(err)
		}
		r := harness(t, "check", dir)
		if r.code != exitSetup || !strings.Contains(r.stderr, "lacks what the checker needs: "+strings.Join(c.want, ", ")) {
			t.Errorf("config %s: exit %d, stderr %q; want 3 naming %v", c.config, r.code, r.stderr, c.want)
		}
		if _, err := os.Stat(filepath.Join(dir, histories.ResultsFile)); err == nil {
			t.Errorf("config %s: results.json written for a history that was not judged", c.config)
		}
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--nemesis", "flood"}, `unknown nemesis "flood"`},
		{[]string{"--recipe", "raft-magic"}, `unknown recipe "raft-magic"`},
		{[]string{"--db", "zookeeper"}, `--db "zookeeper": unknown database`},
		{[]string{"--nodes", "0"}, "--nodes 0"},
		{[]string{"--ttl", "100ms"}, "--ttl 100ms"},
		{[]string{"--time-limit", "banana"}, "invalid argument"},
	}
	for _, c := range cases {
		r := harness(t, append([]string{"run", "--store", t.TempDir()}, c.args...)...)
		if r.code != exitSetup || !strings.Contains(r.stderr, c.want) {
			t.Errorf("run %v: exit %d, stderr %q; want 3 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
}
