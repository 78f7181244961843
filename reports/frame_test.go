package reports

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
)

// earlyPut is run(true, ...) with one more write of c2's: timed out
// (info), its value's store put received before the write was invoked.
// The contract lets it through; the register model cannot place it.
func earlyPut() []histories.Event {
	events := run(true, "c1/2/2")
	t2 := &histories.Token{Key: electionPrefix + "c2", Seq: 3}
	extra := []histories.Event{
		{Time: 3250e6, Type: histories.OK, Process: histories.ProcessStore, F: histories.FStorePut, Key: registerKey, Value: "c2/3/early", Revision: 6, CreateRevision: 4},
		{Time: 3260e6, Type: histories.Invoke, Process: "c2", F: histories.FWrite, Op: 100, Key: registerKey, Value: "c2/3/early", Token: t2},
		{Time: 3270e6, Type: histories.Info, Process: "c2", F: histories.FWrite, Op: 100, Key: registerKey, Value: "c2/3/early", Token: t2},
	}
	for i := range events {
		if events[i].Process == histories.ProcessStore && events[i].Revision >= 6 {
			events[i].Revision++ // the early put is revision 6
		}
	}
	events = append(events, extra...)
	slices.SortStableFunc(events, func(a, b histories.Event) int { return int(a.Time - b.Time) })
	for i := range events {
		events[i].Index = int64(i)
	}
	return events
}

// TestAReportIsWrittenWhenTheFrameCannotBeDrawn: an operation porcupine's
// visualization cannot describe leaves the verdict and the report, the
// frame saying why it is missing.
func TestAReportIsWrittenWhenTheFrameCannotBeDrawn(t *testing.T) {
	dir, res := render(t, earlyPut())
	if res.Valid != checker.Invalid {
		t.Fatalf("verdict %s (%s), want invalid", res.Valid, res.Summary)
	}
	b, err := os.ReadFile(filepath.Join(dir, histories.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `class="verdict invalid"`) {
		t.Error("report.html does not say the verdict")
	}
}

// TestAFrameThatPanicsLeavesANote: were porcupine to panic on what it is
// given (an operation returning before its call, with no input), the
// register's frame is a note, never a crash.
func TestAFrameThatPanicsLeavesANote(t *testing.T) {
	ops := []porcupine.Operation{
		{ClientId: 0, Call: 10, Return: 5, Output: checker.RegisterOutput{}},
		{ClientId: 1, Call: 1, Return: 20, Input: checker.RegisterInput{Kind: "read"}, Output: checker.RegisterOutput{Value: "x"}},
	}
	l := visualizeRegister(registerKey, ops, nil, nil, -1)
	if l.HTML != "" && !strings.Contains(l.HTML, "cannot describe") {
		t.Errorf("a frame was drawn of what cannot be described: %.200s", l.HTML)
	}
	if l.HTML == "" && !strings.Contains(l.Note, "could not draw it") {
		t.Errorf("no frame and no note saying why: %+v", l)
	}
}
