package reports

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/election-harness/harness/histories"
)

// storeWithRuns makes a store holding a failing, a passing and an
// unfinished run, laid out as `harness run` lays them out.
func storeWithRuns(t *testing.T) string {
	t.Helper()
	store := t.TempDir()
	add := func(test, stamp string, started time.Time, stale *bool) {
		dir := filepath.Join(store, test, stamp)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		hv := "v1.0.0 (0123456789ab+dirty)"
		if stale == nil {
			hv = "" // recorded before versions were kept
		}
		cfg, _ := json.Marshal(histories.RunConfig{Test: test, DB: "etcd", Version: "v3.6.16", Recipe: strings.TrimSuffix(test, "-pause"),
			Nemesis: []string{"pause"}, Seed: 7, Started: started, HarnessVersion: hv,
			Nodes: 5, TTL: histories.Duration(3 * time.Second), TimeLimit: histories.Duration(time.Minute)})
		if err := os.WriteFile(filepath.Join(dir, histories.ConfigFile), cfg, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, histories.HistoryFile), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		end := started.Add(75 * time.Second)
		if err := os.Chtimes(filepath.Join(dir, histories.HistoryFile), end, end); err != nil {
			t.Fatal(err)
		}
		if stale == nil {
			return // crashed before it was checked
		}
		src, res := render(t, run(*stale, "c1/2/2"))
		b, _ := json.Marshal(res)
		if err := os.WriteFile(filepath.Join(dir, histories.ResultsFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{histories.ReportFile, histories.JUnitFile} {
			b, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, f), b, 0o644)
		}
	}
	yes, no := true, false
	t0 := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	add("etcd-unfenced-pause", "20261124T060000", t0, &yes)
	add("etcd-election-pause", "20261124T060200", t0.Add(2*time.Minute), &no)
	add("etcd-election-pause", "20261124T060400", t0.Add(4*time.Minute), nil)
	os.Symlink("etcd-election-pause/20261124T060400", filepath.Join(store, histories.LatestLink))
	return store
}

func TestScanStoreListsEveryRunNewestFirst(t *testing.T) {
	runs, err := ScanStore(storeWithRuns(t))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, r.Path+" "+r.Verdict)
	}
	want := []string{"etcd-election-pause/20261124T060400 unchecked", "etcd-election-pause/20261124T060200 valid", "etcd-unfenced-pause/20261124T060000 invalid"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("runs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(runs[2].Summary, "stale-leader write") {
		t.Errorf("the failing run's summary %q does not say what failed", runs[2].Summary)
	}
}

func TestServeListsRunsAndServesReports(t *testing.T) {
	store := storeWithRuns(t)
	srv := httptest.NewServer(Handler(store))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, list := get("/")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	for _, want := range []string{`class="verdict invalid">invalid`, `class="verdict valid">valid`, `class="verdict unchecked">unchecked`,
		`href="etcd-unfenced-pause/20261124T060000/report.html"`} {
		if !strings.Contains(list, want) {
			t.Errorf("the run list lacks %s", want)
		}
	}
	code, report := get("/etcd-unfenced-pause/20261124T060000/report.html")
	if code != http.StatusOK || !strings.Contains(report, `id="verdict" class="banner invalid"`) {
		t.Fatalf("GET report = %d, without the invalid verdict", code)
	}
	if code, _ := get("/etcd-unfenced-pause/20261124T060000/junit.xml"); code != http.StatusOK {
		t.Errorf("GET junit.xml = %d", code)
	}
}

func TestWriteIndex(t *testing.T) {
	store := storeWithRuns(t)
	if err := WriteIndex(store); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(store, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `<tr class="run"`); n != 3 {
		t.Errorf("index.html lists %d runs, want 3", n)
	}
	// The harness column: who recorded each run.
	if n := strings.Count(string(b), `<td class="harness">v1.0.0 (0123456789ab&#43;dirty)</td>`); n != 2 {
		t.Errorf("index.html names the recording harness of %d runs, want 2", n)
	}
	if !strings.Contains(string(b), `<td class="harness">not recorded</td>`) || !strings.Contains(string(b), "<th>harness</th>") {
		t.Errorf("index.html has no harness column, or does not say a version was not recorded")
	}
}

// The index lists each run's size, TTL, time limit, duration and
// harness, and its start with its time zone.
func TestIndexShowsRunParameters(t *testing.T) {
	store := storeWithRuns(t)
	if err := WriteIndex(store); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(store, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<td class="started" data-sort="1795500000">2026-11-24 06:00:00 UTC</td>`,
		`<td class="nodes" data-sort="5">5</td>`,
		`<td class="ttl" data-sort="3">3s</td>`,
		`<td class="time-limit" data-sort="60">1m0s</td>`,
		`<td class="duration" data-sort="75">1m15s</td>`,
		`<td class="harness">v1.0.0 (0123456789ab`,
		`aria-sort`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
}
