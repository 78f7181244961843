package reports

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
)

// maxVisualizedOps bounds porcupine's visualization, which draws every
// operation: past it the page would not open quickly, so a window of
// operations around the first anomaly (or the start) is shown instead.
const maxVisualizedOps = 3000

// visualizeTimeout bounds porcupine's search for the visualization.
const visualizeTimeout = 20 * time.Second

// linearizability is porcupine's visualization of one register.
type linearizability struct {
	Key    string
	Result string // porcupine's verdict on what is shown
	HTML   string // a whole page, shown in a frame
	Note   string // what was left out
	// Clients name porcupine's clients (which it numbers from 0) as the
	// campaigners' processes: c1, its act loop c1:a, its reader c1:r.
	Clients []string
}

// visualizeRegisters runs porcupine on every register with faults as
// annotations and returns its visualizations. focus is the time of the
// first register anomaly, or -1.
func visualizeRegisters(events []histories.Event, opts checker.Options, focus int64) []linearizability {
	var annotations []porcupine.Annotation
	for _, w := range faultWindows(events, 0) {
		annotations = append(annotations, porcupine.Annotation{Tag: "nemesis", Start: int64(w.Start * 1e9), End: int64(w.End * 1e9),
			Description: w.Title, BackgroundColor: "#f3d9a4"})
	}
	byKey := checker.RegisterOperations(events, opts)
	var out []linearizability
	for _, key := range slices.Sorted(maps.Keys(byKey)) {
		out = append(out, visualizeRegister(key, byKey[key], events, annotations, focus))
	}
	return out
}

// visualizeRegister draws one register. The picture never decides
// anything: a panic inside porcupine leaves a note in its place, and the
// verdict, results.json and junit.xml stand.
func visualizeRegister(key string, ops []porcupine.Operation, events []histories.Event, annotations []porcupine.Annotation, focus int64) (l linearizability) {
	defer func() {
		if r := recover(); r != nil {
			l = linearizability{Key: key, Note: fmt.Sprintf("porcupine could not draw it (it panicked: %v); the verdict above does not rest on this picture", r)}
		}
	}()
	ops, note := opsWindow(ops, focus)
	res, info := porcupine.CheckOperationsVerbose(checker.RegisterModel, ops, visualizeTimeout)
	info.AddAnnotations(annotations)
	var b bytes.Buffer
	if err := porcupine.Visualize(checker.RegisterModel, info, &b); err != nil {
		return linearizability{Key: key, Note: fmt.Sprintf("porcupine could not draw it: %v", err)}
	}
	return linearizability{Key: key, Result: string(res), HTML: b.String(), Note: note, Clients: registerClients(events, key)}
}

// opsWindow keeps at most maxVisualizedOps operations: those invoked nearest
// the focus time, else the first ones.
func opsWindow(ops []porcupine.Operation, focus int64) ([]porcupine.Operation, string) {
	if len(ops) <= maxVisualizedOps {
		return ops, ""
	}
	sorted := append([]porcupine.Operation(nil), ops...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Call < sorted[j].Call })
	from := 0
	if focus >= 0 {
		i := sort.Search(len(sorted), func(i int) bool { return sorted[i].Call >= focus })
		from = max(0, min(i-maxVisualizedOps/2, len(sorted)-maxVisualizedOps))
	}
	shown := sorted[from : from+maxVisualizedOps]
	return shown, fmt.Sprintf("showing operations %d to %d of %d, invoked from %.1fs to %.1fs, checked on their own for this picture (the verdict above is on all of them)",
		from+1, from+len(shown), len(sorted), seconds(shown[0].Call), seconds(shown[len(shown)-1].Call))
}

func lastTime(events []histories.Event) int64 {
	if len(events) == 0 {
		return 0
	}
	return events[len(events)-1].Time
}

// registerClients names porcupine's clients of register key in the order
// checker.RegisterOperations numbers them: by first appearance among the
// key's writes, then its reads, in invocation order.
func registerClients(events []histories.Event, key string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range []string{histories.FWrite, histories.FRead} {
		for _, e := range events {
			if e.Type == histories.Invoke && e.F == f && e.Key == key && !seen[e.Process] {
				seen[e.Process] = true
				out = append(out, e.Process)
			}
		}
	}
	return out
}
