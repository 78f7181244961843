package run

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/election-harness/harness/histories"
)

// goldenDir holds real runs kept as regression cases: each case is a run
// directory cut down to config.json, history.jsonl and the results.json
// the checker wrote for it (testdata/golden/README.md says how each was
// recorded).
const goldenDir = "../testdata/golden"

// updateGoldenEnv, set to 1, rewrites each kept results.json from a new
// check of its history instead of comparing (`make golden`): for a
// checker changed on purpose, whose diff is then reviewed.
const updateGoldenEnv = "UPDATE_GOLDEN"

// TestGolden re-checks every kept run's history with the check that
// `harness check` runs (check-child's readConfig + checkHistory, in a
// copy of the run directory) and compares the results.json it writes to
// the kept one byte for byte, and its verdict to the exit code. Nothing
// in results.json depends on the machine or the time of the check, so
// no field is exempt.
func TestGolden(t *testing.T) {
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	update := os.Getenv(updateGoldenEnv) == "1"
	cases := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		cases++
		t.Run(e.Name(), func(t *testing.T) {
			golden := filepath.Join(goldenDir, e.Name())
			dir := t.TempDir()
			for _, f := range []string{histories.ConfigFile, histories.HistoryFile} {
				copyFile(t, filepath.Join(golden, f), filepath.Join(dir, f))
			}
			cfg, err := ReadConfig(histories.RunDir(dir))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			checked, err := checkHistory(histories.RunDir(dir), cfg, &out, false)
			if err != nil {
				t.Fatalf("check refused the history: %v", err)
			}
			got, err := os.ReadFile(filepath.Join(dir, histories.ResultsFile))
			if err != nil {
				t.Fatal(err)
			}
			// The verdict returned must be what results.json says.
			res := map[string]any{}
			if err := json.Unmarshal(got, &res); err != nil {
				t.Fatalf("new results.json: %v", err)
			}
			if want := map[any]string{true: "valid", false: "invalid", "unknown": "unknown"}[res["valid"]]; string(checked.Valid) != want {
				t.Errorf("the check returned %s, but results.json says valid=%v", checked.Valid, res["valid"])
			}

			keptPath := filepath.Join(golden, histories.ResultsFile)
			if update {
				if err := os.WriteFile(keptPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("rewrote %s: %s", keptPath, firstLine(out.String()))
				return
			}
			kept, err := os.ReadFile(keptPath)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, kept) {
				t.Errorf("results.json differs from %s (a checker changed on purpose: %s=1 go test ./run -run TestGolden, or make golden, and review the diff):\n%s",
					keptPath, updateGoldenEnv, jsonDiff(t, kept, got))
			}
		})
	}
	if cases == 0 {
		t.Fatalf("no cases in %s", goldenDir)
	}
}

// firstLine is the verdict line of a check's summary, for the update log.
func firstLine(summary string) string {
	for _, l := range strings.Split(summary, "\n") {
		for _, v := range []string{"VALID", "INVALID", "UNKNOWN"} {
			if strings.HasPrefix(l, v+":") {
				return l
			}
		}
	}
	return ""
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// jsonDiff lists the JSON paths at which two documents differ (the first
// 20), so a failure says which fields moved rather than dumping both;
// documents equal as JSON but not as bytes are said to differ in format.
func jsonDiff(t *testing.T, want, got []byte) string {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		return fmt.Sprintf("kept results.json is not JSON: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		return fmt.Sprintf("new results.json is not JSON: %v", err)
	}
	var diffs []string
	diffJSON("", w, g, &diffs)
	if len(diffs) == 0 {
		return "  equal as JSON, different in format (indentation, key order or the final newline)"
	}
	more := ""
	if len(diffs) > 20 {
		more = fmt.Sprintf("\n  ... and %d more", len(diffs)-20)
		diffs = diffs[:20]
	}
	return "  " + strings.Join(diffs, "\n  ") + more
}

func diffJSON(path string, want, got any, diffs *[]string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			diffJSON(path+"."+k, w[k], g[k], diffs)
		}
		return
	case []any:
		g, ok := got.([]any)
		if !ok {
			break
		}
		for i := 0; i < len(w) || i < len(g); i++ {
			var wi, gi any = missing{}, missing{}
			if i < len(w) {
				wi = w[i]
			}
			if i < len(g) {
				gi = g[i]
			}
			diffJSON(fmt.Sprintf("%s[%d]", path, i), wi, gi, diffs)
		}
		return
	}
	if !reflect.DeepEqual(want, got) {
		*diffs = append(*diffs, fmt.Sprintf("%s: kept %s, now %s", strings.TrimPrefix(path, "."), short(want), short(got)))
	}
}

// missing stands for an array element one side lacks.
type missing struct{}

func short(v any) string {
	if v == nil {
		return "(absent)"
	}
	if _, ok := v.(missing); ok {
		return "(absent)"
	}
	b, _ := json.Marshal(v)
	if len(b) > 120 {
		return string(b[:117]) + "..."
	}
	return string(b)
}
