package checker

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/election-harness/harness/histories"
)

// TestAnEmptyRecordMakesNoPropertyFail: each golden run with its store
// record emptied (every store event dropped, the record phase kept) is
// invalid on no property it was not invalid on before. A property that
// needs the record must say unknown without it, never blame what the
// record would have explained.
func TestAnEmptyRecordMakesNoPropertyFail(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join("..", "testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		t.Run(d.Name(), func(t *testing.T) {
			dir := histories.RunDir(filepath.Join("..", "testdata", "golden", d.Name()))
			cfg, err := dir.ReadConfig()
			if err != nil {
				t.Fatal(err)
			}
			rr, err := histories.ReadFile(dir.Path(histories.HistoryFile))
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{ElectionPrefix: cfg.ElectionPrefix, RegisterPrefix: cfg.RegisterPrefix, TTL: time.Duration(cfg.TTL),
				LivenessBound: time.Duration(cfg.LivenessBound), ReadConsistency: cfg.Consistency, ExpectFaults: len(cfg.Nemesis) > 0}
			before, err := Check(context.Background(), rr.Events, opts)
			if err != nil {
				t.Fatal(err)
			}
			var emptied []histories.Event
			for _, e := range rr.Events {
				switch e.F {
				case histories.FStorePut, histories.FStoreDelete, histories.FStoreGap:
					continue
				}
				e.Index = int64(len(emptied))
				emptied = append(emptied, e)
			}
			if len(emptied) == len(rr.Events) {
				t.Fatal("the golden run has no store record to empty")
			}
			after, err := Check(context.Background(), emptied, opts)
			if err != nil {
				t.Fatal(err)
			}
			wasInvalid := map[string]bool{}
			for _, c := range before.Checks {
				wasInvalid[c.Property] = c.Verdict == Invalid
			}
			for _, c := range after.Checks {
				if c.Verdict == Invalid && !wasInvalid[c.Property] {
					first := ""
					if len(c.Evidence) > 0 {
						first = c.Evidence[0].Message
					}
					t.Errorf("%s is invalid once the record is empty (it was not before): %d anomalies, the first: %s", c.Name, len(c.Evidence), first)
				}
			}
		})
	}
}
