package workloads

import (
	"context"
	"testing"
	"time"

	"github.com/election-harness/harness/histories"
)

// TestNoResignWhileStoppedOrJustResumed: a leader under a pause hears no
// resign until the pause ended and the quiet after it passed; then the
// usual holds and resigns come back.
func TestNoResignWhileStoppedOrJustResumed(t *testing.T) {
	rec, path := newRecorder(t)
	stops := NewStops()
	rec.OnRecord(stops.Observe)
	tok := &histories.Token{Key: "/e/c1", Seq: 7}
	conn, peer := startFakePeer(t, rec, func(cmd Command) (Reply, bool) {
		switch cmd.Op {
		case OpCampaign:
			return Reply{Type: histories.OK, Token: tok}, true
		case OpAct, OpLeaseTTL, OpObserve:
			return Reply{Type: histories.Fail, Error: "unsupported"}, true
		}
		return Reply{Type: histories.OK}, true
	})
	cfg := fastConfig()
	cfg.Stops, cfg.ResignQuiet = stops, 150*time.Millisecond
	client := NewClient("c1", conn, cfg)

	pause := &histories.Fault{ID: 1, Kind: histories.FaultPause, Targets: []string{"c1"}}
	rec.Record(histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart, Fault: pause})
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	go func() {
		time.Sleep(200 * time.Millisecond)
		rec.Record(histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStop, Fault: &histories.Fault{ID: 1, Kind: histories.FaultPause}})
	}()
	client.Run(ctx)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	h, err := histories.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stopped int64 = -1
	resignsAfter := 0
	for _, e := range h.Events {
		if e.F == histories.FFaultStop {
			stopped = e.Time
		}
		if e.F != histories.FResign || e.Type != histories.Invoke {
			continue
		}
		if stopped < 0 || e.Time < stopped+int64(cfg.ResignQuiet) {
			t.Errorf("resign invoked at %v: the pause ended at %v, and the quiet after it lasts %v", time.Duration(e.Time), time.Duration(stopped), cfg.ResignQuiet)
		}
		resignsAfter++
	}
	if resignsAfter == 0 || peer.count(OpWrite) == 0 {
		t.Errorf("%d resigns after the quiet, %d writes: the leader should write throughout and resign again after", resignsAfter, peer.count(OpWrite))
	}
}

// TestStopsFollowsStopKindsOnly: a clock fault or a fault of a member
// stops no campaigner; a partition of it does, until its stop.
func TestStopsFollowsStopKindsOnly(t *testing.T) {
	s := NewStops()
	start := func(id int64, kind string, targets ...string) {
		s.Observe(histories.Event{F: histories.FFaultStart, Fault: &histories.Fault{ID: id, Kind: kind, Targets: targets}})
	}
	start(1, histories.FaultClock, "c1")
	start(2, histories.FaultPause, "n1")
	if s.Quiet("c1", 0) {
		t.Error("a clock fault of c1 or a pause of n1 stopped c1")
	}
	start(3, histories.FaultPartition, "c1")
	start(4, histories.FaultKill, "c1")
	s.Observe(histories.Event{F: histories.FFaultStop, Fault: &histories.Fault{ID: 3, Kind: histories.FaultPartition}})
	if !s.Quiet("c1", 0) {
		t.Error("c1 is still killed, and not quiet")
	}
	s.Observe(histories.Event{F: histories.FFaultStop, Fault: &histories.Fault{ID: 4, Kind: histories.FaultKill}})
	if s.Quiet("c1", 0) || !s.Quiet("c1", time.Minute) {
		t.Error("c1 ran again: quiet only within the quiet time after")
	}
	var none *Stops
	if none.Quiet("c1", time.Minute) {
		t.Error("no tracker: never quiet")
	}
}
