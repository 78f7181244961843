package workloads

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/election-harness/harness/histories"
)

// fastConfig paces a client for tests: short holds, acts every 5 to 15 ms.
func fastConfig() ClientConfig {
	return ClientConfig{RegisterKey: "reg", CampaignTimeout: time.Second, OpTimeout: time.Second,
		HoldMin: 20 * time.Millisecond, HoldMax: 40 * time.Millisecond, WriteInterval: time.Millisecond,
		ReadInterval: 20 * time.Millisecond, ActMin: 5 * time.Millisecond, ActMax: 15 * time.Millisecond, Seed: 1}
}

func newRecorder(t *testing.T) (*histories.Recorder, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.jsonl")
	rec, err := histories.NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	return rec, path
}

// TestClientActsAndWritesUniqueValues runs a client against a campaigner
// that is given the same term every time it campaigns: every value
// written in the run is unique, acts are writes of process c1:a invoked
// with no token whose ok completions name the term, and no process has
// two operations open at once.
func TestClientActsAndWritesUniqueValues(t *testing.T) {
	rec, path := newRecorder(t)
	recipe := &scriptedRecipe{lost: make(chan histories.Token, 1), block: make(chan struct{})}
	close(recipe.block)
	cmdR, cmdW := io.Pipe()
	repR, repW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go RunCampaigner(ctx, CampaignerConfig{Name: "c1", Recipe: "scripted"}, recipe, cmdR, repW)
	conn := NewConn("c1", pipeRW{repR, cmdW}, rec, slog.Default())
	client := NewClient("c1", conn, fastConfig())

	// Half way, the campaigner stops believing it leads: its acts and
	// writes then fail "not leader".
	go func() {
		time.Sleep(300 * time.Millisecond)
		recipe.notLeading.Store(true)
	}()
	rctx, stop := context.WithTimeout(ctx, 600*time.Millisecond)
	defer stop()
	client.Run(rctx)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	h, err := histories.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]bool{}
	open := map[string]int64{} // process -> open op
	invokes := map[int64]histories.Event{}
	var won, actsOK, actsNotLeader int
	for _, e := range h.Events {
		if e.Type == histories.Invoke {
			if op, busy := open[e.Process]; busy {
				t.Errorf("%s invoked op %d while its op %d was open", e.Process, e.Op, op)
			}
			open[e.Process] = e.Op
			invokes[e.Op] = e
			if e.F == histories.FWrite {
				if values[e.Value] {
					t.Errorf("value %q written twice", e.Value)
				}
				values[e.Value] = true
			}
			if e.Process == ActProcess("c1") && (e.F != histories.FWrite || e.Token != nil || e.Key != "reg") {
				t.Errorf("act invoke %+v: want a write of reg with no token", e)
			}
			continue
		}
		if !e.IsCompletion() {
			continue
		}
		delete(open, e.Process)
		switch {
		case e.F == histories.FCampaign && e.Type == histories.OK:
			won++
		case e.Process == ActProcess("c1") && e.Type == histories.OK:
			actsOK++
			if e.Token == nil || e.Token.Seq != 42 {
				t.Errorf("act completion %+v: want the term it acted under, seq 42", e)
			}
		case e.Process == ActProcess("c1") && e.Type == histories.Fail:
			if !strings.HasPrefix(e.Error, NotLeader) {
				t.Errorf("act completion %+v: a fail should say %q", e, NotLeader)
			}
			actsNotLeader++
		}
	}
	if won < 2 {
		t.Errorf("the campaigner won %d times; the test needs the same term given at least twice", won)
	}
	if actsOK == 0 || actsNotLeader == 0 {
		t.Errorf("%d acts ok and %d not leader; want some of each", actsOK, actsNotLeader)
	}
}

// fakePeer answers the harness's commands with answer (no reply when it
// returns false) and counts them by op.
type fakePeer struct {
	mu   sync.Mutex
	seen map[string]int
}

func (p *fakePeer) count(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[op]
}

func startFakePeer(t *testing.T, rec *histories.Recorder, answer func(Command) (Reply, bool)) (*Conn, *fakePeer) {
	t.Helper()
	cmdR, cmdW := io.Pipe()
	repR, repW := io.Pipe()
	p := &fakePeer{seen: map[string]int{}}
	go func() {
		sc := bufio.NewScanner(cmdR)
		enc := json.NewEncoder(repW)
		for sc.Scan() {
			var cmd Command
			if json.Unmarshal(sc.Bytes(), &cmd) != nil {
				continue
			}
			p.mu.Lock()
			p.seen[cmd.Op]++
			p.mu.Unlock()
			if rep, ok := answer(cmd); ok {
				rep.ID = cmd.ID
				enc.Encode(rep)
			}
		}
	}()
	t.Cleanup(func() { cmdW.Close(); repW.Close() })
	return NewConn("c1", pipeRW{repR, cmdW}, rec, slog.Default()), p
}

// TestActLoopStopsWhenUnsupported: a campaigner that does not act is
// asked once, as with lease-ttl.
func TestActLoopStopsWhenUnsupported(t *testing.T) {
	for _, errText := range []string{"unknown op act", "unsupported: this campaigner does not act"} {
		t.Run(errText, func(t *testing.T) {
			rec, _ := newRecorder(t)
			conn, peer := startFakePeer(t, rec, func(cmd Command) (Reply, bool) {
				return Reply{Type: histories.Fail, Error: errText}, true
			})
			c := NewClient("c1", conn, fastConfig())
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			c.actLoop(ctx)
			if ctx.Err() != nil {
				t.Errorf("the act loop ran on after %q", errText)
			}
			if n := peer.count(OpAct); n != 1 {
				t.Errorf("asked to act %d times, want 1", n)
			}
		})
	}
}

// TestActLoopAsksRegularly: a campaigner that says it does not lead is
// asked again and again, at the configured pace.
func TestActLoopAsksRegularly(t *testing.T) {
	rec, _ := newRecorder(t)
	conn, peer := startFakePeer(t, rec, func(cmd Command) (Reply, bool) {
		return Reply{Type: histories.Fail, Error: NotLeader}, true
	})
	cfg := fastConfig()
	cfg.ActMin, cfg.ActMax = 20*time.Millisecond, 40*time.Millisecond
	c := NewClient("c1", conn, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	c.actLoop(ctx)
	if n := peer.count(OpAct); n < 6 || n > 20 {
		t.Errorf("asked to act %d times in 400 ms at 20-40 ms, want about 13", n)
	}
	cfg.ActMax = 0
	c = NewClient("c2", conn, cfg)
	c.actLoop(context.Background()) // returns at once
}

// TestActScheduleFollowsSeed: the act loop's pauses are the seed's,
// whatever else the client draws.
func TestActScheduleFollowsSeed(t *testing.T) {
	cfg := fastConfig()
	cfg.ActMin, cfg.ActMax = time.Second, 2*time.Second
	a, b := NewClient("c1", nil, cfg), NewClient("c1", nil, cfg)
	b.jitter(time.Second) // the election loop draws too
	cfg.Seed = 2
	other := NewClient("c1", nil, cfg)
	same := true
	for range 10 {
		pa, pb, po := a.actPause(), b.actPause(), other.actPause()
		if pa != pb {
			t.Fatalf("same seed, pauses %v and %v", pa, pb)
		}
		if pa < time.Second || pa >= 2*time.Second {
			t.Fatalf("pause %v outside [1s, 2s)", pa)
		}
		same = same && pa == po
	}
	if same {
		t.Errorf("seeds 1 and 2 gave the same act schedule")
	}
}

func TestActIsRecordedAsAWrite(t *testing.T) {
	if historyF(OpAct) != histories.FWrite || historyF(OpWrite) != histories.FWrite || historyF(OpRead) != histories.FRead {
		t.Errorf("historyF: act %q, write %q, read %q", historyF(OpAct), historyF(OpWrite), historyF(OpRead))
	}
	for _, e := range []string{"unsupported", "unsupported: no", "unknown op act"} {
		if !Unsupported(e) {
			t.Errorf("Unsupported(%q) = false", e)
		}
	}
	if Unsupported("not leader") {
		t.Errorf("Unsupported(not leader) = true")
	}
}

// TestFinalReadWaitsForTheReaderLoop: the final read is invoked only
// after the reader loop's open read was answered, and the loop reads no
// more: the reader process never has two operations open.
func TestFinalReadWaitsForTheReaderLoop(t *testing.T) {
	rec, path := newRecorder(t)
	conn, _ := startFakePeer(t, rec, func(cmd Command) (Reply, bool) {
		switch cmd.Op {
		case OpRead:
			time.Sleep(30 * time.Millisecond) // every read is slow: the final one meets one open
			return Reply{Type: histories.OK, Value: "v"}, true
		case OpObserve:
			return Reply{Type: histories.OK}, true
		}
		return Reply{Type: histories.Fail, Error: NotLeader}, true
	})
	cfg := fastConfig()
	cfg.ActMax = 0
	c := NewClient("c1", conn, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	time.Sleep(200 * time.Millisecond)
	final := c.FinalRead(ctx, time.Second)
	time.Sleep(100 * time.Millisecond) // a loop still reading would read again by now
	cancel()
	<-done
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if final.Type != histories.OK || final.Process != ReaderProcess("c1") {
		t.Fatalf("final read %+v: want an ok read by c1:r", final)
	}
	h, err := histories.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	open := map[string]int64{}
	var reads, after int
	for _, e := range h.Events {
		if e.Process != ReaderProcess("c1") {
			continue
		}
		if e.Type == histories.Invoke {
			if op, busy := open[e.Process]; busy {
				t.Errorf("op %d invoked while op %d was open", e.Op, op)
			}
			open[e.Process] = e.Op
			reads++
			if e.Op > final.Op {
				after++
			}
			continue
		}
		delete(open, e.Process)
	}
	if reads < 3 {
		t.Errorf("%d reads: the loop should have read a few times before the final read", reads)
	}
	if after > 0 {
		t.Errorf("the reader loop read %d times after the final read", after)
	}
}

// TestAnOkActWithoutATermIsRecordedUnknown: a campaigner that says it
// acted but names no term broke the protocol; its act is recorded as of
// unknown outcome (info), as a campaign won without a token is, so the
// history stays one the reader accepts.
func TestAnOkActWithoutATermIsRecordedUnknown(t *testing.T) {
	rec, path := newRecorder(t)
	conn, _ := startFakePeer(t, rec, func(cmd Command) (Reply, bool) { return Reply{Type: histories.OK}, true })
	done := conn.Invoke(context.Background(), ActProcess("c1"), Command{Op: OpAct, Key: "reg", Value: "c1/a/1", TimeoutMS: 1000}, nil)
	if done.Type != histories.Info || !strings.Contains(done.Error, "names no token") {
		t.Errorf("act recorded %s (%q), want info saying the token is missing", done.Type, done.Error)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := histories.ReadFile(path); err != nil {
		t.Errorf("the history is refused: %v", err)
	}
}
