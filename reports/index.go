package reports

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
)

// IndexFile is the store's static list of runs.
const IndexFile = "index.html"

//go:embed index.html.tmpl
var indexTemplate string

var indexTmpl = template.Must(template.New("index").Parse(indexTemplate))

// RunSummary is one run as the store's index lists it.
type RunSummary struct {
	// Path is the run directory relative to the store: TEST/STAMP.
	Path    string
	Test    string
	DB      string
	Version string
	Recipe  string
	Nemesis string
	Seed    int64
	Nodes   int
	TTL     time.Duration
	// TimeLimit is how long faults were injected; Duration how long the
	// run took, from its start to its history's last write (0 unknown).
	TimeLimit time.Duration
	Duration  time.Duration
	Started   time.Time
	// Verdict is valid, invalid or unknown; "unchecked" without results.
	Verdict string
	Summary string
	// HarnessVersion is the harness that recorded the run.
	HarnessVersion string
}

// ScanStore lists every run under store (STORE/TEST/STAMP holding a
// config.json), newest first. Runs it cannot read are listed as such,
// never dropped.
func ScanStore(store string) ([]RunSummary, error) {
	tests, err := os.ReadDir(store)
	if err != nil {
		return nil, fmt.Errorf("reading store %s: %w", store, err)
	}
	var out []RunSummary
	for _, t := range tests {
		if !t.IsDir() {
			continue // files and the latest links
		}
		runs, err := os.ReadDir(filepath.Join(store, t.Name()))
		if err != nil {
			continue
		}
		for _, r := range runs {
			dir := filepath.Join(store, t.Name(), r.Name())
			if !r.IsDir() {
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, histories.ConfigFile)); err != nil {
				continue
			}
			out = append(out, summarize(dir, t.Name()+"/"+r.Name()))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Started.Equal(out[j].Started) {
			return out[i].Started.After(out[j].Started)
		}
		return out[i].Path > out[j].Path
	})
	return out, nil
}

func summarize(dir, rel string) RunSummary {
	s := RunSummary{Path: rel, Test: filepath.Dir(rel), Verdict: "unchecked"}
	cfg, err := histories.RunDir(dir).ReadConfig()
	if err != nil {
		s.Summary = "config.json cannot be read"
		return s
	}
	s.DB, s.Version, s.Recipe, s.Seed, s.Started = cfg.DB, cfg.Version, cfg.Recipe, cfg.Seed, cfg.Started
	s.Nodes, s.TTL, s.TimeLimit = cfg.Nodes, time.Duration(cfg.TTL), time.Duration(cfg.TimeLimit)
	if st, err := os.Stat(filepath.Join(dir, histories.HistoryFile)); err == nil && !cfg.Started.IsZero() && st.ModTime().After(cfg.Started) {
		// The history is appended to until the run ends: its last write
		// is the run's end, without reading it.
		s.Duration = st.ModTime().Sub(cfg.Started).Round(time.Second)
	}
	s.HarnessVersion = cfg.HarnessVersion
	if s.HarnessVersion == "" {
		s.HarnessVersion = "not recorded"
	}
	s.Nemesis = "none"
	if len(cfg.Nemesis) > 0 {
		s.Nemesis = strings.Join(cfg.Nemesis, ",")
	}
	b, err := os.ReadFile(filepath.Join(dir, histories.ResultsFile))
	if err != nil {
		s.Summary = "not checked (the run did not finish, or run `harness check " + dir + "`)"
		return s
	}
	var res checker.Results
	if err := json.Unmarshal(b, &res); err != nil {
		s.Summary = "results.json cannot be read: " + err.Error()
		return s
	}
	s.Verdict, s.Summary = string(res.Valid), res.Summary
	return s
}

// renderIndex writes the index page of runs.
func renderIndex(w io.Writer, store string, runs []RunSummary) error {
	return indexTmpl.Execute(w, struct {
		Store string
		Runs  []RunSummary
	}{store, runs})
}

// WriteIndex writes STORE/index.html, a static list of the store's runs
// that links to each run's report.
func WriteIndex(store string) error {
	runs, err := ScanStore(store)
	if err != nil {
		return err
	}
	tmp := filepath.Join(store, IndexFile+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("writing the store index: %w", err)
	}
	if err := renderIndex(f, store, runs); err != nil {
		f.Close()
		return fmt.Errorf("rendering the store index: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing the store index: %w", err)
	}
	return os.Rename(tmp, filepath.Join(store, IndexFile))
}

// Handler serves a store: "/" lists its runs as they are now, and every
// other path is a file of the store (reports, histories, node logs).
func Handler(store string) http.Handler {
	files := http.FileServer(http.Dir(store))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && r.URL.Path != "/"+IndexFile {
			files.ServeHTTP(w, r)
			return
		}
		runs, err := ScanStore(store)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := renderIndex(w, store, runs); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
}
