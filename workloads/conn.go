package workloads

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/election-harness/harness/histories"
)

// replyGrace is how much longer than an operation's own timeout the
// harness waits for its reply before recording it as info.
const replyGrace = time.Second

// Conn is the harness's end of one campaigner's protocol stream. It
// records every invocation and completion on the harness's clock.
type Conn struct {
	name string
	rec  *histories.Recorder
	log  *slog.Logger

	wmu sync.Mutex
	w   io.Writer

	mu      sync.Mutex
	pending map[int64]chan Reply
	closed  bool

	// Events delivers asynchronous campaigner events (ready, lost,
	// observed) after they are recorded.
	Events chan Reply
}

// NewConn starts reading replies from rw.
func NewConn(name string, rw io.ReadWriter, rec *histories.Recorder, log *slog.Logger) *Conn {
	c := &Conn{name: name, rec: rec, log: log, w: rw, pending: map[int64]chan Reply{}, Events: make(chan Reply, 256)}
	go c.readLoop(rw)
	return c
}

func (c *Conn) readLoop(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var rep Reply
		if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
			c.log.Warn("malformed campaigner reply", "campaigner", c.name, "line", sc.Text(), "err", err)
			continue
		}
		if rep.Type == ReplyEvent {
			c.recordEvent(rep)
			select {
			case c.Events <- rep:
			default:
				c.log.Warn("campaigner event dropped: nobody listening", "campaigner", c.name, "event", rep.Event)
			}
			continue
		}
		c.mu.Lock()
		ch := c.pending[rep.ID]
		delete(c.pending, rep.ID)
		c.mu.Unlock()
		if ch == nil {
			c.log.Debug("late reply after timeout", "campaigner", c.name, "id", rep.ID, "type", rep.Type)
			continue
		}
		ch <- rep
	}
	c.mu.Lock()
	c.closed = true
	for id, ch := range c.pending {
		close(ch)
		delete(c.pending, id)
	}
	c.mu.Unlock()
	close(c.Events)
}

func (c *Conn) recordEvent(rep Reply) {
	switch rep.Event {
	case EventLost:
		c.rec.Record(histories.Event{Type: histories.Info, Process: c.name, F: histories.FLost, Token: rep.Token, Error: rep.Error})
	case EventObserved:
		if rep.Key == "" {
			// The history cannot hold an observation of no key.
			c.log.Warn("campaigner observed a leader without a key: not recorded", "campaigner", c.name, "value", rep.Value)
			return
		}
		c.rec.Record(histories.Event{Type: histories.Info, Process: c.name, F: histories.FObserved,
			Key: rep.Key, Value: rep.Value, Revision: rep.Revision, CreateRevision: rep.CreateRevision})
	case EventRenewed:
		if ttl, err := time.ParseDuration(rep.Value); err != nil || ttl <= 0 || rep.Session == "" || rep.Revision <= 0 {
			// The history holds only renewals it can place and measure.
			c.log.Warn("campaigner renewal without a lease, a revision or a TTL: not recorded", "campaigner", c.name, "session", rep.Session, "rev", rep.Revision, "value", rep.Value)
			return
		}
		c.rec.Record(histories.Event{Type: histories.Info, Process: c.name, F: histories.FRenewed,
			Session: rep.Session, Value: rep.Value, Revision: rep.Revision})
	}
}

// Invoke records the invocation of cmd by process, sends it, waits for
// the reply (or the timeout, or ctx), and records the completion. The
// returned event is the recorded completion. The invoke carries token,
// and the completion the reply's token if it has one, else token: an
// act, invoked with none, is recorded as a write whose term is the one
// the campaigner says it acted under.
func (c *Conn) Invoke(ctx context.Context, process string, cmd Command, token *histories.Token) histories.Event {
	f := historyF(cmd.Op)
	cmd.ID = c.rec.NextOp()
	inv := histories.Event{Type: histories.Invoke, Process: process, F: f, Op: cmd.ID, Key: cmd.Key, Value: cmd.Value, Token: token}
	done := func(t histories.Type, rep Reply, errText string) histories.Event {
		e := inv
		e.Type = t
		e.Error = errText
		if rep.Token != nil {
			e.Token = rep.Token
		}
		if (f == OpRead || f == OpClock || f == OpLeaseTTL) && t == histories.OK { // ops that return a value
			e.Value = rep.Value
		}
		return c.rec.Record(e)
	}

	ch := make(chan Reply, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.rec.Record(inv)
		return done(histories.Info, Reply{}, "campaigner connection closed")
	}
	c.pending[cmd.ID] = ch
	c.mu.Unlock()

	line, err := json.Marshal(cmd)
	if err != nil {
		panic(fmt.Sprintf("marshalling a command: %v", err)) // a Command always marshals
	}
	c.rec.Record(inv)
	c.wmu.Lock()
	_, err = c.w.Write(append(line, '\n'))
	c.wmu.Unlock()
	if err != nil {
		c.forget(cmd.ID)
		// A failed write may still have delivered part of the line.
		return done(histories.Info, Reply{}, fmt.Sprintf("sending command: %v", err))
	}

	timer := time.NewTimer(time.Duration(cmd.TimeoutMS)*time.Millisecond + replyGrace)
	defer timer.Stop()
	select {
	case rep, ok := <-ch:
		if !ok {
			return done(histories.Info, Reply{}, "campaigner connection closed")
		}
		switch rep.Type {
		case histories.OK, histories.Fail, histories.Info:
			if f == OpCampaign && rep.Type == histories.OK {
				if err := histories.ValidWonToken(rep.Token); err != nil {
					// It says it won, but not what: it may lead, unknown which term.
					return done(histories.Info, Reply{}, fmt.Sprintf("campaigner broke the protocol: %v", err))
				}
			}
			if cmd.Op == OpAct && rep.Type == histories.OK && rep.Token == nil {
				// It says it wrote, but not under which term: the write's
				// term is unknown, as a timed-out act's is.
				return done(histories.Info, rep, "campaigner broke the protocol: an ok act names no token (the term it acted under)")
			}
			return done(rep.Type, rep, rep.Error)
		default:
			return done(histories.Info, rep, fmt.Sprintf("reply of unknown type %q", rep.Type))
		}
	case <-timer.C:
		c.forget(cmd.ID)
		return done(histories.Info, Reply{}, "timed out")
	case <-ctx.Done():
		c.forget(cmd.ID)
		return done(histories.Info, Reply{}, "run ended")
	}
}

// historyF is the history function of a protocol op: an act is a
// register write, whoever asked for it; the others are their own.
func historyF(op string) string {
	if op == OpAct {
		return histories.FWrite
	}
	return op
}

func (c *Conn) forget(id int64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}
