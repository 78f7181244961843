package checker

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/synthetic"
)

// check calls Check; when Check returns (Results, error), this is the one
// line to change.
func check(ctx context.Context, events []histories.Event, opts Options) (Results, error) {
	return Check(ctx, events, opts)
}

// fuzzSeed is a history as history.jsonl holds it: in time order (the
// order a recorder writes), numbered from 0.
func fuzzSeed(events []histories.Event) []byte {
	events = append([]histories.Event(nil), events...)
	sort.SliceStable(events, func(i, j int) bool { return events[i].Time < events[j].Time })
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for i, e := range events {
		e.Index = int64(i)
		if err := enc.Encode(e); err != nil {
			panic(err)
		}
	}
	return b.Bytes()
}

// FuzzCheck: any history the reader accepts is checked without a panic
// and given a verdict.
func FuzzCheck(f *testing.F) {
	f.Add(fuzzSeed(healthyRun().events))
	f.Add(fuzzSeed(synthetic.Run(60)))
	stale := healthyRun()
	stale.read(620, 630, "c2:r", "c1/10/1") // a stale read
	f.Add(fuzzSeed(stale.events))
	split := &builder{}
	split.phase(0, histories.PhaseStart)
	split.probe(10, "n1", "a1", 2, true)
	split.probe(11, "n2", "a2", 2, true) // two raft leaders in term 2
	t1 := split.campaign(20, 30, "c1", 5)
	t2 := split.campaign(25, 40, "c2", 5) // the same term twice
	split.write(50, 60, histories.OK, t2, "c2/5/1")
	split.write(55, 65, histories.Info, t1, "c1/5/1")
	split.lost(70, "c1", t1)
	split.phase(80, histories.PhaseHeal)
	f.Add(fuzzSeed(split.events))
	f.Add(fuzzSeed(leasesAndGaps().events))

	opts := Options{ElectionPrefix: testElection, RegisterPrefix: "/eh/t/register/", TTL: time.Second,
		LivenessBound: 5 * time.Second, LinearizabilityTimeout: time.Second}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := histories.Read(bytes.NewReader(data), "history.jsonl")
		if err != nil {
			return
		}
		res, err := check(context.Background(), h.Events, opts)
		if err != nil {
			return
		}
		verdicts := map[Verdict]bool{Valid: true, Invalid: true, Unknown: true}
		if !verdicts[res.Valid] {
			t.Fatalf("verdict %q", res.Valid)
		}
		for _, c := range res.Checks {
			if !verdicts[c.Verdict] {
				t.Fatalf("%s: verdict %q", c.Name, c.Verdict)
			}
		}
	})
}

// leasesAndGaps is a run with what the other seeds lack: lease-ttl
// answers, a gap in the store's record, a clock fault, a lost term, an
// indeterminate write and final reads.
func leasesAndGaps() *builder {
	b := &builder{}
	b.phase(0, histories.PhaseStart)
	b.add(1, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultPlan,
		Fault: &histories.Fault{ID: 1, Kind: "clock", Params: map[string]string{"rule": "slow-campaigners", "start": "1s", "duration": "1s"}}})
	b.probe(10, "n1", "a1", 2, true)
	b.elect(20, "c1", 10)
	t1 := b.campaign(15, 25, "c1", 10)
	op := b.invoke(30, "c1", histories.FLeaseTTL, "", "", t1)
	b.complete(35, op, histories.OK, "", nil)
	b.events[len(b.events)-1].Value = "3s"
	b.write(40, 50, histories.Info, t1, "c1/10/1")
	b.storePut(45, testRegister, "c1/10/1", 11, 11)
	b.add(60, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart,
		Fault: &histories.Fault{ID: 1, Kind: "clock", Targets: []string{"c1"}}})
	b.lost(70, "c1", t1)
	b.storeDelete(80, testElection+"c1", 12, 10)
	b.gap(90, "c2", 15)
	b.elect(95, "c3", 16)
	b.observe(96, "c2", "c3", 16)
	t3 := b.campaign(85, 97, "c3", 16)
	b.add(100, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStop,
		Fault: &histories.Fault{ID: 1, Kind: "clock", Targets: []string{"c1"}}})
	b.phase(110, histories.PhaseHeal)
	b.write(120, 130, histories.OK, t3, "c3/16/1")
	b.storePut(125, testRegister, "c3/16/1", 17, 11)
	b.phase(140, histories.PhaseQuiet)
	b.phase(150, histories.PhaseFinalReads)
	b.read(155, 160, "c1:r", "c3/16/1")
	b.read(156, 161, "c2:r", "c1/10/1")
	b.phase(170, histories.PhaseEnd)
	b.phase(180, histories.PhaseRecord)
	return b
}
