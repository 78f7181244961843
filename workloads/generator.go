package workloads

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/wait"
)

// DefaultWork is how long a built-in leader works before each write.
const DefaultWork = 100 * time.Millisecond

// ClientConfig sets the pace of one campaigner's workload.
type ClientConfig struct {
	// RegisterKey is the key leaders write and everyone reads.
	RegisterKey     string
	CampaignTimeout time.Duration
	OpTimeout       time.Duration
	// HoldMin/HoldMax bound how long a leader holds before resigning.
	HoldMin, HoldMax time.Duration
	// HoldUntilLost is the share of terms, drawn by the seed, that are
	// never resigned: the leader writes until it loses its term (the
	// campaigner says lost, or a fence refuses its write) or the run
	// ends, as a production leader holds. 0 draws nothing, so runs
	// without it keep their workload.
	HoldUntilLost float64
	// Stops, if set, holds a leader's resign while a fault stops or
	// cuts it off, and for ResignQuiet after it runs again (2×TTL in a
	// run). A stopped leader is not told to resign, as a production
	// leader is not, so what it believes after its session was lost is
	// seen.
	Stops         *Stops
	ResignQuiet   time.Duration
	WriteInterval time.Duration
	ReadInterval  time.Duration
	// ActMin/ActMax bound the time between two acts asked of the
	// campaigner by its act loop (process NAME:a); ActMax 0 asks none.
	ActMin, ActMax time.Duration
	Seed           uint64
	// ReadThrough names the one member the campaigner's reads go
	// through (--readers pinned), "" when they go through every member
	// (the campaigner's own client). It names the reader process
	// (PinnedReaderProcess), so the history says which member answered.
	ReadThrough string
	// ReadTimeout bounds each read; 0 means OpTimeout. Pinned readers
	// wait longer than the longest fault, so a read sent to a paused
	// member is answered after it resumes, not abandoned.
	ReadTimeout time.Duration
}

// DefaultClientConfig is the pace used by `harness run`.
func DefaultClientConfig(registerKey string, seed uint64) ClientConfig {
	return ClientConfig{
		RegisterKey:     registerKey,
		CampaignTimeout: 20 * time.Second,
		OpTimeout:       2 * time.Second,
		HoldMin:         time.Second,
		HoldMax:         4 * time.Second,
		// A leader writes almost back to back, so most of its time is
		// spent between its leadership check and its write (DefaultWork):
		// a pause or partition of a leader most likely lands there.
		WriteInterval: 10 * time.Millisecond,
		ReadInterval:  250 * time.Millisecond,
		// Every campaigner is asked to act every 1 to 2 s, whatever the
		// harness believes of it: a campaigner that believes it leads
		// when the harness does not writes, and is seen.
		ActMin: time.Second,
		ActMax: 2 * time.Second,
		Seed:   seed,
	}
}

// Client drives one campaigner with three loops. The election loop (process
// NAME) campaigns, writes as leader, and resigns after a random hold. The
// reader loop (process NAME:r) reads the register throughout. The act loop
// (process NAME:a) asks it to act as leader every ActMin to ActMax,
// whatever the harness believes of it. Each loop waits for one operation's
// completion before it invokes the next, so every process is
// single-threaded in the history.
type Client struct {
	Name string
	Conn *Conn
	cfg  ClientConfig
	rng  *rand.Rand
	// actRng paces the act loop alone, so its schedule follows the seed
	// whatever the other loops draw.
	actRng *rand.Rand

	mu    sync.Mutex
	lostC chan histories.Token
	// stopReads ends the reader loop after the read it has open, and
	// readsDone says it ended: the final read is then the reader
	// process's only open operation (FinalRead).
	stopReads     chan struct{}
	stopReadsOnce sync.Once
	readsDone     chan struct{}
	// noLeaseTTL: the campaigner said it does not answer lease-ttl.
	noLeaseTTL atomic.Bool
	// writes numbers this client's register writes and acts: every
	// value written in a run is unique (the checker knows a store put
	// by its value).
	writes atomic.Int64
}

// NewClient returns a client for the campaigner behind conn.
func NewClient(name string, conn *Conn, cfg ClientConfig) *Client {
	return &Client{Name: name, Conn: conn, cfg: cfg,
		rng:       rand.New(rand.NewPCG(cfg.Seed, uint64(len(name)))),
		actRng:    rand.New(rand.NewPCG(cfg.Seed, uint64(len(name))+1<<32)),
		lostC:     make(chan histories.Token, 16),
		stopReads: make(chan struct{}), readsDone: make(chan struct{})}
}

// ReaderProcess is the process name of a campaigner's reader loop.
func ReaderProcess(name string) string { return name + ":r" }

// PinnedReaderProcess is the process name of a reader loop whose reads
// go through member alone: NAME:r@MEMBER. Every finding about a read
// names its process, so the report names the member that answered it.
func PinnedReaderProcess(name, member string) string { return ReaderProcess(name) + "@" + member }

// ReaderMember is the member campaigner i (0-based, in the order they
// are started) reads through with pinned readers: members in turn, so
// that with at least as many campaigners as members every member,
// paused or not, has a reader of its own.
func ReaderMember(i, members int) int { return i % members }

// readerProcess is the process name of c's reader loop.
func (c *Client) readerProcess() string {
	if c.cfg.ReadThrough != "" {
		return PinnedReaderProcess(c.Name, c.cfg.ReadThrough)
	}
	return ReaderProcess(c.Name)
}

// ActProcess is the process name of a campaigner's act loop.
func ActProcess(name string) string { return name + ":a" }

// Run drives the campaigner until ctx is done. It starts the observer,
// then runs the election, reader and act loops.
func (c *Client) Run(ctx context.Context) {
	go c.dispatchEvents(ctx)
	c.Conn.Invoke(ctx, c.Name, Command{Op: OpObserve, TimeoutMS: ms(c.cfg.OpTimeout)}, nil)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); c.electionLoop(ctx) }()
	go func() { defer wg.Done(); c.readLoop(ctx) }()
	go func() { defer wg.Done(); c.actLoop(ctx) }()
	wg.Wait()
}

// writeValue is the next value this client writes, NAME/TERM/N. TERM is the
// term's seq for a leader's write, and "a" for an act, whose term the
// campaigner names when it answers. N counts every write and act of the
// client. So no value is written twice in a run, even by a leader given the
// same term again.
func (c *Client) writeValue(term string) string {
	return fmt.Sprintf("%s/%s/%d", c.Name, term, c.writes.Add(1))
}

// dispatchEvents turns campaigner events into loop signals: a lost term,
// or a restarted campaigner process (which has forgotten any term).
func (c *Client) dispatchEvents(ctx context.Context) {
	ready := 0
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-c.Conn.Events:
			if !ok {
				return
			}
			switch ev.Event {
			case EventLost:
				if ev.Token != nil {
					c.lostC <- *ev.Token
				}
			case EventReady:
				ready++
				if ready > 1 {
					// The process restarted: its term, if any, is gone, and
					// it must be told to observe again.
					c.lostC <- histories.Token{}
					go c.Conn.Invoke(ctx, c.Name, Command{Op: OpObserve, TimeoutMS: ms(c.cfg.OpTimeout)}, nil)
				}
			}
		}
	}
}

func (c *Client) electionLoop(ctx context.Context) {
	for ctx.Err() == nil {
		c.drainLost()
		done := c.Conn.Invoke(ctx, c.Name, Command{Op: OpCampaign, Value: c.Name, TimeoutMS: ms(c.cfg.CampaignTimeout)}, nil)
		if done.Type != histories.OK || done.Token == nil {
			wait.For(ctx, 200*time.Millisecond+c.jitter(800*time.Millisecond))
			continue
		}
		tok := *done.Token
		if lost := c.lead(ctx, tok); !lost {
			// Fenced out, the leader still hears nothing that ends its
			// term while it is stopped or just ran again.
			for c.cfg.Stops.Quiet(c.Name, c.cfg.ResignQuiet) && wait.For(ctx, 100*time.Millisecond) {
			}
			c.Conn.Invoke(ctx, c.Name, Command{Op: OpResign, TimeoutMS: ms(c.cfg.OpTimeout)}, &tok)
		}
		wait.For(ctx, c.jitter(500*time.Millisecond))
	}
}

// lead writes as leader of tok until the hold ends, the term is lost,
// or a fence rejects a write. It reports whether the term was lost.
func (c *Client) lead(ctx context.Context, tok histories.Token) (lost bool) {
	hold := c.cfg.HoldMin + c.jitter(c.cfg.HoldMax-c.cfg.HoldMin)
	if c.holdsUntilLost() {
		hold = math.MaxInt64 / 2
	}
	deadline := time.Now().Add(hold)
	for n := 1; time.Now().Before(deadline) || c.cfg.Stops.Quiet(c.Name, c.cfg.ResignQuiet); n++ {
		select {
		case <-ctx.Done():
			return false
		case t := <-c.lostC:
			if t == (histories.Token{}) || t == tok {
				return true
			}
		default:
		}
		if n%3 == 1 && !c.noLeaseTTL.Load() {
			r := c.Conn.Invoke(ctx, c.Name, Command{Op: OpLeaseTTL, TimeoutMS: ms(c.cfg.OpTimeout)}, &tok)
			if r.Type == histories.Fail && Unsupported(r.Error) {
				c.noLeaseTTL.Store(true)
			}
		}
		value := c.writeValue(strconv.FormatInt(tok.Seq, 10))
		done := c.Conn.Invoke(ctx, c.Name, Command{Op: OpWrite, Key: c.cfg.RegisterKey, Value: value, TimeoutMS: ms(c.cfg.OpTimeout)}, &tok)
		if done.Type == histories.Fail {
			return false // fenced out: step down
		}
		wait.For(ctx, c.cfg.WriteInterval)
	}
	return false
}

// actLoop asks the campaigner to act every ActMin to ActMax (jittered
// by its own seeded rng) until ctx is done, or the campaigner says it
// does not act. The act is invoked with no token: the campaigner names
// the term it acted under in its answer.
func (c *Client) actLoop(ctx context.Context) {
	if c.cfg.ActMax <= 0 {
		return
	}
	for {
		if !wait.For(ctx, c.actPause()) {
			return
		}
		done := c.Conn.Invoke(ctx, ActProcess(c.Name), Command{Op: OpAct, Key: c.cfg.RegisterKey, Value: c.writeValue("a"), TimeoutMS: ms(c.cfg.OpTimeout)}, nil)
		if done.Type == histories.Fail && Unsupported(done.Error) {
			return // as with lease-ttl: not asked again
		}
	}
}

// actPause is the time before the act loop's next act.
func (c *Client) actPause() time.Duration {
	d := c.cfg.ActMin
	if span := c.cfg.ActMax - c.cfg.ActMin; span > 0 {
		c.mu.Lock()
		d += time.Duration(c.actRng.Int64N(int64(span)))
		c.mu.Unlock()
	}
	return d
}

func (c *Client) readLoop(ctx context.Context) {
	defer close(c.readsDone)
	// A stop waits for the open read's answer rather than abandoning
	// it: only the pause between reads is cut short.
	pace, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.stopReads:
			cancel()
		case <-pace.Done():
		}
	}()
	for pace.Err() == nil {
		c.Read(ctx, c.readTimeout())
		wait.For(pace, c.cfg.ReadInterval/2+c.jitter(c.cfg.ReadInterval))
	}
}

// FinalRead stops the reader loop, waits (up to timeout) for the read
// it has open to be answered, then reads once more as the reader
// process: a process never has two operations open.
func (c *Client) FinalRead(ctx context.Context, timeout time.Duration) histories.Event {
	c.stopReadsOnce.Do(func() { close(c.stopReads) })
	t := time.NewTimer(max(timeout, c.readTimeout()) + replyGrace)
	defer t.Stop()
	select {
	case <-c.readsDone:
	case <-t.C:
		// The loop never started, or its read outlived its own timeout:
		// read anyway; the reader allows it, and the run must end.
	case <-ctx.Done():
	}
	return c.Read(ctx, timeout)
}

// readTimeout bounds the reader loop's reads.
func (c *Client) readTimeout() time.Duration {
	if c.cfg.ReadTimeout > 0 {
		return c.cfg.ReadTimeout
	}
	return c.cfg.OpTimeout
}

// Read reads the register once as the reader process, waiting at least
// timeout (and at least the reader loop's own read timeout).
func (c *Client) Read(ctx context.Context, timeout time.Duration) histories.Event {
	timeout = max(timeout, c.cfg.ReadTimeout)
	return c.Conn.Invoke(ctx, c.readerProcess(), Command{Op: OpRead, Key: c.cfg.RegisterKey, TimeoutMS: ms(timeout)}, nil)
}

func (c *Client) drainLost() {
	for {
		select {
		case <-c.lostC:
		default:
			return
		}
	}
}

// holdsUntilLost draws whether the term begun now is never resigned.
func (c *Client) holdsUntilLost() bool {
	if c.cfg.HoldUntilLost <= 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rng.Float64() < c.cfg.HoldUntilLost
}

func (c *Client) jitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Duration(c.rng.Int64N(int64(max)))
}

func ms(d time.Duration) int64 { return d.Milliseconds() }
