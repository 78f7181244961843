package checker

import (
	"testing"

	"github.com/election-harness/harness/histories"
)

// healthy's store record, by revision: 10 c1 elected, 11 a register put,
// 12 c2's key, 13 c1's key deleted, 14 and 15 register puts.
var healthyChanges = map[int64]histories.Change{
	10: {Key: testElection + "c1", Value: "c1", Revision: 10, CreateRevision: 10},
	11: {Key: testRegister, Value: "c1/10/1", Revision: 11, CreateRevision: 11},
	12: {Key: testElection + "c2", Value: "c2", Revision: 12, CreateRevision: 12},
	13: {Key: testElection + "c1", Delete: true, Revision: 13, CreateRevision: 10},
	14: {Key: testRegister, Value: "c2/12/1", Revision: 14, CreateRevision: 11},
	15: {Key: testRegister, Value: "c2/12/2", Revision: 15, CreateRevision: 11},
}

// watchStep is one event of a watcher: start at a revision, a response
// of the changes at these revisions, progress up to a revision, or end.
type watchStep struct {
	start    int64
	revs     []int64
	progress int64
	end      string // "-" ends with no error
	changes  []histories.Change
}

// withWatches is a healthy run followed by watchers' events (their time
// after the run's end: P11 judges their order, not their time).
func withWatches(steps map[string][]watchStep) func() *builder {
	return func() *builder {
		b := healthyRun()
		t := float64(b.events[len(b.events)-1].Time)/1e6 + 1
		for _, m := range []string{"n1", "n2", "n3"} {
			for _, s := range steps[m] {
				e := histories.Event{Process: histories.WatchProcess(m), Member: &histories.MemberStatus{Name: m}}
				switch {
				case s.start != 0:
					e.Type, e.F, e.Revision = histories.Info, histories.FWatchStart, s.start
				case s.progress != 0:
					e.Type, e.F, e.Revision, e.Value = histories.OK, histories.FWatched, s.progress, histories.WatchProgress
				case s.end != "":
					e.Type, e.F = histories.Info, histories.FWatchEnd
					if s.end != "-" {
						e.Error = s.end
					}
				default:
					e.Type, e.F = histories.OK, histories.FWatched
					for _, r := range s.revs {
						e.Changes = append(e.Changes, healthyChanges[r])
						e.Revision = max(e.Revision, r)
					}
					e.Changes = append(e.Changes, s.changes...)
				}
				b.add(t, e)
				t++
			}
		}
		return b
	}
}

// delivers is a watcher started at from that delivers these revisions,
// one response each, then progress up to the last and a clean end.
func delivers(from int64, revs ...int64) []watchStep {
	steps := []watchStep{{start: from}}
	for _, r := range revs {
		steps = append(steps, watchStep{revs: []int64{r}})
	}
	return append(steps, watchStep{progress: 15}, watchStep{end: "-"})
}

func TestP11WatchGuarantees(t *testing.T) {
	runCases(t, "P11", []checkCase{
		{name: "every watcher delivers every change once, in order", want: Valid,
			wantCounts: map[string]int64{"watchers": 3, "changes": 6 + 4 + 1, "changes-expected": 11, "progress-notifications": 3},
			build: withWatches(map[string][]watchStep{
				"n1": delivers(10, 10, 11, 12, 13, 14, 15),
				"n2": delivers(12, 12, 13, 14, 15),
				"n3": delivers(15, 15),
			})},
		{name: "a watcher that never caught up is judged up to where it got", want: Valid,
			build: withWatches(map[string][]watchStep{"n1": {{start: 10}, {revs: []int64{10}}, {revs: []int64{11}}, {end: "-"}}})},
		{name: "a change missing in the middle", want: Invalid, wantMsg: "reliable (P11): the watch of n1 never delivered " + testElection + "c1 at revision 13",
			build: withWatches(map[string][]watchStep{"n1": delivers(10, 10, 11, 12, 14, 15)})},
		{name: "a change delivered twice", want: Invalid, wantMsg: "unique (P11): the watch of n2 delivered " + testRegister + " at revision 14 twice",
			build: withWatches(map[string][]watchStep{"n2": delivers(12, 12, 13, 14, 14, 15)})},
		{name: "changes out of order", want: Invalid, wantMsg: "ordered (P11): the watch of n1 delivered " + testRegister + " at revision 11 after a change at revision 12",
			build: withWatches(map[string][]watchStep{"n1": delivers(10, 10, 12, 11, 13, 14, 15)})},
		{name: "a resumed watch skips its first change", want: Invalid, wantMsg: "resumable (P11): the watch of n1 never delivered " + testElection + "c2 at revision 12",
			build: withWatches(map[string][]watchStep{"n1": append([]watchStep{{start: 10}, {revs: []int64{10}}, {revs: []int64{11}}, {end: "the watch channel closed"}},
				delivers(12, 13, 14, 15)...)})},
		{name: "a resumed watch delivers a change from before its start", want: Invalid, wantMsg: "resumable (P11): the watch of n1 started at revision 12 delivered " + testRegister + " at revision 11",
			build: withWatches(map[string][]watchStep{"n1": append([]watchStep{{start: 10}, {revs: []int64{10}}, {end: "the watch channel closed"}},
				delivers(12, 11, 12, 13, 14, 15)...)})},
		{name: "progress said before a change it covers", want: Invalid, wantMsg: "bookmarkable (P11): the watch of n1 delivered " + testElection + "c1 at revision 13 after a progress notification at 13",
			build: withWatches(map[string][]watchStep{"n1": {{start: 10}, {revs: []int64{10, 11}}, {revs: []int64{12}}, {progress: 13}, {revs: []int64{13}}, {revs: []int64{14, 15}}, {end: "-"}}})},
		{name: "progress past changes the watch never delivered before it stopped", want: Invalid, wantMsg: "bookmarkable (P11): the watch of n1 never delivered " + testElection + "c2 at revision 12, though a progress notification at 15 had said it held everything up to there",
			build: withWatches(map[string][]watchStep{"n1": {{start: 10}, {revs: []int64{10, 11}}, {progress: 15}, {end: "-"}}})},
		{name: "progress going back", want: Invalid, wantMsg: "said progress up to revision 12 after delivering a change at 14",
			build: withWatches(map[string][]watchStep{"n1": {{start: 10}, {revs: []int64{10, 11, 12, 13, 14}}, {progress: 12}, {revs: []int64{15}}, {end: "-"}}})},
		{name: "a value the store never wrote", want: Invalid, wantMsg: `matches the record (P11): the watch of n3 delivered ` + testRegister + ` at revision 15 with value "c2/12/9", where the store put "c2/12/2"`,
			build: withWatches(map[string][]watchStep{"n3": {{start: 15}, {changes: []histories.Change{{Key: testRegister, Value: "c2/12/9", Revision: 15, CreateRevision: 11}}}, {end: "-"}}})},
		{name: "a put where the store deleted", want: Invalid, wantMsg: "as a put, where the store deleted it",
			build: withWatches(map[string][]watchStep{"n3": {{start: 13}, {changes: []histories.Change{{Key: testElection + "c1", Value: "c1", Revision: 13, CreateRevision: 10}}}, {revs: []int64{14, 15}}, {end: "-"}}})},
		{name: "a change past the record", want: Invalid, wantMsg: "past the last revision the store's record holds (15)",
			build: withWatches(map[string][]watchStep{"n3": {{start: 15}, {revs: []int64{15}}, {changes: []histories.Change{{Key: testRegister, Value: "x", Revision: 16, CreateRevision: 11}}}, {end: "-"}}})},
		{name: "a revision split over two responses", want: Invalid, wantMsg: "atomic (P11): the watch of n1 delivered 1 of revision 16's 2 changes in one response",
			build: func() *builder {
				b := withWatches(nil)()
				// Two keys of one transaction, then a watcher that splits them.
				b.storePut(1500, testRegister+"a", "a", 16, 16)
				b.storePut(1500, testRegister+"b", "b", 16, 16)
				w := func(e histories.Event) histories.Event {
					e.Process, e.Member = histories.WatchProcess("n1"), &histories.MemberStatus{Name: "n1"}
					return e
				}
				b.add(1501, w(histories.Event{Type: histories.Info, F: histories.FWatchStart, Revision: 16}))
				b.add(1502, w(histories.Event{Type: histories.OK, F: histories.FWatched, Revision: 16, Changes: []histories.Change{{Key: testRegister + "a", Value: "a", Revision: 16, CreateRevision: 16}}}))
				b.add(1503, w(histories.Event{Type: histories.OK, F: histories.FWatched, Revision: 16, Changes: []histories.Change{{Key: testRegister + "b", Value: "b", Revision: 16, CreateRevision: 16}}}))
				return b
			}},
		{name: "a sampled record cannot judge watches", want: Unknown, wantMsg: "not every change read to the end",
			build: func() *builder {
				b := withWatches(map[string][]watchStep{"n1": delivers(10, 10, 11, 12, 13, 14, 15)})()
				b.events[0].Value = histories.RecordSampled
				return b
			}},
	})
	for _, c := range mustCheck(t, healthyRun().events, testOpts).Checks {
		if c.Property == "P11" {
			t.Errorf("P11 in a history without watchers: %+v", c)
		}
	}
}
