package histories

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRecorderFitsWhatItRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), HistoryFile)
	rec, err := NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	tok := &Token{Key: strings.Repeat("k", 2*MaxStringBytes), Seq: 3}
	fault := &Fault{ID: 1, Kind: "pause", Targets: []string{strings.Repeat("t", MaxStringBytes+5)}, Params: map[string]string{"rule": strings.Repeat("\xff", MaxStringBytes)}}
	big := strings.Repeat("é", MaxStringBytes) // 2 bytes each
	op := rec.NextOp()
	rec.Record(Event{Type: Invoke, Process: "c1:r", F: FRead, Op: op, Key: "/r"})
	got := rec.Record(Event{Type: OK, Process: "c1:r", F: FRead, Op: op, Key: "/r", Value: big, Error: "bad \xff\xfe utf-8", Token: tok})
	rec.Record(Event{Type: Info, Process: ProcessNemesis, F: FFaultStart, Fault: fault})
	// Several long strings that JSON escapes six-fold: the line would be over 1 MiB.
	esc := strings.Repeat("\x01", MaxStringBytes)
	rec.Record(Event{Type: Info, Process: "c1", F: FLost, Error: esc, Session: esc, Token: &Token{Key: esc, Session: esc}})
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if len(tok.Key) != 2*MaxStringBytes || len(fault.Targets[0]) != MaxStringBytes+5 || len(fault.Params["rule"]) != MaxStringBytes {
		t.Fatalf("recording changed the caller's token or fault")
	}
	if len(got.Value) > MaxStringBytes || !strings.HasSuffix(got.Value, fmt.Sprintf("...[cut: %d bytes]", len(big))) {
		t.Fatalf("value of %d bytes recorded as %d bytes ending %q", len(big), len(got.Value), got.Value[len(got.Value)-30:])
	}
	h, err := ReadFile(path)
	if err != nil {
		t.Fatalf("what the recorder wrote does not read back: %v", err)
	}
	if len(h.Events) != 4 {
		t.Fatalf("%d events, want 4", len(h.Events))
	}
	if e := h.Events[1]; e.Value != got.Value || e.Error != "bad \uFFFD\uFFFD utf-8" || len(e.Token.Key) > MaxStringBytes {
		t.Fatalf("read back %q %q, want what Record returned", e.Value[:10], e.Error)
	}
	b, _ := os.ReadFile(path)
	for i, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if len(l) > MaxLineBytes {
			t.Errorf("line %d is %d bytes", i+1, len(l))
		}
	}
	var e Event
	if err := json.Unmarshal([]byte(strings.Split(string(b), "\n")[3]), &e); err != nil || len(e.Error) > 1<<10 {
		t.Errorf("the over-long line was not cut harder: %v, error of %d bytes", err, len(e.Error))
	}
}
