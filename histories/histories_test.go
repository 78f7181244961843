package histories

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRecorderRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), HistoryFile)
	rec, err := NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	op := rec.NextOp()
	rec.Record(Event{Type: Invoke, Process: "c1", F: FCampaign, Op: op})
	rec.Record(Event{Type: OK, Process: "c1", F: FCampaign, Op: op, Token: &Token{Key: "/e/1", Seq: 7}})
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Events) != 2 || got.Truncated {
		t.Fatalf("read %d events (truncated %v), want 2", len(got.Events), got.Truncated)
	}
	if e := got.Events[1]; e.Index != 1 || e.Token == nil || e.Token.Seq != 7 || e.Time < got.Events[0].Time {
		t.Fatalf("second event %+v does not round-trip", e)
	}
}

func TestNewRunDirLinksLatest(t *testing.T) {
	store := t.TempDir()
	at := time.Date(2026, 11, 23, 3, 4, 5, 0, time.UTC)
	first, err := NewRunDir(store, "etcd-x", at)
	if err != nil {
		t.Fatal(err)
	}
	second, err := NewRunDir(store, "etcd-x", at) // same second: must not collide
	if err != nil {
		t.Fatal(err)
	}
	if first == second {
		t.Fatalf("two runs in one second share %s", first)
	}
	if filepath.Base(string(first)) != "20261123T030405" {
		t.Fatalf("run dir %s, want the timestamp layout", first)
	}
	for _, link := range []string{filepath.Join(store, "etcd-x", LatestLink), filepath.Join(store, LatestLink)} {
		got, err := filepath.EvalSymlinks(link)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := filepath.EvalSymlinks(string(second))
		if got != want {
			t.Errorf("%s -> %s, want %s", link, got, want)
		}
	}
	if st, err := os.Stat(second.Path(NodesDir)); err != nil || !st.IsDir() {
		t.Errorf("no nodes dir: %v", err)
	}
}
