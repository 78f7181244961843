package checker

import (
	"testing"

	"github.com/election-harness/harness/histories"
)

// renewed records campaigner c's report that the store renewed its lease
// (session c, as token gives it) for ttl at revision rev, read by the
// harness at t.
func (b *builder) renewed(t float64, c string, rev int64, ttl string) {
	b.add(t, histories.Event{Type: histories.Info, Process: c, F: histories.FRenewed, Session: c, Value: ttl, Revision: rev})
}

// leaseRun is c1 winning term 10 under lease c1, and a write by it
// invoked at 1 s that landed at revision 12: revision 12 and every later
// one came after 1 s. edit adds the renewals and the key's end.
func leaseRun(edit func(b *builder, tok *histories.Token)) func() *builder {
	return func() *builder {
		b := &builder{}
		b.recordKind(0, histories.RecordEveryChange)
		b.phase(0, histories.PhaseStart)
		b.elect(10, "c1", 10)
		tok := b.campaign(0, 20, "c1", 10)
		b.write(1000, 1010, histories.OK, tok, "c1/10/1")
		b.storePut(1005, testRegister, "c1/10/1", 12, 12)
		edit(b, tok)
		b.phase(8000, histories.PhaseFinalReads)
		b.phase(8100, histories.PhaseEnd)
		b.phase(8200, histories.PhaseRecord)
		return b
	}
}

func TestP8RenewedLeasesOutliveTheirRenewal(t *testing.T) {
	// renewedThenGone: c1's lease renewed for 3s at revision 12 (so
	// after 1 s, promised until 4 s), reported at 1.1 s; its key deleted
	// at revision 20, received at goneAt.
	renewedThenGone := func(goneAt float64) func() *builder {
		return leaseRun(func(b *builder, tok *histories.Token) {
			b.renewed(1100, "c1", 12, "3s")
			b.storeDelete(goneAt, testElection+"c1", 20, 10)
		})
	}
	runCases(t, "P8", []checkCase{
		{name: "the key ends after the renewal's TTL", want: Valid, build: renewedThenGone(4200),
			wantCounts: map[string]int64{"renewals": 1, "terms-renewed": 1, "terms-ended-by-lease": 1}},
		{name: "revoked 2s into a 3s renewal (etcd #15247)", want: Invalid, wantMsg: "lease ended early", build: renewedThenGone(2000)},
		{name: "within the slack", want: Valid, build: renewedThenGone(3600)},
		// The record received the deletion late (through a stuck
		// member, say), but c1's write that landed after it was
		// acknowledged at 2 s: the key was gone by then.
		{name: "a deletion received late, known earlier by a later write", want: Invalid, wantMsg: "by 2.010s, 2.0s early",
			build: leaseRun(func(b *builder, tok *histories.Token) {
				b.renewed(1100, "c1", 12, "3s")
				b.write(1500, 2010, histories.OK, token("c2", 19), "c2/19/1")
				b.storePut(5000, testRegister, "c2/19/1", 21, 12)
				b.storeDelete(5000, testElection+"c1", 20, 10)
			})},
		{name: "the key never ends", want: Valid, wantCounts: map[string]int64{"terms-alive": 1},
			build: leaseRun(func(b *builder, tok *histories.Token) { b.renewed(1100, "c1", 12, "3s") })},
		// The pause trap: c1 was paused while the answer sat in its
		// socket, and the harness read it at 4.3 s. Timed by its reading,
		// the renewal would promise the lease until 7.3 s and the deletion
		// at 4.2 s would look 3 s early; by its revision it promised only
		// until 4 s.
		{name: "a renewal read late, after a pause", want: Valid,
			build: leaseRun(func(b *builder, tok *histories.Token) {
				b.add(2000, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart, Fault: &histories.Fault{ID: 1, Kind: histories.FaultPause, Targets: []string{"c1"}}})
				b.storeDelete(4200, testElection+"c1", 20, 10)
				b.add(4250, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStop, Fault: &histories.Fault{ID: 1, Kind: histories.FaultPause, Targets: []string{"c1"}}})
				b.renewed(4300, "c1", 12, "3s")
			})},
		{name: "a renewal no write places in time", want: Valid, wantCounts: map[string]int64{"renewals-unplaced": 1},
			build: leaseRun(func(b *builder, tok *histories.Token) {
				b.renewed(1100, "c1", 11, "3s") // before revision 12: nothing bounds it from below
				b.storeDelete(2000, testElection+"c1", 20, 10)
			})},
		{name: "a renewal answered after the deletion's revision: counted, not judged", want: Valid, wantCounts: map[string]int64{"renewals-after-end": 1},
			build: leaseRun(func(b *builder, tok *histories.Token) {
				b.storeDelete(2000, testElection+"c1", 20, 10)
				b.renewed(2100, "c1", 21, "3s")
			})},
		{name: "the holder resigned its term", want: Valid, wantCounts: map[string]int64{"terms-resigned": 1},
			build: leaseRun(func(b *builder, tok *histories.Token) {
				b.renewed(1100, "c1", 12, "3s")
				b.invoke(1500, "c1", histories.FResign, "", "", tok)
				b.storeDelete(1510, testElection+"c1", 20, 10)
				b.complete(1520, b.nextOp, histories.OK, "", nil)
			})},
		{name: "the holder resigned without naming the term", want: Valid, wantCounts: map[string]int64{"terms-resigned": 1},
			build: leaseRun(func(b *builder, tok *histories.Token) {
				b.renewed(1100, "c1", 12, "3s")
				b.invoke(1500, "c1", histories.FResign, "", "", nil) // a recipe resigns whatever it holds
				b.storeDelete(1510, testElection+"c1", 20, 10)
				b.complete(1520, b.nextOp, histories.Info, "", nil)
			})},
		{name: "another campaigner's resign is not the holder's", want: Invalid, wantMsg: "lease ended early",
			build: leaseRun(func(b *builder, tok *histories.Token) {
				b.renewed(1100, "c1", 12, "3s")
				b.invoke(1500, "c2", histories.FResign, "", "", nil)
				b.storeDelete(1510, testElection+"c1", 20, 10)
				b.complete(1520, b.nextOp, histories.OK, "", nil)
			})},
		{name: "a deletion once the campaigners stop: not judged", want: Valid, wantCounts: map[string]int64{"terms-ended-at-stop": 1},
			build: leaseRun(func(b *builder, tok *histories.Token) {
				b.renewed(7000, "c1", 12, "3s")
				b.storeDelete(8050, testElection+"c1", 20, 10)
			})},
		{name: "another lease's renewal does not keep this one", want: Valid, wantMsg: "no won term's lease was reported renewed",
			build: leaseRun(func(b *builder, tok *histories.Token) {
				b.renewed(1100, "c2", 12, "3s")
				b.storeDelete(2000, testElection+"c1", 20, 10)
			})},
		{name: "clock faults: not judged", want: Valid, wantMsg: "renewals not judged",
			build: leaseRun(func(b *builder, tok *histories.Token) {
				b.add(50, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart, Fault: &histories.Fault{ID: 1, Kind: histories.FaultClock}})
				b.renewed(1100, "c1", 12, "3s")
				b.storeDelete(2000, testElection+"c1", 20, 10)
			})},
	})
}

// P8 is judged: an early end fails the run, unlike P7's. Without
// renewals in the history it is not there at all; without final reads
// (an interrupted run) it judges nothing and does not decide the run.
func TestP8JudgedOnlyWithRenewals(t *testing.T) {
	early := leaseRun(func(b *builder, tok *histories.Token) {
		b.renewed(1100, "c1", 12, "3s")
		b.storeDelete(2000, testElection+"c1", 20, 10)
	})()
	res := mustCheck(t, early.events, testOpts)
	if res.Valid != Invalid {
		t.Errorf("a lease ended early: run %s (%s), want invalid", res.Valid, res.Summary)
	}
	if p8 := find(t, res, "P8"); p8.Informational || p8.Evidence[0].Story == nil {
		t.Errorf("P8 informational %v, story %v: want judged, with a story", p8.Informational, p8.Evidence[0].Story)
	}

	for _, c := range res.Checks {
		if c.Property == "P8" {
			continue
		}
		if c.Verdict == Invalid && !c.Informational {
			t.Errorf("%s invalid too: %+v", c.Name, c.Evidence)
		}
	}

	for _, ch := range mustCheck(t, healthyRun().events, testOpts).Checks {
		if ch.Property == "P8" {
			t.Errorf("P8 in a history without renewals: %+v", ch)
		}
	}

	interrupted := &builder{}
	for _, e := range early.events {
		if e.F == histories.FPhase && e.Value != histories.PhaseStart {
			continue
		}
		interrupted.add(float64(e.Time)/1e6, e)
	}
	p8 := find(t, mustCheck(t, interrupted.events, testOpts), "P8")
	if !p8.Informational || p8.Verdict != Valid || len(p8.Notes) == 0 {
		t.Errorf("P8 of an interrupted run: %+v, want informational, not judged", p8)
	}
}

// P8's story is the store's act: the key's deletion, after the
// renewal's anchor, and the member fault in between is its cause.
func TestP8StoryCitesTheStuckLeader(t *testing.T) {
	stuck := &histories.Fault{ID: 1, Kind: histories.FaultFailpoint, Targets: []string{"n1"}, Params: map[string]string{"rule": "raft-leader-stuck"}}
	b := leaseRun(func(b *builder, tok *histories.Token) {
		b.probe(30, "n1", "a1", 2, true)
		b.renewed(1100, "c1", 12, "3s")
		b.add(1200, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart, Fault: stuck})
		b.add(1900, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStop, Fault: stuck})
		b.storeDelete(2000, testElection+"c1", 20, 10)
	})()
	p8 := find(t, mustCheck(t, b.events, testOpts), "P8")
	if p8.Verdict != Invalid {
		t.Fatalf("P8 %s, want invalid", p8.Verdict)
	}
	want := "at 2.00 s the key of c1's term 10 was deleted, though its lease had been renewed for 3s at revision 12, after 1.00 s, and it had not resigned; n1 was failpoint-stricken 1.20–1.90 s (failpoint:raft-leader-stuck on n1)"
	if got := p8.Evidence[0].Story.Sentence; got != want {
		t.Errorf("story %q\nwant  %q", got, want)
	}
}

// leaseRunNoSession is leaseRun with c1's token naming no lease (the etcd
// token does not need one): P8 finds the lease from c1's renewals.
func leaseRunNoSession(edit func(b *builder)) func() *builder {
	return func() *builder {
		b := &builder{}
		b.recordKind(0, histories.RecordEveryChange)
		b.phase(0, histories.PhaseStart)
		b.elect(10, "c1", 10)
		op := b.invoke(0, "c1", histories.FCampaign, "", "c1", nil)
		tok := &histories.Token{Key: testElection + "c1", Seq: 10}
		b.complete(20, op, histories.OK, "", tok)
		b.write(1000, 1010, histories.OK, tok, "c1/10/1")
		b.storePut(1005, testRegister, "c1/10/1", 12, 12)
		edit(b)
		b.phase(8000, histories.PhaseFinalReads)
		b.phase(8100, histories.PhaseEnd)
		b.phase(8200, histories.PhaseRecord)
		return b
	}
}

// TestP8SecondAudit: the early revocations the second audit found P8
// letting through, each with its twin that stays valid.
func TestP8SecondAudit(t *testing.T) {
	runCases(t, "P8", []checkCase{
		{name: "a token without a lease: the holder's renewals name it", want: Invalid, wantMsg: "lease ended early",
			build: leaseRunNoSession(func(b *builder) {
				b.renewed(1100, "c1", 12, "3s")
				b.storeDelete(2000, testElection+"c1", 20, 10)
			})},
		{name: "a token without a lease, ended after the renewal ran out", want: Valid, wantCounts: map[string]int64{"terms-renewed": 1, "terms-ended-by-lease": 1},
			build: leaseRunNoSession(func(b *builder) {
				b.renewed(1100, "c1", 12, "3s")
				b.storeDelete(4200, testElection+"c1", 20, 10)
			})},
		{name: "a token without a lease, its holder renewing two: unknown", want: Unknown, wantMsg: "name no lease",
			build: leaseRunNoSession(func(b *builder) {
				b.renewed(1100, "c1", 12, "3s")
				b.add(1150, histories.Event{Type: histories.Info, Process: "c1", F: histories.FRenewed, Session: "c1-other", Value: "3s", Revision: 12})
				b.storeDelete(2000, testElection+"c1", 20, 10)
			})},
		// Received once the final reads began, but c2's write that
		// landed after the deletion was acknowledged at 2 s.
		{name: "a deletion received at the stop, known seconds earlier", want: Invalid, wantMsg: "by 2.010s",
			build: leaseRun(func(b *builder, tok *histories.Token) {
				b.renewed(1100, "c1", 12, "3s")
				b.write(1500, 2010, histories.OK, token("c2", 19), "c2/19/1")
				b.storeDelete(8050, testElection+"c1", 20, 10)
				b.storePut(8050, testRegister, "c2/19/1", 21, 12)
			})},
		{name: "a deletion received at the stop, nothing placing it earlier", want: Valid, wantCounts: map[string]int64{"terms-ended-at-stop": 1},
			build: leaseRun(func(b *builder, tok *histories.Token) {
				b.renewed(1100, "c1", 12, "3s")
				b.storeDelete(8050, testElection+"c1", 20, 10)
			})},
		{name: "a never-completed resign of an older term does not excuse this one", want: Invalid, wantMsg: "lease ended early",
			build: leaseRun(func(b *builder, tok *histories.Token) {
				b.renewed(1100, "c1", 12, "3s")
				b.invoke(1500, "c1", histories.FResign, "", "", token("c1", 5))
				b.storeDelete(2000, testElection+"c1", 20, 10)
			})},
		{name: "a never-completed resign of this term excuses it", want: Valid, wantCounts: map[string]int64{"terms-resigned": 1},
			build: leaseRun(func(b *builder, tok *histories.Token) {
				b.renewed(1100, "c1", 12, "3s")
				b.invoke(1500, "c1", histories.FResign, "", "", tok)
				b.storeDelete(2000, testElection+"c1", 20, 10)
			})},
		{name: "an absurd renewal TTL is judged, not skipped", want: Invalid, wantMsg: "lease ended early",
			build: leaseRun(func(b *builder, tok *histories.Token) {
				// The longest Go duration, renewed after 3 s: anchor + TTL
				// overflows int64 by seconds.
				b.write(3000, 3010, histories.OK, tok, "c1/10/2")
				b.storePut(3005, testRegister, "c1/10/2", 13, 12)
				b.renewed(3100, "c1", 13, "2562047h47m16s")
				b.storeDelete(3500, testElection+"c1", 20, 10)
			})},
	})
}

// TestP8LeavesTermsTheHarnessEnded: a term whose session the harness
// ended from outside (the campaigner check) ended early by design.
func TestP8LeavesTermsTheHarnessEnded(t *testing.T) {
	runCases(t, "P8", []checkCase{
		{name: "the harness ended the term", want: Valid, wantCounts: map[string]int64{"terms-ended-by-harness": 1},
			build: leaseRun(func(b *builder, tok *histories.Token) {
				b.renewed(1100, "c1", 12, "3s")
				end := &histories.Fault{ID: 1, Kind: histories.FaultEndTerm, Targets: []string{"c1"}, Params: map[string]string{"key": tok.Key}}
				b.add(1900, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart, Fault: end})
				b.storeDelete(2000, testElection+"c1", 20, 10)
				b.add(2010, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStop, Fault: &histories.Fault{ID: 1, Kind: histories.FaultEndTerm}})
			})},
	})
}
