package workloads

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
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
	WriteInterval    time.Duration
	ReadInterval     time.Duration
	Seed             uint64
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
		Seed:          seed,
	}
}

// Client drives one campaigner: an election loop (process NAME) that
// campaigns, writes as leader, and resigns after a random hold; and a
// reader loop (process NAME:r) that reads the register throughout.
type Client struct {
	Name string
	Conn *Conn
	cfg  ClientConfig
	rng  *rand.Rand

	mu    sync.Mutex
	lostC chan histories.Token
	// noLeaseTTL: the campaigner said it does not answer lease-ttl.
	noLeaseTTL atomic.Bool
}

// NewClient returns a client for the campaigner behind conn.
func NewClient(name string, conn *Conn, cfg ClientConfig) *Client {
	return &Client{Name: name, Conn: conn, cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(len(name)))), lostC: make(chan histories.Token, 16)}
}

// ReaderProcess is the process name of a campaigner's reader loop.
func ReaderProcess(name string) string { return name + ":r" }

// Run drives the campaigner until ctx is done. It starts the observer,
// then runs the election and reader loops.
func (c *Client) Run(ctx context.Context) {
	go c.dispatchEvents(ctx)
	c.Conn.Invoke(ctx, c.Name, Command{Op: OpObserve, TimeoutMS: ms(c.cfg.OpTimeout)}, nil)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.electionLoop(ctx) }()
	go func() { defer wg.Done(); c.readLoop(ctx) }()
	wg.Wait()
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
			c.Conn.Invoke(ctx, c.Name, Command{Op: OpResign, TimeoutMS: ms(c.cfg.OpTimeout)}, &tok)
		}
		wait.For(ctx, c.jitter(500*time.Millisecond))
	}
}

// lead writes as leader of tok until the hold ends, the term is lost,
// or a fence rejects a write. It reports whether the term was lost.
func (c *Client) lead(ctx context.Context, tok histories.Token) (lost bool) {
	hold := c.cfg.HoldMin + c.jitter(c.cfg.HoldMax-c.cfg.HoldMin)
	deadline := time.Now().Add(hold)
	for n := 1; time.Now().Before(deadline); n++ {
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
			if r.Type == histories.Fail && (strings.HasPrefix(r.Error, ErrUnsupported) || strings.HasPrefix(r.Error, "unknown op")) {
				c.noLeaseTTL.Store(true)
			}
		}
		value := fmt.Sprintf("%s/%d/%d", c.Name, tok.Seq, n)
		done := c.Conn.Invoke(ctx, c.Name, Command{Op: OpWrite, Key: c.cfg.RegisterKey, Value: value, TimeoutMS: ms(c.cfg.OpTimeout)}, &tok)
		if done.Type == histories.Fail {
			return false // fenced out: step down
		}
		wait.For(ctx, c.cfg.WriteInterval)
	}
	return false
}

func (c *Client) readLoop(ctx context.Context) {
	for ctx.Err() == nil {
		c.Read(ctx, c.cfg.OpTimeout)
		wait.For(ctx, c.cfg.ReadInterval/2+c.jitter(c.cfg.ReadInterval))
	}
}

// Read reads the register once as the reader process.
func (c *Client) Read(ctx context.Context, timeout time.Duration) histories.Event {
	return c.Conn.Invoke(ctx, ReaderProcess(c.Name), Command{Op: OpRead, Key: c.cfg.RegisterKey, TimeoutMS: ms(timeout)}, nil)
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

func (c *Client) jitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Duration(c.rng.Int64N(int64(max)))
}

func ms(d time.Duration) int64 { return d.Milliseconds() }
