// Command etcd-campaigner is an example of a team's own campaigner, run
// by the harness with --recipe exec:PATH. It elects a leader with etcd's
// concurrency.Election and speaks the campaigner protocol
// (docs/campaigner-protocol.md) on stdin and stdout: one JSON object a
// line. It depends on nothing of the harness; copy it and put your own
// election code where this calls concurrency.
//
// Build it static (node images are FROM scratch):
//
//	CGO_ENABLED=0 go build -o campaigner ./examples/etcd-campaigner
//
// Building with -ldflags "-X main.fencing=off" makes it deliberately
// broken. The leader writes without a fence, which the harness catches
// under pauses.
//
// Building with -ldflags "-X main.recreate=on" breaks it another way. A
// leader whose session ends "recovers" by creating a new session and
// putting its leader key back under it, and reports nothing. It goes on
// believing it leads and acting, its writes fenced by the re-created
// key, which exists but does not lead.
//
// Building with -ldflags "-X main.recreate=keep-term" is the same bug as
// teams write it. The key is put back, and the belief keeps the old term,
// which acts name. The fence compares the re-created key, and a campaign
// checks its key as the correct build does. So only what it does as
// leader shows the bug.
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

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"
)

// fencing is "on" and recreate "off" unless the build says otherwise
// (see above).
var (
	fencing  = "on"
	recreate = "off"
	// mutant breaks one rule of the protocol, for the campaigner check's
	// tests (-X main.mutant=NAME): cached-campaign answers a repeated
	// campaign with its cached term without reading its key back;
	// no-lost never says lost; bare-token names its leader key without
	// the election prefix; no-observe declines observe, an optional
	// command.
	mutant = "none"
)

// command is a line from the harness.
type command struct {
	ID        int64  `json:"id"`
	Op        string `json:"op"`
	Key       string `json:"key,omitempty"`
	Value     string `json:"value,omitempty"`
	TimeoutMS int64  `json:"timeout_ms,omitempty"`
}

// token names the term a campaign won: the leader key and its create
// revision.
type token struct {
	Key     string `json:"key"`
	Seq     int64  `json:"seq"`
	Session string `json:"session,omitempty"`
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
	cli    *clientv3.Client
	prefix string
	ttl    int
	out    *json.Encoder
	outMu  sync.Mutex

	mu   sync.Mutex
	sess *concurrency.Session
	elec *concurrency.Election
	tok  *token
	// fence is the create revision writes are fenced by, when not tok's
	// (recreate=keep-term: the re-created key's).
	fence int64
}

// recreating reports whether a lost session is "healed" by re-creating
// the leader key (the deliberately broken builds).
func recreating() bool { return recreate == "on" || recreate == "keep-term" }

func (c *campaigner) send(r reply) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	c.out.Encode(r)
}

func main() {
	name := flag.String("name", "", "campaigner name")
	endpoints := flag.String("endpoints", "", "etcd client URLs, comma-separated")
	ttl := flag.Duration("ttl", 3*time.Second, "session TTL")
	prefix := flag.String("prefix", "", "election prefix")
	flag.Parse()
	cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(*endpoints, ","), DialTimeout: 2 * time.Second,
		DialKeepAliveTime: 2 * time.Second, DialKeepAliveTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c := &campaigner{cli: cli, prefix: *prefix, ttl: max(1, int(*ttl/time.Second)), out: json.NewEncoder(os.Stdout)}
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
			return reply{ID: cmd.ID, Type: outcome(ctx, err), Error: err.Error()}
		}
		r.Token = tok
	case "resign":
		c.mu.Lock()
		sess, elec := c.sess, c.elec
		c.sess, c.elec, c.tok, c.fence = nil, nil, nil, 0
		c.mu.Unlock()
		if elec != nil {
			err := elec.Resign(ctx)
			sess.Close()
			if err != nil {
				return reply{ID: cmd.ID, Type: "info", Error: err.Error()}
			}
		}
	case "write":
		if _, err := c.act(timeout, cmd.Key, cmd.Value); err != nil {
			return reply{ID: cmd.ID, Type: outcome(ctx, err), Error: err.Error()}
		}
	case "act":
		// Asked whatever the harness believes: act if this campaigner
		// believes it leads, and say under which term.
		tok, err := c.act(timeout, cmd.Key, cmd.Value)
		switch {
		case err == nil:
			r.Token = tok
		case errors.Is(err, errRefused):
			return reply{ID: cmd.ID, Type: "fail", Error: "not leader: " + err.Error()}
		default:
			return reply{ID: cmd.ID, Type: "info", Token: tok, Error: err.Error()}
		}
	case "read":
		resp, err := c.cli.Get(ctx, cmd.Key)
		if err != nil {
			return reply{ID: cmd.ID, Type: "fail", Error: err.Error()}
		}
		if len(resp.Kvs) > 0 {
			r.Value = string(resp.Kvs[0].Value)
		}
	case "observe":
		if mutant == "no-observe" {
			return reply{ID: cmd.ID, Type: "fail", Error: "unknown op observe"}
		}
		go c.observe()
	default:
		return reply{ID: cmd.ID, Type: "fail", Error: "unknown op " + cmd.Op}
	}
	return r
}

var errRefused = errors.New("refused")

// outcome: refused means the operation did not happen (fail); anything
// else may have (info).
func outcome(ctx context.Context, err error) string {
	if errors.Is(err, errRefused) {
		return "fail"
	}
	return "info"
}

func (c *campaigner) campaign(ctx context.Context, value string) (*token, error) {
	c.mu.Lock()
	tok, held := c.tok, c.sess
	c.mu.Unlock()
	if tok != nil && (recreate == "on" || mutant == "cached-campaign") {
		return tok, nil
	}
	if tok != nil {
		// A term held across a pause may have ended while the process
		// slept, before its session noticed (its keepalive has not failed
		// yet): the key must still be there, as after Campaign.
		resp, err := c.cli.Get(ctx, tok.Key)
		if err != nil {
			return nil, err
		}
		if len(resp.Kvs) > 0 && resp.Kvs[0].CreateRevision == tok.Seq {
			return tok, nil
		}
		c.mu.Lock()
		if c.tok == tok {
			c.sess, c.elec, c.tok, c.fence = nil, nil, nil, 0
		}
		c.mu.Unlock()
		held.Close()
		c.lost(tok)
	}
	sess, err := concurrency.NewSession(c.cli, concurrency.WithTTL(c.ttl))
	if err != nil {
		return nil, err
	}
	elec := concurrency.NewElection(sess, c.prefix)
	if err := elec.Campaign(ctx, value); err != nil {
		sess.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %v", errRefused, err) // Campaign resigned when cancelled
		}
		return nil, err
	}
	// Campaign may return after the session expired (etcd #19597): the
	// key must still be there.
	resp, err := c.cli.Get(ctx, elec.Key())
	if err != nil || len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != elec.Rev() {
		sess.Close()
		return nil, fmt.Errorf("%w: leader key gone", errRefused)
	}
	tok = &token{Key: elec.Key(), Seq: elec.Rev(), Session: fmt.Sprintf("%x", sess.Lease())}
	if mutant == "bare-token" {
		tok.Key = strings.TrimPrefix(tok.Key, c.prefix)
	}
	c.mu.Lock()
	c.sess, c.elec, c.tok, c.fence = sess, elec, tok, 0
	c.mu.Unlock()
	go c.watch(sess, tok, value)
	return tok, nil
}

// lost tells the harness the term tok is lost.
func (c *campaigner) lost(tok *token) {
	if mutant != "no-lost" {
		c.send(reply{Type: "event", Event: "lost", Token: tok})
	}
}

// watch tells the harness the term is lost when its session ends while
// it is still the current term.
func (c *campaigner) watch(sess *concurrency.Session, tok *token, value string) {
	<-sess.Done()
	c.mu.Lock()
	current := c.tok == tok
	if current && !recreating() {
		c.sess, c.elec, c.tok, c.fence = nil, nil, nil, 0
	}
	c.mu.Unlock()
	if !current {
		return
	}
	if !recreating() {
		c.lost(tok)
		return
	}
	c.recreateKey(tok, value)
}

// recreateKey is the deliberate bug of -X main.recreate=on, as a leader
// that "heals itself" is written: the session is gone, so get a new one,
// put the leader key back under it, and carry on as leader. The harness
// hears nothing. The key exists again, so writes fenced by it pass; but
// it was created after the keys of every campaigner now waiting, so it
// does not lead: another campaigner does. And the belief is set when
// the recovery ends, whatever happened meanwhile (a resign).
func (c *campaigner) recreateKey(old *token, value string) {
	for {
		sess, err := concurrency.NewSession(c.cli, concurrency.WithTTL(c.ttl))
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := c.cli.Txn(ctx).Then(
			clientv3.OpPut(old.Key, value, clientv3.WithLease(sess.Lease())),
			clientv3.OpGet(old.Key)).Commit()
		cancel()
		if err != nil {
			sess.Close()
			time.Sleep(200 * time.Millisecond)
			continue
		}
		kvs := resp.Responses[1].GetResponseRange().Kvs
		if len(kvs) == 0 {
			sess.Close()
			continue
		}
		rev := kvs[0].CreateRevision
		tok := &token{Key: old.Key, Seq: rev, Session: fmt.Sprintf("%x", sess.Lease())}
		c.mu.Lock()
		c.sess, c.elec = sess, concurrency.ResumeElection(sess, c.prefix, old.Key, rev)
		if recreate == "keep-term" {
			// The belief keeps the term it won; only the fence moves.
			tok, c.fence = old, rev
		} else {
			c.tok = tok
		}
		c.mu.Unlock()
		fmt.Fprintf(os.Stderr, "session of %s@%d ended: re-created the leader key as %s@%d and carry on leading\n", old.Key, old.Seq, old.Key, rev)
		go c.watch(sess, tok, value)
		return
	}
}

// act is the leader's work: check, work a little, write, fenced by the
// term checked. The timeout is the store call's, as a request timeout
// would be: a leader that stalls while it works still writes when it
// wakes. It returns the term it acted under.
func (c *campaigner) act(timeout time.Duration, key, value string) (*token, error) {
	c.mu.Lock()
	tok, fence := c.tok, c.fence
	c.mu.Unlock()
	if tok == nil {
		return nil, fmt.Errorf("%w: not the leader", errRefused)
	}
	if fence == 0 {
		fence = tok.Seq
	}
	time.Sleep(100 * time.Millisecond) // the work
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if fencing == "off" {
		_, err := c.cli.Put(ctx, key, value)
		return tok, err
	}
	resp, err := c.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(tok.Key), "=", fence)).
		Then(clientv3.OpPut(key, value)).Commit()
	if err != nil {
		return tok, err
	}
	if !resp.Succeeded {
		return nil, fmt.Errorf("%w: fenced out", errRefused)
	}
	return tok, nil
}

// observe reports every leader it sees, until the process ends.
func (c *campaigner) observe() {
	for {
		sess, err := concurrency.NewSession(c.cli, concurrency.WithTTL(c.ttl))
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		for resp := range concurrency.NewElection(sess, c.prefix).Observe(context.Background()) {
			if len(resp.Kvs) > 0 {
				kv := resp.Kvs[0]
				c.send(reply{Type: "event", Event: "observed", Key: string(kv.Key), Value: string(kv.Value), Rev: kv.ModRevision, CreateRev: kv.CreateRevision})
			}
		}
		sess.Close()
		time.Sleep(200 * time.Millisecond)
	}
}
