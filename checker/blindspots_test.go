package checker

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/election-harness/harness/histories"
)

// Each blind spot of the earlier checker as a pair of twins: a history
// with one genuine violation, which must be invalid and name it, and the
// same history without it, which must stay valid.

// deposed is a two-term run: c1 leads term 10 and writes; c2 campaigns
// and waits; c1's last write (c1/10/2) lands where land says; c1's lease
// expires (revision 14) and c2 leads and writes; a reader reads.
//
//	land: "in-reign" (revision 13, before c1's key is deleted: valid),
//	"late" (revision 15, after the deletion, before c2 writes),
//	"late-info" (the same, the client timing out), "failed" (reported
//	failed but in the record), "failed-absent" (reported failed, not in
//	the record: valid), "lost" (acknowledged, not in the record),
//	"stranger" (written by c3 under c1's term, in c1's reign).
func deposed(land string, kind string) *builder {
	b := &builder{}
	b.recordKind(0, kind)
	b.phase(0, histories.PhaseStart)
	b.probe(1, "n1", "a1", 2, true)
	b.elect(5, "c1", 10)
	t1 := b.campaign(0, 10, "c1", 10)
	b.write(100, 110, histories.OK, t1, "c1/10/1")
	b.storePut(105, testRegister, "c1/10/1", 11, 11)
	c2 := b.invoke(150, "c2", histories.FCampaign, "", "c2", nil)
	b.elect(160, "c2", 12)
	b.observe(170, "c3", "c1", 10)
	writer := "c1"
	if land == "stranger" {
		writer = "c3"
	}
	w := b.invoke(200, writer, histories.FWrite, testRegister, "c1/10/2", t1)
	switch land {
	case "in-reign", "stranger":
		b.storePut(205, testRegister, "c1/10/2", 13, 11)
		b.complete(210, w, histories.OK, "", nil)
	case "failed":
		b.storePut(205, testRegister, "c1/10/2", 13, 11)
		b.complete(210, w, histories.Fail, "", nil)
	case "failed-absent":
		b.complete(210, w, histories.Fail, "", nil)
	case "lost":
		b.complete(210, w, histories.OK, "", nil)
	}
	b.storeDelete(3300, testElection+"c1", 14, 10) // c1's lease expires
	t2 := token("c2", 12)
	b.complete(3310, c2, histories.OK, "", t2)
	b.observe(3320, "c3", "c2", 12)
	rev := int64(15)
	switch land {
	case "late", "late-info":
		b.storePut(3400, testRegister, "c1/10/2", 15, 11) // c1 wakes and writes
		typ := histories.OK
		if land == "late-info" {
			typ = histories.Info
		}
		b.complete(3410, w, typ, "", nil)
		rev = 16
	}
	b.write(4000, 4010, histories.OK, t2, "c2/12/1")
	b.storePut(4005, testRegister, "c2/12/1", rev, 11)
	b.read(4100, 4110, "c3:r", "c2/12/1")
	b.phase(4200, histories.PhaseHeal)
	b.write(4300, 4310, histories.OK, t2, "c2/12/2")
	b.storePut(4305, testRegister, "c2/12/2", rev+1, 11)
	b.phase(5000, histories.PhaseEnd)
	b.phase(5100, histories.PhaseRecord)
	return b
}

func every(land string) func() *builder {
	return func() *builder { return deposed(land, histories.RecordEveryChange) }
}

func TestBlindSpotsOfFencing(t *testing.T) {
	runCases(t, "P4", []checkCase{
		{name: "valid twin: the deposed leader's write lands inside its reign", build: every("in-reign"), want: Valid,
			wantCounts: map[string]int64{"puts-in-their-reign": 4, "anomalies": 0}},
		{name: "a deposed leader's write lands before the next leader writes", build: every("late"), want: Invalid,
			wantMsg: `stale-leader write: c1 wrote "c1/10/2" under term /eh/t/election/c1@10, landing at revision 15 after the term's reign ended at revision 14`},
		{name: "the same, the write timed out", build: every("late-info"), want: Invalid,
			wantMsg: `stale-leader write: c1 wrote "c1/10/2" under term /eh/t/election/c1@10, landing at revision 15`},
		{name: "a failed write that the record holds", build: every("failed"), want: Invalid,
			wantMsg: `a failed write took effect: c1's write of "c1/10/2" was reported failed`},
		{name: "valid twin: a failed write the record lacks", build: every("failed-absent"), want: Valid},
		{name: "an acknowledged write a record of every change lacks is lost", build: every("lost"), want: Invalid,
			wantMsg: `lost write: c1's write of "c1/10/2" to /eh/t/register/r was acknowledged at 0.210s`},
		{name: "valid twin: a sampled record may miss a write", want: Valid,
			build: func() *builder { return deposed("lost", histories.RecordSampled) }},
		{name: "a write under a term another campaigner won", build: every("stranger"), want: Invalid,
			wantMsg: `c3 wrote "c1/10/2" under term /eh/t/election/c1@10, which c1 won, not it`},
		{name: "valid twin: an act by the campaigner's own act loop, its term on the completion", want: Valid,
			build: func() *builder { return withAct(every("in-reign")(), "c1:a") }},
		{name: "an act under a term another campaigner won", want: Invalid,
			wantMsg: `c2:a wrote "c1/a/9" under term /eh/t/election/c1@10, which c1 won, not it`,
			build:   func() *builder { return withAct(every("in-reign")(), "c2:a") }},
		{name: "a write under a term no campaign returned", want: Invalid,
			wantMsg: `c2 wrote "c2/99/1" under term /eh/t/election/c2@12, which no campaign of its own returned`,
			build: func() *builder {
				b := &builder{}
				b.recordKind(0, histories.RecordEveryChange)
				b.elect(5, "c2", 12)
				b.write(100, 110, histories.OK, token("c2", 12), "c2/99/1")
				b.storePut(105, testRegister, "c2/99/1", 13, 13)
				b.read(200, 210, "c3:r", "c2/99/1")
				b.phase(300, histories.PhaseEnd)
				b.phase(400, histories.PhaseRecord)
				return b
			}},
		{name: "an act by a campaigner whose key still waits behind the leader", want: Invalid,
			wantMsg: `write before its term led: c2:a wrote "c2/a/1" under term /eh/t/election/c2@12, landing at revision 14, before the term began to lead at revision 15`,
			build: func() *builder {
				b := &builder{nextOp: 1000}
				for _, e := range every("in-reign")().events {
					if e.Time == ms(3300) {
						op := b.invoke(250, "c2:a", histories.FWrite, testRegister, "c2/a/1", nil)
						b.storePut(255, testRegister, "c2/a/1", 14, 11)
						b.complete(260, op, histories.OK, "", token("c2", 12))
					}
					if (e.F == histories.FStorePut || e.F == histories.FStoreDelete) && e.Revision >= 14 {
						e.Revision++
					}
					b.add(float64(e.Time)/1e6, e)
				}
				return b
			}},
		{name: "every put removed from a record of every change", want: Invalid, wantMsg: "lost write",
			build: func() *builder { return withoutRegisterPuts(every("in-reign")()) }},
		{name: "every put removed from a sampled record: unknown, not valid", want: Unknown, wantMsg: "no write's landing could be checked",
			build: func() *builder { return withoutRegisterPuts(deposed("in-reign", histories.RecordSampled)) }},
		{name: "a put received twice, the second time after later ones, is no stale write", want: Valid,
			build: func() *builder {
				b := every("in-reign")()
				b.storePut(4400, testRegister, "c1/10/2", 13, 11) // the watch resumed from an older revision
				b.phase(5000, histories.PhaseEnd)
				b.phase(5100, histories.PhaseRecord)
				return b
			}},
	})
}

// withAct adds an act by process under c1's term 10, landing at
// revision 14, after c1's last write, before its lease expires
// (revisions after it move up by one).
func withAct(b *builder, process string) *builder {
	out := &builder{nextOp: 1000}
	for _, e := range b.events {
		if e.F == histories.FStorePut && e.Key == testRegister && e.Revision >= 14 {
			e.Revision++
		}
		if e.F == histories.FStoreDelete && e.Revision >= 14 {
			e.Revision++
		}
		if e.Time == ms(3300) { // before c1's lease expires
			op := out.invoke(250, process, histories.FWrite, testRegister, "c1/a/9", nil)
			out.storePut(255, testRegister, "c1/a/9", 14, 11)
			out.complete(260, op, histories.OK, "", token("c1", 10))
		}
		out.add(float64(e.Time)/1e6, e)
	}
	return out
}

// withoutRegisterPuts drops the record's register puts.
func withoutRegisterPuts(b *builder) *builder {
	out := &builder{}
	for _, e := range b.events {
		if e.F == histories.FStorePut && e.Key == testRegister {
			continue
		}
		out.add(float64(e.Time)/1e6, e)
	}
	return out
}

func TestBlindSpotsOfGrants(t *testing.T) {
	runCases(t, "P3", []checkCase{
		{name: "valid twin: c2's campaign returns once its term leads", build: every("in-reign"), want: Valid,
			wantCounts: map[string]int64{"terms-led-in-call": 2}},
		{name: "a campaign answered before its key led", want: Invalid,
			wantMsg: `premature grant: c2's campaign returned term /eh/t/election/c2@12 at 0.180s, but the term only began to lead at revision 14, after 0.200s`,
			build:   func() *builder { return moveCompletion(every("in-reign")(), "c2", histories.FCampaign, 180) }},
		{name: "a campaign answered with another campaigner's live key", want: Invalid,
			wantMsg: `not its own key: c2's campaign returned term /eh/t/election/c1@10, whose key proclaims "c1", as c1 campaigned`,
			build: func() *builder {
				b := every("in-reign")()
				for i, e := range b.events {
					if e.Process == "c2" && e.F == histories.FCampaign && e.Type == histories.OK {
						b.events[i].Token = token("c1", 10)
					}
				}
				return b
			}},
		{name: "an empty record with the record phase: unknown, not invalid", want: Unknown, wantMsg: "holds no election key",
			build: func() *builder {
				b := &builder{}
				b.recordKind(0, histories.RecordEveryChange)
				b.campaign(0, 10, "c1", 10)
				b.storePut(20, testRegister, "c1/10/1", 11, 11)
				b.phase(100, histories.PhaseRecord)
				return b
			}},
	})
}

// moveCompletion moves the first ok of process's f earlier, to t (ms),
// keeping the file in time order.
func moveCompletion(b *builder, process, f string, t float64) *builder {
	var moved histories.Event
	out := &builder{}
	for _, e := range b.events {
		if e.Process == process && e.F == f && e.Type == histories.OK && moved.F == "" {
			moved = e
			continue
		}
		if moved.F != "" && e.Time > ms(t) && moved.Time != -1 {
			out.add(t, moved)
			moved.Time = -1
		}
		out.add(float64(e.Time)/1e6, e)
	}
	return out
}

func TestBlindSpotsOfEmptiness(t *testing.T) {
	runCases(t, "P4", []checkCase{
		{name: "only timed-out writes and no reads", want: Unknown, wantMsg: "linearizability had nothing to decide",
			build: func() *builder {
				b := &builder{}
				b.recordKind(0, histories.RecordEveryChange)
				b.elect(5, "c1", 10)
				t1 := b.campaign(0, 10, "c1", 10)
				b.write(100, 2100, histories.Info, t1, "c1/10/1")
				b.write(2200, 4200, histories.Info, t1, "c1/10/2")
				b.phase(5000, histories.PhaseEnd)
				b.phase(5100, histories.PhaseRecord)
				return b
			}},
		{name: "writes with no reads and no record", want: Unknown, wantMsg: "no store record",
			build: func() *builder {
				b := &builder{}
				t1 := b.campaign(0, 10, "c1", 10)
				b.write(100, 110, histories.OK, t1, "c1/10/1")
				return b
			}},
	})
	runCases(t, "P5", []checkCase{
		{name: "an empty record with the record phase: unknown", want: Unknown, wantMsg: "holds no election key",
			build: func() *builder {
				b := &builder{}
				b.storePut(20, testRegister, "c1/10/1", 11, 11)
				b.observe(30, "c2", "c1", 10)
				b.phase(100, histories.PhaseRecord)
				return b
			}},
	})
	runCases(t, "P1", []checkCase{
		{name: "one probe without a member id is the same member", want: Valid,
			build: func() *builder {
				b := &builder{}
				b.probe(10, "n1", "a1", 2, true)
				b.probe(20, "n1", "", 2, true)
				return b
			}},
		{name: "no member ever claimed to lead", want: Unknown, wantMsg: "no member ever claimed to lead",
			build: func() *builder {
				b := &builder{}
				b.probe(10, "n1", "a1", 2, false)
				return b
			}},
	})
}

func TestBlindSpotsOfEvidence(t *testing.T) {
	runCases(t, "P4", []checkCase{
		{name: "a timed-out write takes effect by its landing, not whenever", want: Invalid,
			wantMsg: `stale read: c3:r read "c1/10/1" after "c1/10/2" had overwritten it (c1's write, revision 12, completed at 3.900s`,
			build: func() *builder {
				b := &builder{}
				b.recordKind(0, histories.RecordEveryChange)
				b.elect(10, "c1", 10)
				t1 := b.campaign(0, 20, "c1", 10)
				b.write(100, 110, histories.OK, t1, "c1/10/1")
				b.storePut(105, testRegister, "c1/10/1", 11, 11)
				b.write(200, 3200, histories.Info, t1, "c1/10/2")
				b.storePut(3900, testRegister, "c1/10/2", 12, 11)
				b.read(4000, 4010, "c3:r", "c1/10/1")
				b.phase(6000, histories.PhaseEnd)
				b.phase(6100, histories.PhaseRecord)
				return b
			}},
		{name: "valid twin: a legal read before the late write is not blamed", want: Valid,
			build: func() *builder {
				b := &builder{}
				b.recordKind(0, histories.RecordEveryChange)
				b.elect(10, "c1", 10)
				t1 := b.campaign(0, 20, "c1", 10)
				b.write(100, 110, histories.OK, t1, "c1/10/1")
				b.storePut(105, testRegister, "c1/10/1", 11, 11)
				b.write(200, 3200, histories.Info, t1, "c1/10/2")
				b.read(3500, 3510, "c3:r", "c1/10/1")
				b.storePut(3900, testRegister, "c1/10/2", 12, 11)
				b.read(4000, 4010, "c3:r", "c1/10/2")
				b.phase(6000, histories.PhaseEnd)
				b.phase(6100, histories.PhaseRecord)
				return b
			}},
		{name: "no single stale read explains it: the zone check names the four operations", want: Invalid,
			wantMsg: `c1's write of "b" had returned before c4:r's read of "a" began, and c1's write of "a" had returned before c3:r's read of "b" began: no order of the two writes explains both reads`,
			build:   readsInBothOrders},
		{name: "no single stale read explains it and a value repeats: porcupine's partial linearization does", want: Invalid,
			wantMsg: "porcupine placed",
			build: func() *builder {
				b := readsInBothOrders()
				b.write(600, 700, histories.OK, token("c1", 10), "b")
				b.read(800, 810, "c4:r", "b")
				return b
			}},
	})
}

// readsInBothOrders: two concurrent writes, then reads that see them in
// both orders.
func readsInBothOrders() *builder {
	b := &builder{}
	b.write(100, 200, histories.OK, token("c1", 10), "a")
	b.write(100, 200, histories.OK, token("c1", 10), "b")
	b.read(300, 310, "c3:r", "a")
	b.read(400, 410, "c3:r", "b")
	b.read(500, 510, "c4:r", "a")
	return b
}

func TestMalformedHistoriesAreRefused(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func() *builder
		want  string
	}{
		{"a completion with no open invocation", func() *builder {
			b := healthyRun()
			b.add(2000, histories.Event{Type: histories.OK, Process: "c3:r", F: histories.FRead, Op: 999, Key: testRegister, Value: "c1/10/1"})
			return b
		}, "has no open invocation"},
		{"an op id reused while open", func() *builder {
			b := &builder{}
			op := b.invoke(10, "c1", histories.FRead, testRegister, "", nil)
			b.add(20, histories.Event{Type: histories.Invoke, Process: "c2", F: histories.FRead, Op: op, Key: testRegister})
			return b
		}, "invoked again while still open"},
		{"a completion by another process or function", func() *builder {
			b := &builder{}
			op := b.invoke(10, "c1", histories.FRead, testRegister, "", nil)
			b.add(20, histories.Event{Type: histories.OK, Process: "c1", F: histories.FWrite, Op: op, Key: testRegister})
			return b
		}, "but it was invoked by c1 as read"},
		{"prefixes that match nothing in the record", func() *builder {
			b := &builder{}
			b.storePut(10, "/other/election/c1", "c1", 5, 5)
			b.phase(20, histories.PhaseRecord)
			return b
		}, "the options do not match this history"},
		{"an observed name that does not match the store", func() *builder {
			b := healthyRun()
			b.add(1250, histories.Event{Type: histories.Info, Process: "c2", F: histories.FObserved, Key: testElection + "c1", Value: "c9", CreateRevision: 10})
			return b
		}, "does not match the store"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Check(context.Background(), c.build().events, testOpts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestBlindSpotsOfAttribution: a campaign of unknown outcome makes only
// the campaigner's own key its term, never another's.
func TestBlindSpotsOfAttribution(t *testing.T) {
	// unknownCampaigns: c1's and c2's campaigns both end unknown (info);
	// c2's key leads from revision 10. c1's act names the term of key
	// owner's and lands at revision 12.
	unknownCampaigns := func(owner string) func() *builder {
		return func() *builder {
			b := &builder{}
			b.recordKind(0, histories.RecordEveryChange)
			b.phase(0, histories.PhaseStart)
			o1 := b.invoke(0, "c1", histories.FCampaign, "", "c1", nil)
			o2 := b.invoke(1, "c2", histories.FCampaign, "", "c2", nil)
			b.elect(10, owner, 10)
			b.complete(2000, o1, histories.Info, "", nil)
			b.complete(2001, o2, histories.Info, "", nil)
			act := b.invoke(2100, "c1:a", histories.FWrite, testRegister, "c1/a/1", nil)
			b.storePut(2105, testRegister, "c1/a/1", 12, 12)
			b.complete(2110, act, histories.OK, "", token(owner, 10))
			b.read(2200, 2210, "c2:r", "c1/a/1")
			b.phase(5000, histories.PhaseEnd)
			b.phase(5100, histories.PhaseRecord)
			return b
		}
	}
	runCases(t, "P4", []checkCase{
		{name: "an act under another's key, after an unknown campaign", want: Invalid, wantMsg: `whose key the store's record shows "c2" created, not it`,
			build: unknownCampaigns("c2")},
		{name: "an act under its own key, after an unknown campaign", want: Valid, build: unknownCampaigns("c1")},
	})
}

// TestAnUnknownSaysWhy: an unknown check's reason is what its summary
// quotes, not a note recorded before it (V: the members' moves).
func TestAnUnknownSaysWhy(t *testing.T) {
	b := healthyRun()
	for _, m := range []string{"n1", "n2"} {
		b.add(50, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FMemberVersion, Member: &histories.MemberStatus{Name: m}, Value: "v3.5.16"})
	}
	v := find(t, mustCheck(t, b.events, testOpts), "V")
	if v.Verdict != Unknown || firstReason(v) != "the run recorded no check of its members' versions at its end" {
		t.Errorf("V %s, reason %q; want unknown, saying no version check was recorded", v.Verdict, firstReason(v))
	}
}

// TestObserveIsOptional: campaigners that decline observe leave P5 not
// checked, informational, and the run is judged by the rest; one that
// observes nothing without declining leaves P5 unknown.
func TestObserveIsOptional(t *testing.T) {
	build := func(answer histories.Type, errText string) []histories.Event {
		b := &builder{nextOp: 1000}
		for _, e := range healthyRun().events {
			if e.F != histories.FObserved {
				b.add(float64(e.Time)/1e6, e)
			}
		}
		for i, c := range []string{"c1", "c2"} {
			op := b.invoke(float64(1+i), c, histories.FObserve, "", "", nil)
			b.complete(float64(2+i), op, answer, "", nil)
			if answer == histories.Fail {
				b.events[len(b.events)-1].Error = errText
			}
		}
		sort.SliceStable(b.events, func(i, j int) bool { return b.events[i].Time < b.events[j].Time })
		for i := range b.events {
			b.events[i].Index = int64(i)
		}
		return b.events
	}
	res := mustCheck(t, build(histories.Fail, "unknown op observe"), testOpts)
	p5 := find(t, res, "P5")
	if res.Valid != Valid || !p5.Informational || len(p5.Notes) == 0 || !strings.HasPrefix(p5.Notes[0], "not checked: the campaigners do not observe") {
		t.Errorf("declined: run %s (%s), P5 informational %v, notes %v; want valid, P5 not checked", res.Valid, res.Summary, p5.Informational, p5.Notes)
	}
	if !strings.Contains(res.Coverage.String(), "not checked: P5, the campaigners do not observe") {
		t.Errorf("the coverage line does not say P5 was not checked: %s", res.Coverage)
	}
	p5 = find(t, mustCheck(t, build(histories.OK, ""), testOpts), "P5")
	if p5.Verdict != Unknown || p5.Informational {
		t.Errorf("observing nothing without declining: P5 %s (informational %v), want unknown", p5.Verdict, p5.Informational)
	}
}
