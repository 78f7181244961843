package histories_test

import (
	"path/filepath"
	"testing"

	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/synthetic"
)

// Synthetic histories stand for real runs in benchmarks and report
// tests: they keep the contract.
func TestSyntheticHistoriesRead(t *testing.T) {
	for _, n := range []int{1, 100, 20000} {
		path := filepath.Join(t.TempDir(), histories.HistoryFile)
		events := synthetic.Run(n)
		if err := histories.WriteAll(path, events); err != nil {
			t.Fatal(err)
		}
		h, err := histories.ReadFile(path)
		if err != nil {
			t.Fatalf("synthetic.Run(%d): %v", n, err)
		}
		if len(h.Events) != len(events) || h.Truncated {
			t.Fatalf("synthetic.Run(%d): read %d of %d events", n, len(h.Events), len(events))
		}
	}
}
