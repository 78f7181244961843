package workloads

import (
	"testing"
	"time"

	"github.com/election-harness/harness/histories"
)

func TestElectionLeaderActing(t *testing.T) {
	won := func(p string, seq int64) histories.Event {
		return histories.Event{Type: histories.OK, Process: p, F: histories.FCampaign, Op: 1, Token: &histories.Token{Key: "k/" + p, Seq: seq}}
	}
	write := func(p string, typ histories.Type) histories.Event {
		return histories.Event{Type: typ, Process: p, F: histories.FWrite, Op: 2}
	}
	cases := []struct {
		name   string
		events []histories.Event
		want   string
	}{
		{"no leader", nil, ""},
		{"a leader between writes", []histories.Event{won("c1", 5)}, ""},
		{"a leader mid-write", []histories.Event{won("c1", 5), write("c1", histories.Invoke)}, "c1"},
		{"its write answered", []histories.Event{won("c1", 5), write("c1", histories.Invoke), write("c1", histories.OK)}, ""},
		{"its write timed out", []histories.Event{won("c1", 5), write("c1", histories.Invoke), write("c1", histories.Info)}, ""},
		{"a non-leader's write", []histories.Event{won("c1", 5), write("c2", histories.Invoke)}, ""},
		{"a leader that resigned", []histories.Event{won("c1", 5), write("c1", histories.Invoke),
			{Type: histories.Invoke, Process: "c1", F: histories.FResign, Op: 3}}, ""},
		{"the latest winner first", []histories.Event{won("c1", 5), write("c1", histories.Invoke), won("c2", 6), write("c2", histories.Invoke)}, "c2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := NewLive()
			for _, e := range c.events {
				l.Observe(e)
			}
			if got := l.ElectionLeaderActing(); got != c.want {
				t.Errorf("ElectionLeaderActing() = %q, want %q", got, c.want)
			}
		})
	}
}

// A leader acts only early in its write: once the write may be on the
// wire, stopping the leader shows nothing.
func TestElectionLeaderActingOnlyEarlyInTheWrite(t *testing.T) {
	l := NewLive()
	l.Observe(histories.Event{Type: histories.OK, Process: "c1", F: histories.FCampaign, Op: 1, Token: &histories.Token{Key: "k/c1", Seq: 5}})
	l.Observe(histories.Event{Type: histories.Invoke, Process: "c1", F: histories.FWrite, Op: 2})
	if got := l.ElectionLeaderActing(); got != "c1" {
		t.Fatalf("just invoked: %q, want c1", got)
	}
	time.Sleep(actingWindow + 10*time.Millisecond)
	if got := l.ElectionLeaderActing(); got != "" {
		t.Fatalf("%v into its write: %q, want none", actingWindow, got)
	}
	if actingWindow >= DefaultWork {
		t.Fatalf("actingWindow %v is not inside the built-in campaigners' work (%v)", actingWindow, DefaultWork)
	}
}
