package checker

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/election-harness/harness/histories"
)

// checkCase is one hand-built history and what one check must say of it.
type checkCase struct {
	name  string
	build func() *builder
	want  Verdict
	// wantMsg must appear in the first evidence message (invalid) or in
	// a note (unknown).
	wantMsg string
	// wantCounts must match exactly.
	wantCounts map[string]int64
	// opts changes the default options, if set.
	opts func(*Options)
}

func runCases(t *testing.T, property string, cases []checkCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := testOpts
			if c.opts != nil {
				c.opts(&opts)
			}
			res := mustCheck(t, c.build().events, opts)
			got := find(t, res, property)
			if got.Verdict != c.want {
				t.Fatalf("%s verdict %s, want %s\nevidence: %+v\nnotes: %v", property, got.Verdict, c.want, got.Evidence, got.Notes)
			}
			if c.wantMsg != "" {
				text := strings.Join(got.Notes, "\n")
				if len(got.Evidence) > 0 {
					text = got.Evidence[0].Message + "\n" + text
				}
				if !strings.Contains(text, c.wantMsg) {
					t.Errorf("%s says %q, want it to contain %q", property, text, c.wantMsg)
				}
			}
			if got.Verdict == Invalid {
				if len(got.Evidence) == 0 || len(got.Evidence[0].Events) == 0 {
					t.Errorf("invalid without the events that prove it: %+v", got.Evidence)
				}
				if got.Counts["anomalies"] == 0 {
					t.Errorf("invalid with no anomaly counted: %v", got.Counts)
				}
			}
			for k, v := range c.wantCounts {
				if got.Counts[k] != v {
					t.Errorf("count %s = %d, want %d (all: %v)", k, got.Counts[k], v, got.Counts)
				}
			}
		})
	}
}

func find(t *testing.T, res Results, property string) CheckResult {
	t.Helper()
	for _, c := range res.Checks {
		if c.Property == property {
			return c
		}
	}
	t.Fatalf("no %s check in %+v", property, res)
	return CheckResult{}
}

func TestHealthyRunIsValid(t *testing.T) {
	res := mustCheck(t, healthyRun().events, testOpts)
	if res.Valid != Valid {
		t.Fatalf("healthy run: %s: %s\n%+v", res.Valid, res.Summary, res.Checks)
	}
	for _, c := range res.Checks {
		if c.Verdict != Valid {
			t.Errorf("%s: %s %v %v", c.Name, c.Verdict, c.Evidence, c.Notes)
		}
	}
}

func TestP1RaftElectionSafety(t *testing.T) {
	runCases(t, "P1", []checkCase{
		{name: "one leader per term", build: healthyRun, want: Valid,
			wantCounts: map[string]int64{"leader-claims": 2, "terms": 2, "probes": 3}},
		{name: "two leaders in one term", want: Invalid, wantMsg: "two leaders in raft term 3: n1 and n3",
			build: func() *builder {
				b := &builder{}
				b.probe(10, "n1", "a1", 3, true)
				b.probe(11, "n2", "a1", 3, false)
				b.probe(500, "n3", "a3", 3, true)
				return b
			}},
		{name: "the same leader seen twice", want: Valid, wantCounts: map[string]int64{"leader-claims": 1},
			build: func() *builder {
				b := &builder{}
				b.probe(10, "n1", "a1", 3, true)
				b.probe(20, "n1", "a1", 3, true)
				return b
			}},
		{name: "an old leader still claiming an old term", want: Valid,
			build: func() *builder {
				b := &builder{}
				b.probe(10, "n1", "a1", 3, true)
				b.probe(20, "n2", "a2", 4, true)
				b.probe(30, "n1", "a1", 3, true) // partitioned, has not heard of term 4
				return b
			}},
		{name: "no member answered", want: Unknown, wantMsg: "no member answered",
			build: func() *builder {
				b := &builder{}
				b.add(10, histories.Event{Type: histories.Fail, Process: "probe:n1", F: histories.FStatus, Error: "timeout"})
				return b
			}},
	})
}

func TestP2OneLeaderPerTerm(t *testing.T) {
	runCases(t, "P2", []checkCase{
		{name: "distinct rising terms", build: healthyRun, want: Valid,
			wantCounts: map[string]int64{"campaigns": 2, "campaigns-ok": 2, "terms": 2}},
		{name: "one term granted twice", want: Invalid, wantMsg: "term 10 granted to both c1 and c2",
			build: func() *builder {
				b := &builder{}
				b.campaign(0, 100, "c1", 10)
				op := b.invoke(150, "c2", histories.FCampaign, "", "c2", nil)
				b.complete(200, op, histories.OK, "", token("c1", 10))
				return b
			}},
		{name: "term goes back in real time", want: Invalid, wantMsg: "c2 won term 15 after c1 had already won term 20",
			build: func() *builder {
				b := &builder{}
				b.campaign(0, 100, "c1", 20)
				b.campaign(200, 250, "c2", 15)
				return b
			}},
		{name: "the holder campaigns again and gets its own term back", want: Valid,
			wantCounts: map[string]int64{"campaigns": 2, "campaigns-ok": 2, "terms": 1},
			build: func() *builder {
				b := &builder{}
				b.campaign(0, 100, "c1", 20)
				b.campaign(200, 250, "c1", 20) // paused while resigning; still held the lock
				return b
			}},
		{name: "the old holder gets its term back after a later term", want: Invalid, wantMsg: "c1 won term 20 after c2 had already won term 21",
			build: func() *builder {
				b := &builder{}
				b.campaign(0, 100, "c1", 20)
				b.campaign(120, 150, "c2", 21)
				b.campaign(200, 250, "c1", 20)
				return b
			}},
		{name: "another campaigner given the same term later", want: Invalid, wantMsg: "term 20 granted to both c1 and c2",
			build: func() *builder {
				b := &builder{}
				b.campaign(0, 100, "c1", 20)
				op := b.invoke(200, "c2", histories.FCampaign, "", "c2", nil)
				b.complete(250, op, histories.OK, "", token("c1", 20))
				return b
			}},
		{name: "concurrent campaigns may complete in either order", want: Valid,
			build: func() *builder {
				b := &builder{}
				op1 := b.invoke(0, "c1", histories.FCampaign, "", "c1", nil)
				op2 := b.invoke(10, "c2", histories.FCampaign, "", "c2", nil)
				b.complete(100, op2, histories.OK, "", token("c2", 20))
				b.complete(110, op1, histories.OK, "", token("c1", 15))
				return b
			}},
		{name: "no campaign succeeded", want: Unknown, wantMsg: "no campaign succeeded",
			build: func() *builder {
				b := &builder{}
				op := b.invoke(0, "c1", histories.FCampaign, "", "c1", nil)
				b.complete(100, op, histories.Info, "", nil)
				return b
			}},
	})
}

func TestP3GrantedLeadershipIsReal(t *testing.T) {
	runCases(t, "P3", []checkCase{
		{name: "every grant led", build: healthyRun, want: Valid,
			wantCounts: map[string]int64{"terms-checked": 2, "leader-changes": 2}},
		{name: "phantom: the key never existed", want: Invalid, wantMsg: "never existed in the store",
			build: func() *builder {
				b := &builder{}
				b.elect(50, "c0", 5)
				b.campaign(0, 100, "c1", 10)
				b.phase(200, histories.PhaseRecord)
				return b
			}},
		{name: "phantom: the key expired behind an older leader (etcd #19597)", want: Invalid, wantMsg: "never led",
			build: func() *builder {
				b := &builder{}
				b.elect(10, "c0", 5)
				op := b.invoke(15, "c1", histories.FCampaign, "", "c1", nil)
				b.elect(20, "c1", 10)
				b.storeDelete(3020, testElection+"c1", 11, 10) // c1's lease expired while it waited
				b.storeDelete(3500, testElection+"c0", 12, 5)
				b.complete(3510, op, histories.OK, "", token("c1", 10))
				b.phase(4000, histories.PhaseRecord)
				return b
			}},
		{name: "a term inside a gap the record owns up to is not phantom", want: Valid,
			wantCounts: map[string]int64{"terms-in-record-gaps": 1, "record-gaps": 1},
			build: func() *builder {
				b := &builder{}
				b.elect(10, "lock", 10)
				b.campaign(0, 15, "lock", 10)
				b.storeDelete(300, testElection+"lock", 30, 10)
				b.campaign(250, 320, "lock", 20) // acquired at 20, released before any poll saw it
				b.gap(330, "lock", 30)
				b.phase(400, histories.PhaseRecord)
				return b
			}},
		{name: "a gap excuses only the revisions it spans", want: Invalid, wantMsg: "never existed",
			build: func() *builder {
				b := &builder{}
				b.elect(10, "lock", 10)
				b.storeDelete(300, testElection+"lock", 30, 10)
				b.gap(330, "lock", 30)
				b.campaign(350, 360, "lock", 40)
				b.phase(400, histories.PhaseRecord)
				return b
			}},
		{name: "stale grant: the reign ended before the campaign began", want: Invalid, wantMsg: "stale grant",
			build: func() *builder {
				b := &builder{}
				b.elect(10, "c1", 10)
				b.storeDelete(200, testElection+"c1", 11, 10)
				b.campaign(300, 310, "c1", 10)
				b.phase(400, histories.PhaseRecord)
				return b
			}},
		{name: "a grant whose reign ended during the call is real", want: Valid,
			build: func() *builder {
				b := &builder{}
				op := b.invoke(5, "c1", histories.FCampaign, "", "c1", nil)
				b.elect(10, "c1", 10)
				b.storeDelete(200, testElection+"c1", 11, 10)
				b.complete(210, op, histories.OK, "", token("c1", 10))
				b.phase(400, histories.PhaseRecord)
				return b
			}},
		{name: "a grant after the run's end, past the record", want: Valid,
			wantCounts: map[string]int64{"terms-after-record": 1, "terms-checked": 2},
			build: func() *builder {
				b := &builder{}
				b.elect(10, "c1", 10)
				b.campaign(0, 20, "c1", 10)
				b.phase(100, histories.PhaseEnd)
				b.phase(110, histories.PhaseRecord)
				b.campaign(105, 120, "c2", 30)
				return b
			}},
		{name: "incomplete record", want: Unknown, wantMsg: "incomplete store record",
			build: func() *builder {
				b := &builder{}
				b.elect(50, "c0", 5)
				b.campaign(0, 100, "c1", 10)
				return b // no record phase: the run crashed
			}},
		{name: "no record at all", want: Unknown, wantMsg: "no record of the store",
			build: func() *builder {
				b := &builder{}
				b.campaign(0, 100, "c1", 10)
				return b
			}},
	})
}

func TestP4FencedWorkIsLinearizable(t *testing.T) {
	runCases(t, "P4", []checkCase{
		{name: "writes and reads agree", build: healthyRun, want: Valid,
			wantCounts: map[string]int64{"ops-checked": 5, "store-puts-checked": 3, "writes-ok": 3, "reads-ok": 2}},
		{name: "stale read", want: Invalid, wantMsg: `stale read: c3:r read "c1/10/1" after "c2/12/1" had overwritten it`,
			build: func() *builder {
				b := &builder{}
				b.write(100, 110, histories.OK, token("c1", 10), "c1/10/1")
				b.write(200, 210, histories.OK, token("c2", 12), "c2/12/1")
				b.read(300, 310, "c3:r", "c1/10/1")
				return b
			}},
		{name: "read of a value nobody wrote", want: Invalid, wantMsg: "which no write produced",
			build: func() *builder {
				b := &builder{}
				b.write(100, 110, histories.OK, token("c1", 10), "c1/10/1")
				b.read(300, 310, "c3:r", "bogus")
				return b
			}},
		{name: "an indeterminate write may take effect late", want: Valid,
			build: func() *builder {
				b := &builder{}
				b.recordKind(0, histories.RecordEveryChange)
				b.elect(10, "c1", 10)
				t1 := b.campaign(0, 20, "c1", 10)
				b.write(100, 110, histories.OK, t1, "c1/10/1")
				b.storePut(105, testRegister, "c1/10/1", 11, 11)
				b.write(200, 3200, histories.Info, t1, "c1/10/2")
				b.storePut(4500, testRegister, "c1/10/2", 12, 11) // received after the read below
				b.read(4000, 4010, "c3:r", "c1/10/1")
				b.read(5000, 5010, "c3:r", "c1/10/2")
				b.phase(6000, histories.PhaseEnd)
				b.phase(6100, histories.PhaseRecord)
				return b
			}},
		{name: "a failed write never takes effect", want: Invalid, wantMsg: "which no write produced",
			build: func() *builder {
				b := &builder{}
				b.write(100, 110, histories.Fail, token("c1", 10), "c1/10/1")
				b.read(300, 310, "c3:r", "c1/10/1")
				return b
			}},
		{name: "stale-leader write in the store's order", want: Invalid,
			wantMsg: `stale-leader write: c1 wrote "c1/10/2" under term /eh/t/election/c1@10, landing at revision 21 after the term's reign ended at revision 18; c2 (term /eh/t/election/c2@12) led from revision 18`,
			build: func() *builder {
				b := &builder{}
				b.elect(5, "c1", 10)
				t1 := b.campaign(0, 10, "c1", 10)
				b.write(100, 110, histories.OK, t1, "c1/10/1")
				b.storePut(105, testRegister, "c1/10/1", 11, 11)
				c2 := b.invoke(150, "c2", histories.FCampaign, "", "c2", nil)
				b.elect(160, "c2", 12)
				op := b.invoke(200, "c1", histories.FWrite, testRegister, "c1/10/2", t1) // c1 pauses here
				b.storeDelete(3300, testElection+"c1", 18, 10)                           // its lease expires
				t2 := token("c2", 12)
				b.complete(3310, c2, histories.OK, "", t2)
				b.write(4000, 4010, histories.OK, t2, "c2/12/1")
				b.storePut(4005, testRegister, "c2/12/1", 20, 11)
				b.storePut(9000, testRegister, "c1/10/2", 21, 11) // c1 wakes and writes
				b.complete(9001, op, histories.OK, "", nil)
				b.phase(9500, histories.PhaseRecord)
				return b
			}},
		{name: "the store holds a value no write produced", want: Invalid, wantMsg: "which no write produced",
			build: func() *builder {
				b := &builder{}
				b.elect(5, "c1", 10)
				t1 := b.campaign(0, 10, "c1", 10)
				b.write(100, 110, histories.OK, t1, "c1/10/1")
				b.storePut(105, testRegister, "c1/10/1", 15, 15)
				b.storePut(205, testRegister, "ghost", 16, 15)
				return b
			}},
		{name: "stale-leader write in real time, without a record", want: Invalid, wantMsg: "after c2's write of later term",
			build: func() *builder {
				b := &builder{}
				b.write(100, 110, histories.OK, token("c2", 12), "c2/12/1")
				b.write(200, 210, histories.OK, token("c1", 10), "c1/10/1")
				return b
			}},
		{name: "nothing to check", want: Unknown, wantMsg: "linearizability had nothing to decide",
			build: func() *builder {
				b := &builder{}
				b.campaign(0, 100, "c1", 10)
				return b
			}},
	})
}

func TestP4ReadConsistencyModes(t *testing.T) {
	staleRead := func() *builder {
		b := &builder{}
		b.write(100, 110, histories.OK, token("c1", 10), "c1/10/1")
		b.write(200, 210, histories.OK, token("c2", 12), "c2/12/1")
		b.read(300, 310, "c3:r", "c1/10/1")
		return b
	}
	mode := func(m string) func(*Options) { return func(o *Options) { o.ReadConsistency = m } }
	runCases(t, "P4", []checkCase{
		{name: "consistent: a stale read is an anomaly", build: staleRead, opts: mode("consistent"), want: Invalid,
			wantMsg: `(a read in "consistent" consistency mode)`},
		{name: "default: a stale read is an anomaly, named as a default-mode read", build: staleRead, opts: mode("default"), want: Invalid,
			wantMsg: `stale read: c3:r read "c1/10/1" after "c2/12/1" had overwritten it (a read in "default" consistency mode)`},
		{name: "stale: a stale read is counted, not an anomaly", build: staleRead, opts: mode("stale"), want: Valid,
			wantMsg: "1 stale reads, which stale mode allows", wantCounts: map[string]int64{"stale-reads": 1, "reads-checked": 1}},
		{name: "stale: a read of a value nobody wrote is still an anomaly", opts: mode("stale"), want: Invalid, wantMsg: "which no write produced",
			build: func() *builder {
				b := &builder{}
				b.write(100, 110, histories.OK, token("c1", 10), "c1/10/1")
				b.read(300, 310, "c3:r", "bogus")
				return b
			}},
		{name: "stale: a read of a value before its write began is an anomaly", opts: mode("stale"), want: Invalid, wantMsg: "before anyone wrote it",
			build: func() *builder {
				b := &builder{}
				b.read(50, 60, "c3:r", "c1/10/1")
				b.write(100, 110, histories.OK, token("c1", 10), "c1/10/1")
				return b
			}},
		{name: "stale: a fresh read is not counted stale", opts: mode("stale"), want: Valid, wantCounts: map[string]int64{"stale-reads": 0, "reads-checked": 1},
			build: func() *builder {
				b := &builder{}
				b.write(100, 110, histories.OK, token("c1", 10), "c1/10/1")
				b.read(300, 310, "c3:r", "c1/10/1")
				b.write(400, 410, histories.OK, token("c1", 10), "c1/10/2")
				return b
			}},
	})
}

// concurrentWritesReadTwice: 64 concurrent writes, then two reads of
// different written values with no write between them: not
// linearizable, but no single stale read shows it, and proving it by
// search means trying every order of the writes.
func concurrentWritesReadTwice(repeat bool) *builder {
	b := &builder{}
	var ops []int64
	for i := 0; i < 64; i++ {
		v := fmt.Sprintf("c1/10/%d", i)
		if repeat && i == 63 {
			v = "c1/10/62" // a value written twice: the zone check stands aside
		}
		ops = append(ops, b.invoke(float64(i), "c1", histories.FWrite, testRegister, v, token("c1", 10)))
	}
	for i, op := range ops {
		b.complete(float64(1000+i), op, histories.OK, "", nil)
	}
	b.read(5000, 5010, "c3:r", "c1/10/1")
	b.read(6000, 6010, "c3:r", "c1/10/2")
	return b
}

func TestP4UnknownWhenPorcupineRunsOutOfTime(t *testing.T) {
	// With a millisecond's budget porcupine cannot decide, and with a
	// value written twice nothing else can.
	opts := testOpts
	opts.LinearizabilityTimeout = time.Millisecond
	res := mustCheck(t, concurrentWritesReadTwice(true).events, opts)
	got := find(t, res, "P4")
	if got.Verdict != Unknown || !strings.Contains(strings.Join(got.Notes, " "), "porcupine ran out of time (1ms)") {
		t.Fatalf("P4 %s %v %v; want unknown, saying porcupine ran out of time", got.Verdict, got.Notes, got.Evidence)
	}
}

// TestP4ZonesDecideWhatPorcupineCannot: the same history with every
// value distinct is decided at once, citing the four operations that
// cannot all be placed, with porcupine's timeout noted.
func TestP4ZonesDecideWhatPorcupineCannot(t *testing.T) {
	opts := testOpts
	opts.LinearizabilityTimeout = time.Millisecond
	res := mustCheck(t, concurrentWritesReadTwice(false).events, opts)
	got := find(t, res, "P4")
	if got.Verdict != Invalid || len(got.Evidence) != 1 || len(got.Evidence[0].Events) != 8 {
		t.Fatalf("P4 %s %v %v; want invalid citing four operations", got.Verdict, got.Notes, got.Evidence)
	}
	if msg := got.Evidence[0].Message; !strings.Contains(msg, "no order of the two writes explains both reads") || !strings.Contains(msg, `c3:r's read of "c1/10/1"`) {
		t.Errorf("evidence %q", msg)
	}
	if !strings.Contains(strings.Join(got.Notes, " "), "porcupine's second opinion ran out of time (1ms); the zone check decided") {
		t.Errorf("notes %v: want porcupine's timeout noted", got.Notes)
	}
}

func TestP5ObserversAgree(t *testing.T) {
	runCases(t, "P5", []checkCase{
		{name: "observers follow the store", build: healthyRun, want: Valid,
			wantCounts: map[string]int64{"observations": 2, "observers": 2}},
		{name: "an observer goes back", want: Invalid, wantMsg: "went back from /eh/t/election/c2@12 to the earlier /eh/t/election/c1@10",
			build: func() *builder {
				b := &builder{}
				b.elect(10, "c1", 10)
				b.elect(20, "c2", 12)
				b.storeDelete(30, testElection+"c1", 13, 10)
				b.observe(40, "c3", "c2", 12)
				b.observe(50, "c3", "c1", 10)
				b.phase(100, histories.PhaseRecord)
				return b
			}},
		{name: "an observer sees a leader the store never had", want: Invalid, wantMsg: "never led",
			build: func() *builder {
				b := &builder{}
				b.elect(10, "c1", 10)
				b.elect(20, "c2", 12)
				b.observe(40, "c3", "c2", 12) // c2 waits behind c1
				b.phase(100, histories.PhaseRecord)
				return b
			}},
		{name: "an observation of a holder the record missed, inside its gap", want: Valid,
			wantCounts: map[string]int64{"observations-in-record-gaps": 1},
			build: func() *builder {
				b := &builder{}
				b.elect(10, "lock", 10)
				b.observe(15, "c3", "lock", 10)
				b.observe(40, "c3", "lock", 20)
				b.storeDelete(50, testElection+"lock", 30, 10)
				b.gap(50, "lock", 30)
				b.phase(100, histories.PhaseRecord)
				return b
			}},
		{name: "an observation after the run's end, past the record", want: Valid,
			wantCounts: map[string]int64{"observations-after-record": 1},
			build: func() *builder {
				b := &builder{}
				b.elect(10, "c1", 10)
				b.observe(40, "c3", "c1", 10)
				b.phase(100, histories.PhaseEnd)
				b.phase(110, histories.PhaseRecord)
				b.observe(120, "c3", "c2", 30) // c1 resigned as the run stopped; c2 followed
				return b
			}},
		{name: "no observation", want: Unknown, wantMsg: "no observer saw a leader",
			build: func() *builder {
				b := &builder{}
				b.elect(10, "c1", 10)
				return b
			}},
	})
}

func TestP6Liveness(t *testing.T) {
	// testOpts: TTL 3s, so the bound is 2*3s+10s = 16s.
	runCases(t, "P6", []checkCase{
		{name: "a leader writes soon after the heal", build: healthyRun, want: Valid,
			wantCounts: map[string]int64{"recovered": 1}},
		{name: "no leader within the bound", want: Invalid, wantMsg: "no leader within 16s of the heal: no leader at all",
			build: func() *builder {
				b := &builder{}
				b.campaign(0, 100, "c1", 10)
				b.phase(1000, histories.PhaseHeal)
				b.phase(20000, histories.PhaseEnd)
				return b
			}},
		{name: "a leader only after the bound", want: Invalid, wantMsg: "the first leader only after 19.0s",
			build: func() *builder {
				b := &builder{}
				b.phase(1000, histories.PhaseHeal)
				b.campaign(19000, 20000, "c1", 10)
				return b
			}},
		{name: "the history ends before the bound", want: Unknown, wantMsg: "before the 16s bound",
			build: func() *builder {
				b := &builder{}
				b.phase(1000, histories.PhaseHeal)
				b.phase(2000, histories.PhaseEnd)
				return b
			}},
		{name: "no heal", want: Unknown, wantMsg: "no heal phase",
			build: func() *builder {
				b := &builder{}
				b.campaign(0, 100, "c1", 10)
				return b
			}},
	})
}

func TestLeaderlessStats(t *testing.T) {
	b := &builder{}
	b.phase(0, histories.PhaseStart)
	t1 := b.campaign(0, 1000, "c1", 10) // 1s leaderless before the first leader
	b.lost(3000, "c1", t1)
	b.campaign(2500, 5000, "c2", 12) // 2s failover
	b.phase(6000, histories.PhaseEnd)
	res := mustCheck(t, b.events, testOpts)
	got := find(t, res, "P6").Stats
	want := map[string]float64{"leaderless-seconds": 3, "failovers": 1, "failover-max-seconds": 2}
	for k, v := range want {
		if diff := got[k] - v; diff > 1e-9 || diff < -1e-9 {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

func TestSplitBrainExposureIsInformational(t *testing.T) {
	b := &builder{}
	t1 := b.campaign(0, 100, "c1", 10)
	b.campaign(150, 200, "c2", 12)
	b.lost(450, "c1", t1) // c1 believed it led until it heard it lost
	res := mustCheck(t, b.events, testOpts)
	got := find(t, res, "split-brain")
	if !got.Informational || got.Verdict != Valid {
		t.Fatalf("split-brain check %s informational=%v; it must only report", got.Verdict, got.Informational)
	}
	if got.Counts["windows"] != 1 || got.Stats["max-seconds"] < 0.249 || got.Stats["max-seconds"] > 0.251 {
		t.Fatalf("counts %v stats %v, want one 0.25s window", got.Counts, got.Stats)
	}
	if !strings.Contains(got.Evidence[0].Message, "c1 (term 10) and c2 (term 12) both believed they led") {
		t.Errorf("evidence %q", got.Evidence[0].Message)
	}
}

// A campaigner that acts under its term after another was granted a
// later one is exposure too (Consul #18271: the loss is heard late),
// measured from the grant to its last such act; refused acts and acts
// before the grant are not.
func TestActedAfterSupersededIsMeasured(t *testing.T) {
	b := &builder{}
	t1 := b.campaign(0, 100, "c1", 10)
	b.write(150, 160, histories.OK, t1, "before")
	b.complete(180, b.invoke(170, "c1", histories.FResign, "", "", t1), histories.OK, "", nil)
	b.campaign(150, 200, "c2", 12)
	for _, a := range []struct {
		at  float64
		typ histories.Type
	}{{300, histories.Info}, {700, histories.OK}, {900, histories.Fail}} {
		op := b.invoke(a.at, "c1:a", histories.FWrite, testRegister, fmt.Sprint("a", a.at), nil)
		var tok *histories.Token
		if a.typ != histories.Fail {
			tok = t1
		}
		b.complete(a.at+50, op, a.typ, "", tok)
	}
	res := mustCheck(t, b.events, testOpts)
	got := find(t, res, "split-brain")
	if !got.Informational || got.Verdict != Valid {
		t.Fatalf("split-brain check %s informational=%v; it must only report", got.Verdict, got.Informational)
	}
	if got.Counts["terms-acted-on-after-superseded"] != 1 || got.Stats["acted-after-superseded-max-seconds"] < 0.499 || got.Stats["acted-after-superseded-max-seconds"] > 0.501 {
		t.Fatalf("counts %v stats %v, want one term acted on 0.5s after it was superseded", got.Counts, got.Stats)
	}
	if !strings.Contains(got.Evidence[len(got.Evidence)-1].Message, "c1 still acted under term 10 0.500s after c2 was granted term 12") {
		t.Errorf("evidence %v", got.Evidence)
	}
}

func TestOverallVerdict(t *testing.T) {
	invalid := healthyRun()
	invalid.probe(2000, "n3", "a3", 3, true) // a second leader of term 3
	unknown := &builder{}
	unknown.probe(10, "n1", "a1", 2, true)
	cases := []struct {
		name    string
		b       *builder
		want    Verdict
		summary string
	}{
		{"valid", healthyRun(), Valid, "all properties hold"},
		{"one invalid check", invalid, Invalid, "P1 raft election safety failed: two leaders in raft term 3"},
		{"unknown, never valid", unknown, Unknown, "could not be decided"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := mustCheck(t, c.b.events, testOpts)
			if res.Valid != c.want || !strings.Contains(res.Summary, c.summary) {
				t.Fatalf("%s %q, want %s %q", res.Valid, res.Summary, c.want, c.summary)
			}
		})
	}
}

func TestResultsJSONValidField(t *testing.T) {
	for _, c := range []struct {
		v    Verdict
		json string
	}{{Valid, `"valid":true`}, {Invalid, `"valid":false`}, {Unknown, `"valid":"unknown"`}} {
		b, err := json.Marshal(Results{Valid: c.v, Summary: "s"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), c.json) {
			t.Errorf("%s marshals as %s, want %s", c.v, b, c.json)
		}
		var back Results
		if err := json.Unmarshal(b, &back); err != nil || back.Valid != c.v {
			t.Errorf("%s round-trips as %s (%v)", c.v, back.Valid, err)
		}
	}
	var r Results
	if err := json.Unmarshal([]byte(`{"valid":"maybe"}`), &r); err == nil {
		t.Error(`"valid":"maybe" accepted`)
	}
}

func TestP7LeasesOutliveTheirTTL(t *testing.T) {
	renew := func(b *builder, t0, t1 float64, tok *histories.Token, ttl string) {
		op := b.invoke(t0, tok.Key[len(testElection):], histories.FLeaseTTL, "", "", tok)
		b.add(t1, histories.Event{Type: histories.OK, Process: tok.Key[len(testElection):], F: histories.FLeaseTTL, Op: op, Token: tok, Value: ttl})
	}
	held := func() (*builder, *histories.Token) {
		b := &builder{}
		b.elect(10, "c1", 10)
		return b, b.campaign(0, 20, "c1", 10)
	}
	// renewThenGone: c1 renews at renewAt (for 3s); its key is gone at goneAt.
	renewThenGone := func(renewAt, goneAt float64) func() *builder {
		return func() *builder {
			b, tok := held()
			renew(b, renewAt, renewAt+10, tok, "3s")
			b.storeDelete(goneAt, testElection+"c1", 11, 10)
			b.phase(4000, histories.PhaseRecord)
			return b
		}
	}
	runCases(t, "P7", []checkCase{
		{name: "the lease ends after its TTL", want: Valid, wantCounts: map[string]int64{"lease-ttl-ok": 1, "lease-ttl-checked": 1},
			build: renewThenGone(100, 3500)},
		{name: "revoked a second after a 3s renewal (etcd #15247)", want: Invalid, wantMsg: "lease revoked early",
			build: renewThenGone(100, 1100)},
		{name: "a lease said alive after its key was gone (etcd #20590)", want: Invalid, wantMsg: "lease alive after revocation",
			build: func() *builder {
				b, tok := held()
				b.storeDelete(1100, testElection+"c1", 11, 10)
				renew(b, 1200, 1210, tok, "3s")
				b.phase(4000, histories.PhaseRecord)
				return b
			}},
		{name: "within the slack of the renewal's invocation", want: Valid, build: renewThenGone(100, 2500)},
		{name: "the holder resigned: its own deletion", want: Valid,
			build: func() *builder {
				b, tok := held()
				renew(b, 100, 110, tok, "3s")
				b.invoke(200, "c1", histories.FResign, "", "", tok)
				b.storeDelete(210, testElection+"c1", 11, 10)
				b.phase(4000, histories.PhaseRecord)
				return b
			}},
		{name: "no lease-ttl answers: informational", want: Valid, wantMsg: "no lease-ttl answer", build: healthyRun},
		{name: "clock faults: not judged", want: Valid, wantMsg: "lease TTLs not judged",
			build: func() *builder {
				b, tok := held()
				b.add(50, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart, Fault: &histories.Fault{ID: 1, Kind: "clock"}})
				renew(b, 100, 110, tok, "3s")
				b.storeDelete(1100, testElection+"c1", 11, 10)
				b.phase(4000, histories.PhaseRecord)
				return b
			}},
	})
}
