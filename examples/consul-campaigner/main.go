// Command consul-campaigner is an example of a team's own campaigner on
// Consul, run by the harness with --db consul --recipe exec:PATH. It
// elects a leader by a session-held lock key, as Consul's leader election
// guide does (a TTL session renewed in the background, KV acquire, the
// losers waiting on a blocking query), and speaks the campaigner protocol
// (docs/campaigner-protocol.md) on stdin and stdout: one JSON object a
// line. It depends on nothing of the harness; copy it and put your own
// election code where this calls the Consul API.
//
// Build it static (node images are FROM scratch):
//
//	CGO_ENABLED=0 go build -o campaigner ./examples/consul-campaigner
//
// Building with -ldflags "-X main.fencing=off" makes it deliberately
// broken: the leader writes without checking, in the same transaction,
// that its session still holds the lock, which the harness catches under
// pauses.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
)

// fencing is "on" unless the build says otherwise (see above).
var fencing = "on"

// command is a line from the harness.
type command struct {
	ID        int64  `json:"id"`
	Op        string `json:"op"`
	Key       string `json:"key,omitempty"`
	Value     string `json:"value,omitempty"`
	TimeoutMS int64  `json:"timeout_ms,omitempty"`
}

// token names the term a campaign won: the lock key, its modify index at
// acquisition (seq), the holding session and the lock index.
type token struct {
	Key     string `json:"key"`
	Seq     int64  `json:"seq"`
	Session string `json:"session,omitempty"`
	Index   int64  `json:"index,omitempty"`
}

// reply is a line to the harness: the answer to a command (same id;
// type ok, fail or info), or an event (type "event").
type reply struct {
	ID        int64  `json:"id,omitempty"`
	Type      string `json:"type"`
	Event     string `json:"event,omitempty"`
	Token     *token `json:"token,omitempty"`
	Key       string `json:"key,omitempty"`
	Value     string `json:"value,omitempty"`
	Rev       int64  `json:"rev,omitempty"`
	CreateRev int64  `json:"create_rev,omitempty"`
	Error     string `json:"error,omitempty"`
}

// campaigner holds the current term, if any.
type campaigner struct {
	cli   *api.Client
	key   string
	ttl   time.Duration
	out   *json.Encoder
	outMu sync.Mutex

	mu   sync.Mutex
	tok  *token
	stop chan struct{} // closed to stop renewing the term's session
}

func (c *campaigner) send(r reply) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	c.out.Encode(r)
}

func main() {
	name := flag.String("name", "", "campaigner name")
	endpoints := flag.String("endpoints", "", "Consul HTTP addresses, host:port, comma-separated")
	ttl := flag.Duration("ttl", 10*time.Second, "session TTL")
	prefix := flag.String("prefix", "", "the folder of the lock key")
	flag.Parse()
	cfg := api.DefaultConfig()
	cfg.Address = strings.Split(*endpoints, ",")[0]
	cli, err := api.NewClient(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c := &campaigner{cli: cli, key: strings.TrimSuffix(*prefix, "/") + "/leader", ttl: max(10*time.Second, *ttl), out: json.NewEncoder(os.Stdout)}
	c.send(reply{Type: "event", Event: "ready", Value: "example " + *name})
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<10), 1<<20)
	for in.Scan() {
		var cmd command
		if err := json.Unmarshal(in.Bytes(), &cmd); err != nil {
			c.send(reply{Type: "fail", Error: "malformed command: " + err.Error()})
			continue
		}
		go func() { c.send(c.do(cmd)) }()
	}
}

var errRefused = errors.New("refused")

// outcome: refused means the operation did not happen (fail); anything
// else may have (info).
func outcome(err error) string {
	if errors.Is(err, errRefused) {
		return "fail"
	}
	return "info"
}

// do runs one command. An error the store certainly refused is "fail";
// one whose outcome is unknown (a timeout) is "info".
func (c *campaigner) do(cmd command) reply {
	timeout := time.Duration(cmd.TimeoutMS) * time.Millisecond
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r := reply{ID: cmd.ID, Type: "ok"}
	switch cmd.Op {
	case "campaign":
		tok, err := c.campaign(ctx, cmd.Value)
		if err != nil {
			return reply{ID: cmd.ID, Type: outcome(err), Error: err.Error()}
		}
		r.Token = tok
	case "resign":
		if err := c.resign(ctx); err != nil {
			return reply{ID: cmd.ID, Type: "info", Error: err.Error()}
		}
	case "write":
		if _, err := c.act(ctx, cmd.Key, cmd.Value); err != nil {
			return reply{ID: cmd.ID, Type: outcome(err), Error: err.Error()}
		}
	case "act":
		tok, err := c.act(ctx, cmd.Key, cmd.Value)
		switch {
		case err == nil:
			r.Token = tok
		case errors.Is(err, errRefused):
			return reply{ID: cmd.ID, Type: "fail", Error: "not leader: " + err.Error()}
		default:
			return reply{ID: cmd.ID, Type: "info", Token: tok, Error: err.Error()}
		}
	case "read":
		pair, _, err := c.cli.KV().Get(cmd.Key, (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx))
		if err != nil {
			return reply{ID: cmd.ID, Type: "fail", Error: err.Error()}
		}
		if pair != nil {
			r.Value = string(pair.Value)
		}
	case "observe":
		go c.observe()
	default:
		return reply{ID: cmd.ID, Type: "fail", Error: "unknown op " + cmd.Op}
	}
	return r
}

// campaign returns the term held if the lock key, read back, says this
// session still holds it; else it takes a new session and waits for the
// lock.
func (c *campaigner) campaign(ctx context.Context, value string) (*token, error) {
	c.mu.Lock()
	tok := c.tok
	c.mu.Unlock()
	if tok != nil {
		pair, _, err := c.cli.KV().Get(c.key, (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx))
		if err != nil {
			return nil, err
		}
		if pair != nil && pair.Session == tok.Session && int64(pair.ModifyIndex) == tok.Seq {
			return tok, nil
		}
		c.end(tok, true)
	}
	// A lock-delay of 5 s (Consul's default is 15): after a holder's
	// session ends, nobody takes the lock for that long, the margin for a
	// holder that has not yet noticed.
	session, _, err := c.cli.Session().Create(&api.SessionEntry{TTL: c.ttl.String(), Behavior: api.SessionBehaviorRelease, LockDelay: 5 * time.Second}, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		return nil, err
	}
	if err := c.acquire(ctx, session, value); err != nil {
		c.cli.Session().Destroy(session, nil)
		return nil, err
	}
	pair, _, err := c.cli.KV().Get(c.key, (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx))
	if err != nil || pair == nil || pair.Session != session {
		c.cli.Session().Destroy(session, nil)
		return nil, fmt.Errorf("%w: the lock is not held after acquiring it", errRefused)
	}
	tok = &token{Key: c.key, Seq: int64(pair.ModifyIndex), Session: session, Index: int64(pair.LockIndex)}
	stop := make(chan struct{})
	c.mu.Lock()
	c.tok, c.stop = tok, stop
	c.mu.Unlock()
	go c.renew(tok, stop)
	return tok, nil
}

// acquire takes the lock for session, waiting on a blocking query while
// another session holds it.
func (c *campaigner) acquire(ctx context.Context, session, value string) error {
	kv := c.cli.KV()
	for {
		ok, _, err := kv.Acquire(&api.KVPair{Key: c.key, Value: []byte(value), Session: session}, (&api.WriteOptions{}).WithContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w: %v", errRefused, err)
			}
			return err
		}
		if ok {
			return nil
		}
		var index uint64
		for {
			pair, meta, err := kv.Get(c.key, (&api.QueryOptions{WaitIndex: index, WaitTime: 2 * time.Second}).WithContext(ctx))
			if ctx.Err() != nil {
				return fmt.Errorf("%w: %v", errRefused, ctx.Err())
			}
			if err != nil {
				return err
			}
			if pair == nil || pair.Session == "" {
				break
			}
			index = meta.LastIndex
		}
		// A free lock may still be in its lock-delay: retry gently.
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %v", errRefused, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// renew keeps the term's session alive until stop, and tells the harness
// the term is lost when Consul invalidates it.
func (c *campaigner) renew(tok *token, stop chan struct{}) {
	c.cli.Session().RenewPeriodic(c.ttl.String(), tok.Session, nil, stop)
	select {
	case <-stop:
		return // resigned or ended by a campaign
	default:
	}
	c.end(tok, true)
}

// end forgets term tok if it is still the current one, stops renewing
// it, and says lost if asked.
func (c *campaigner) end(tok *token, lost bool) {
	c.mu.Lock()
	current := c.tok == tok
	if current {
		close(c.stop)
		c.tok, c.stop = nil, nil
	}
	c.mu.Unlock()
	if current && lost {
		c.send(reply{Type: "event", Event: "lost", Token: tok})
	}
}

// resign releases the lock and destroys the term's session.
func (c *campaigner) resign(ctx context.Context) error {
	c.mu.Lock()
	tok := c.tok
	c.mu.Unlock()
	if tok == nil {
		return nil
	}
	c.end(tok, false)
	if _, _, err := c.cli.KV().Release(&api.KVPair{Key: c.key, Session: tok.Session}, (&api.WriteOptions{}).WithContext(ctx)); err != nil {
		return err
	}
	_, err := c.cli.Session().Destroy(tok.Session, (&api.WriteOptions{}).WithContext(ctx))
	return err
}

// act is the leader's work: check, work a little, write, fenced by the
// lock being held by the term's session in the same transaction. It
// returns the term it acted under.
func (c *campaigner) act(ctx context.Context, key, value string) (*token, error) {
	c.mu.Lock()
	tok := c.tok
	c.mu.Unlock()
	if tok == nil {
		return nil, fmt.Errorf("%w: not the leader", errRefused)
	}
	time.Sleep(100 * time.Millisecond) // the work
	kv := c.cli.KV()
	if fencing == "off" {
		_, err := kv.Put(&api.KVPair{Key: key, Value: []byte(value)}, (&api.WriteOptions{}).WithContext(ctx))
		return tok, err
	}
	ok, _, _, err := kv.Txn(api.KVTxnOps{
		{Verb: api.KVCheckSession, Key: c.key, Session: tok.Session},
		{Verb: api.KVSet, Key: key, Value: []byte(value)},
	}, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return tok, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: fenced out", errRefused)
	}
	return tok, nil
}

// observe reports every new holder of the lock, until the process ends.
func (c *campaigner) observe() {
	var index uint64
	last := ""
	for {
		pair, meta, err := c.cli.KV().Get(c.key, &api.QueryOptions{RequireConsistent: true, WaitIndex: index, WaitTime: 5 * time.Second})
		if err != nil {
			index = 0
			time.Sleep(200 * time.Millisecond)
			continue
		}
		index = meta.LastIndex
		if pair == nil || pair.Session == "" {
			continue
		}
		holder := fmt.Sprintf("%s/%d", pair.Session, pair.LockIndex)
		if holder == last {
			continue
		}
		last = holder
		c.send(reply{Type: "event", Event: "observed", Key: pair.Key, Value: string(pair.Value), Rev: int64(pair.ModifyIndex), CreateRev: int64(pair.ModifyIndex)})
	}
}
