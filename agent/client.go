package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// defaultTimeout bounds a control call whose context has no deadline.
const defaultTimeout = 5 * time.Second

// Client is the harness's handle to one agent's control API.
type Client struct {
	addr  string
	runID string
	http  *http.Client
}

// NewClient returns a client of the agent at addr ("host:port") of run
// runID: every request names the run (HeaderRun), and an agent of
// another run refuses it (409), so that a run never acts on another's
// node that took its address.
func NewClient(addr, runID string) *Client {
	return &Client{addr: addr, runID: runID, http: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
}

// Addr is the agent's control address.
func (c *Client) Addr() string { return c.addr }

// Status returns the agent's view of its node.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.call(ctx, http.MethodGet, PathStatus, nil, &st)
	return st, err
}

// Partition replaces the node's rules with drops of traffic to/from peers.
func (c *Client) Partition(ctx context.Context, req PartitionRequest) error {
	return c.call(ctx, http.MethodPost, PathPartition, req, nil)
}

// HealPartition removes the node's rules.
func (c *Client) HealPartition(ctx context.Context) error {
	return c.call(ctx, http.MethodDelete, PathPartition, nil, nil)
}

// Loss makes the node lose packets to peers (Percent 0 heals).
func (c *Client) Loss(ctx context.Context, req LossRequest) error {
	return c.call(ctx, http.MethodPost, PathLoss, req, nil)
}

// HealLoss removes the node's loss rules.
func (c *Client) HealLoss(ctx context.Context) error {
	return c.call(ctx, http.MethodDelete, PathLoss, nil, nil)
}

// Dial opens a TCP connection to addr from inside the node.
func (c *Client) Dial(ctx context.Context, addr string, timeout time.Duration) (DialReply, error) {
	var rep DialReply
	err := c.call(ctx, http.MethodPost, PathDial, DialRequest{Addr: addr, TimeoutMS: timeout.Milliseconds()}, &rep)
	return rep, err
}

// Delay holds the node's packets to peers (DelayMS 0 heals).
func (c *Client) Delay(ctx context.Context, req DelayRequest) error {
	return c.call(ctx, http.MethodPost, PathDelay, req, nil)
}

// HealDelay removes the node's delay.
func (c *Client) HealDelay(ctx context.Context) error {
	return c.call(ctx, http.MethodDelete, PathDelay, nil, nil)
}

// Clock skews the process's clocks.
func (c *Client) Clock(ctx context.Context, req ClockRequest) error {
	return c.call(ctx, http.MethodPost, PathClock, req, nil)
}

// HealClock gives the process true time again.
func (c *Client) HealClock(ctx context.Context) error {
	return c.call(ctx, http.MethodDelete, PathClock, nil, nil)
}

// Stall holds the fsyncs and fdatasyncs of the node's data directory
// (a node started with --stall-disk), until HealStall.
func (c *Client) Stall(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, PathStall, nil, nil)
}

// HealStall lets the held syncs through, and every later one.
func (c *Client) HealStall(ctx context.Context) error {
	return c.call(ctx, http.MethodDelete, PathStall, nil, nil)
}

// Pause stops the process (SIGSTOP).
func (c *Client) Pause(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, PathPause, nil, nil)
}

// Resume continues a paused process (SIGCONT).
func (c *Client) Resume(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, PathResume, nil, nil)
}

// Kill SIGKILLs the process; it stays down until Start or Heal. Wipe
// empties its data directory.
func (c *Client) Kill(ctx context.Context, wipe bool) error {
	return c.call(ctx, http.MethodPost, PathKill, KillRequest{Wipe: wipe}, nil)
}

// KillLosingUnsynced SIGKILLs the process and undoes the writes its data
// directory had not synced (a power loss); it stays down until Start or
// Heal. The node must have been started with --stall-disk.
func (c *Client) KillLosingUnsynced(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, PathKill, KillRequest{LoseUnsynced: true}, nil)
}

// Start starts the process if it is not running.
func (c *Client) Start(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, PathStart, nil, nil)
}

// StartWith starts the process with a new command line, kept for later
// restarts.
func (c *Client) StartWith(ctx context.Context, argv []string) error {
	return c.call(ctx, http.MethodPost, PathStart, StartRequest{Argv: argv}, nil)
}

// Heal removes every fault: rules, pause, a stopped process.
func (c *Client) Heal(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, PathHeal, nil, nil)
}

// DialStdio connects to the agent's stdio relay at addr ("host:port").
func (c *Client) DialStdio(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to the stdio relay at %s: %w", addr, err)
	}
	return conn, nil
}

func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encoding %s request: %w", path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.addr+path, rd)
	if err != nil {
		return fmt.Errorf("agent %s %s: %w", method, path, err)
	}
	if c.runID != "" {
		req.Header.Set(HeaderRun, c.runID)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("agent at %s: %s %s: %w", c.addr, method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("agent at %s: reading reply: %w", c.addr, err)
	}
	if resp.StatusCode/100 != 2 {
		var er ErrorReply
		if json.Unmarshal(b, &er) == nil && er.Error != "" {
			return fmt.Errorf("agent at %s: %s", c.addr, er.Error)
		}
		return fmt.Errorf("agent at %s: %s %s: %s", c.addr, method, path, resp.Status)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("agent at %s: decoding reply: %w", c.addr, err)
		}
	}
	return nil
}
