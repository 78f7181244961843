package checker

import (
	"context"
	"testing"

	"fmt"

	"github.com/election-harness/harness/histories"
)

// Hand-built histories. Times are in milliseconds since the run started;
// the builder turns them into the nanoseconds the history holds. Events
// must be added in time order, as a recorder would write them.

const (
	testElection = "/eh/t/election/"
	testRegister = "/eh/t/register/r"
)

var testOpts = Options{
	ElectionPrefix: testElection,
	RegisterPrefix: "/eh/t/register/",
	TTL:            3e9,
}

type builder struct {
	events []histories.Event
	nextOp int64
}

func ms(t float64) int64 { return int64(t * 1e6) }

func (b *builder) add(t float64, e histories.Event) histories.Event {
	e.Index = int64(len(b.events))
	e.Time = ms(t)
	b.events = append(b.events, e)
	return e
}

// invoke starts an operation and returns its id.
func (b *builder) invoke(t float64, process, f, key, value string, tok *histories.Token) int64 {
	b.nextOp++
	b.add(t, histories.Event{Type: histories.Invoke, Process: process, F: f, Op: b.nextOp, Key: key, Value: value, Token: tok})
	return b.nextOp
}

// complete ends operation op, copying what its invocation carried.
func (b *builder) complete(t float64, op int64, typ histories.Type, value string, tok *histories.Token) {
	for _, e := range b.events {
		if e.Op == op && e.Type == histories.Invoke {
			e.Type = typ
			if e.F == histories.FRead {
				e.Value = value
			}
			if tok != nil {
				e.Token = tok
			}
			b.add(t, e)
			return
		}
	}
	panic(fmt.Sprintf("no invocation of op %d", op))
}

// token of campaigner c's key with create revision rev.
func token(c string, rev int64) *histories.Token {
	return &histories.Token{Key: testElection + c, Seq: rev, Session: c}
}

// campaign records a campaign by c from t0 to t1 that won term rev.
func (b *builder) campaign(t0, t1 float64, c string, rev int64) *histories.Token {
	op := b.invoke(t0, c, histories.FCampaign, "", c, nil)
	tok := token(c, rev)
	b.complete(t1, op, histories.OK, "", tok)
	return tok
}

// write records a register write by the leader of tok.
func (b *builder) write(t0, t1 float64, typ histories.Type, tok *histories.Token, value string) {
	op := b.invoke(t0, tok.Key[len(testElection):], histories.FWrite, testRegister, value, tok)
	b.complete(t1, op, typ, "", nil)
}

// read records a register read by process p that returned value.
func (b *builder) read(t0, t1 float64, p, value string) {
	op := b.invoke(t0, p, histories.FRead, testRegister, "", nil)
	b.complete(t1, op, histories.OK, value, nil)
}

// storePut records the store creating (or updating) key at rev.
func (b *builder) storePut(t float64, key, value string, rev, createRev int64) {
	b.add(t, histories.Event{Type: histories.OK, Process: histories.ProcessStore, F: histories.FStorePut, Key: key, Value: value, Revision: rev, CreateRevision: createRev})
}

func (b *builder) storeDelete(t float64, key string, rev, createRev int64) {
	b.add(t, histories.Event{Type: histories.OK, Process: histories.ProcessStore, F: histories.FStoreDelete, Key: key, Revision: rev, CreateRevision: createRev})
}

// gap records the store's record owning up to missed changes of
// campaigner c's key before rev.
func (b *builder) gap(t float64, c string, rev int64) {
	b.add(t, histories.Event{Type: histories.Info, Process: histories.ProcessStore, F: histories.FStoreGap, Key: testElection + c, Revision: rev})
}

// elect records the store's put of campaigner c's election key.
func (b *builder) elect(t float64, c string, rev int64) {
	b.storePut(t, testElection+c, c, rev, rev)
}

func (b *builder) probe(t float64, member, id string, term uint64, leader bool) {
	b.add(t, histories.Event{Type: histories.OK, Process: "probe:" + member, F: histories.FStatus,
		Member: &histories.MemberStatus{Name: member, ID: id, Term: term, IsLeader: leader}})
}

func (b *builder) observe(t float64, observer, c string, createRev int64) {
	b.add(t, histories.Event{Type: histories.Info, Process: observer, F: histories.FObserved, Key: testElection + c, Value: c, CreateRevision: createRev})
}

func (b *builder) phase(t float64, p string) {
	b.add(t, histories.Event{Type: histories.Info, Process: histories.ProcessHarness, F: histories.FPhase, Value: p})
}

// recordKind says how the store's record was taken.
func (b *builder) recordKind(t float64, kind string) {
	b.add(t, histories.Event{Type: histories.Info, Process: histories.ProcessStore, F: histories.FStoreRecord, Value: kind})
}

func (b *builder) lost(t float64, c string, tok *histories.Token) {
	b.add(t, histories.Event{Type: histories.Info, Process: c, F: histories.FLost, Token: tok})
}

// healthyRun is a complete, valid run: two members probed, c1 then c2
// elected in the store and by their campaigns, fenced writes and reads
// that agree, observers that follow, a heal and a recovery.
func healthyRun() *builder {
	b := &builder{}
	b.recordKind(0, histories.RecordEveryChange)
	b.phase(0, histories.PhaseStart)
	b.probe(10, "n1", "a1", 2, true)
	b.probe(11, "n2", "a1", 2, false)
	b.elect(100, "c1", 10)
	t1 := b.campaign(50, 110, "c1", 10)
	b.observe(120, "c2", "c1", 10)
	b.write(200, 210, histories.OK, t1, "c1/10/1")
	b.storePut(205, testRegister, "c1/10/1", 11, 11)
	b.read(300, 310, "c2:r", "c1/10/1")
	c2 := b.invoke(340, "c2", histories.FCampaign, "", "c2", nil)
	b.elect(350, "c2", 12) // c2 waits behind c1
	b.invoke(400, "c1", histories.FResign, "", "", t1)
	b.storeDelete(405, testElection+"c1", 13, 10)
	b.complete(410, b.nextOp, histories.OK, "", nil)
	t2 := token("c2", 12)
	b.complete(420, c2, histories.OK, "", t2)
	b.observe(425, "c1", "c2", 12)
	b.write(500, 510, histories.OK, t2, "c2/12/1")
	b.storePut(505, testRegister, "c2/12/1", 14, 11)
	b.read(600, 610, "c1:r", "c2/12/1")
	b.probe(700, "n2", "a2", 3, true)
	b.phase(1000, histories.PhaseHeal)
	b.write(1100, 1110, histories.OK, t2, "c2/12/2")
	b.storePut(1105, testRegister, "c2/12/2", 15, 11)
	b.phase(1200, histories.PhaseEnd)
	b.phase(1300, histories.PhaseRecord)
	return b
}

// mustCheck checks events, failing the test if they cannot be checked.
func mustCheck(t testing.TB, events []histories.Event, opts Options) Results {
	t.Helper()
	res, err := Check(context.Background(), events, opts)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	return res
}
