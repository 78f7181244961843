package histories

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// fuzzErrorForm is every error Read may return for the name "f": the
// file and a line, or the file and "no events".
var fuzzErrorForm = regexp.MustCompile(`^f(:[1-9][0-9]*: |: no events)`)

// FuzzRead: whatever the bytes, Read does not panic, and either refuses
// them naming the file and a line, or accepts events that are read back
// the same once written again.
func FuzzRead(f *testing.F) {
	whole := lines(aWholeRun...)
	for _, h := range []string{
		whole,
		whole[:len(whole)-1],
		whole[:len(whole)/2],
		lines(evProbe),
		lines(evCampaign, evWon, evWrite, evRead, evReadOK, evWriteOK),
		lines(evRead, evReadOK, evReadOK),
		lines(evReadOK),
		lines(evProbe) + `{"index":1,"time":2` + "\n",
		lines(evProbe) + "{}{}\n",
		`{"index":0,"time":9223372036854775807,` + evProbe + "}\n",
		"",
		"\n",
		"garbage",
		"null\n",
	} {
		f.Add([]byte(h))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Read(bytes.NewReader(data), "f")
		if err != nil {
			if !fuzzErrorForm.MatchString(err.Error()) {
				t.Fatalf("error %q does not name the file and a line", err)
			}
			return
		}
		if len(res.Events) == 0 {
			t.Fatal("accepted a history without events")
		}
		if res.Truncated && bytes.HasSuffix(data, []byte("\n")) {
			t.Fatal("truncated, though the last line has its newline")
		}
		var again bytes.Buffer
		enc := json.NewEncoder(&again)
		for _, e := range res.Events {
			if err := enc.Encode(e); err != nil {
				t.Fatal(err)
			}
		}
		res2, err := Read(bytes.NewReader(again.Bytes()), "f")
		if err != nil {
			t.Fatalf("accepted events do not read back: %v\n%s", err, again.String())
		}
		var b1, b2 strings.Builder
		json.NewEncoder(&b1).Encode(res.Events)
		json.NewEncoder(&b2).Encode(res2.Events)
		if b1.String() != b2.String() || res2.Truncated {
			t.Fatalf("events read back differently:\n%s\n%s", b1.String(), b2.String())
		}
	})
}
