package consul

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/histories"
)

// DB is the driver of a Consul server cluster, built from
// github.com/hashicorp/consul. It has read modes, campaigner options and
// membership changes (a wiped server replaced by a new one).
type DB struct{}

// The capabilities Consul has.
var (
	_ db.DB                = DB{}
	_ db.ReadModes         = DB{}
	_ db.CampaignerOptions = DB{}
)

const (
	consulHTTPPort = 8500
	consulRaftPort = 8300
	// LockDelay is the lock-delay of every session the recipes
	// create: after a session is invalidated, its lock cannot be taken
	// for this long (Consul's default, 15s, would hide most failovers of
	// a short run; 0 would remove Consul's own guard against a stale
	// holder).
	LockDelay = 5 * time.Second
)

func (DB) Name() string           { return "consul" }
func (DB) DefaultVersion() string { return "v1.20.6" }
func (DB) ServerPath() string     { return "/consul" }

// Defaults: Consul's minimum session TTL is 10s, and a session outlives
// its TTL by up to as much again (the servers wait 2×TTL), then the
// lock-delay holds the lock free: a failover takes 20-30s. Stops of the
// election leader last that long (LeaseExpiry); other faults come every
// 10s or so, and a run lasts long enough for several failovers.
func (DB) Defaults() db.Defaults {
	return db.Defaults{Recipe: "consul-lock", TTL: 10 * time.Second, MinTTL: 10 * time.Second, TimeLimit: 240 * time.Second,
		NemesisInterval: 10 * time.Second}
}

// LeaseExpiry is twice the TTL, the lock-delay and 5 s. Consul
// invalidates a session up to twice its TTL after its last renewal, then
// holds the lock for the lock-delay; api.Lock's waiters retry every 5 s.
func (DB) LeaseExpiry(ttl time.Duration) time.Duration {
	return 2*ttl + LockDelay + 5*time.Second
}

// LivenessBound is LeaseExpiry's wait with a TTL and 10 s more. A dead
// holder's session lasts up to 2×TTL after its last renewal, since a new
// raft leader restarts every session's timer.
func (DB) LivenessBound(ttl time.Duration) time.Duration {
	return 2*ttl + LockDelay + ttl + 10*time.Second
}

// Server builds Consul's own CLI from its module: a static binary.
func (d DB) Server(ctx context.Context, version, cacheDir string, log io.Writer) (db.ServerImage, error) {
	bin, err := consulBuild(version).Build(ctx, cacheDir, log)
	if err != nil {
		return db.ServerImage{}, err
	}
	return db.ServerImage{Binary: bin, PathInImage: d.ServerPath()}, nil
}

func consulAddr(m db.Member) string { return fmt.Sprintf("%s:%d", m.IP, consulHTTPPort) }

// MemberCommand starts a server that expects all to bootstrap, joins
// the others over gossip (TCP and UDP 8301) and serves HTTP on its own
// address. raft_multiplier 1 is the production timing HashiCorp
// recommends; DNS, the WAN pool and update checks are off.
func (DB) MemberCommand(m db.Member, all []db.Member, dataDir string) []string {
	args := []string{"/consul", "agent", "-server",
		"-node", m.Name,
		"-bootstrap-expect", strconv.Itoa(len(all)),
		"-bind", m.IP.String(),
		"-advertise", m.IP.String(),
		"-client", m.IP.String(),
		"-data-dir", dataDir,
		"-dns-port", "-1",
		"-serf-wan-port", "-1",
		"-log-level", "info",
		"-hcl", "performance { raft_multiplier = 1 }",
		"-hcl", "disable_update_check = true",
		"-hcl", "leave_on_terminate = false",
		"-hcl", "skip_leave_on_interrupt = true",
	}
	for _, o := range all {
		if o.Name != m.Name {
			args = append(args, "-retry-join", o.IP.String())
		}
	}
	return args
}

// ClientEndpoints are the servers' HTTP addresses (host:port).
func (DB) ClientEndpoints(all []db.Member) []string {
	var eps []string
	for _, m := range all {
		eps = append(eps, consulAddr(m))
	}
	return eps
}

// client is a client of one server's HTTP API with a request
// timeout longer than the blocking queries it makes.
func client(addr string, timeout time.Duration) (*api.Client, error) {
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = addr
	cfg.HttpClient = &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consul client of %s: %w", addr, err)
	}
	return c, nil
}

// WaitReady waits for a leader and a consistent read through every
// server.
func (c DB) WaitReady(ctx context.Context, all []db.Member) error {
	var last error
	for {
		last = nil
		for _, m := range all {
			cli, err := client(consulAddr(m), 2*time.Second)
			if err == nil {
				_, _, err = cli.KV().Get("eh/ready", (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx))
			}
			if err != nil {
				last = fmt.Errorf("%s: %w", m.Name, err)
				break
			}
		}
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("consul not serving consistent reads: %w", last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// NewProbe reads the server's own raft state and term from
// /v1/agent/self and the leader it knows from /v1/status/leader, both
// answered by that server without forwarding.
func (DB) NewProbe(m db.Member) (db.Probe, error) {
	cli, err := client(consulAddr(m), 2*time.Second)
	if err != nil {
		return nil, err
	}
	return &consulProbe{cli: cli, self: fmt.Sprintf("%s:%d", m.IP, consulRaftPort)}, nil
}

type consulProbe struct {
	cli  *api.Client
	self string // this server's raft address, its ID in raft
}

func (p *consulProbe) Probe(ctx context.Context) (histories.MemberStatus, error) {
	type result struct {
		v   map[string]map[string]any
		err error
	}
	// Agent().Self takes no context: bound it here.
	done := make(chan result, 1)
	go func() {
		v, err := p.cli.Agent().Self()
		done <- result{v, err}
	}()
	var self result
	select {
	case self = <-done:
	case <-ctx.Done():
		return histories.MemberStatus{}, fmt.Errorf("reading raft stats: %w", ctx.Err())
	}
	if self.err != nil {
		return histories.MemberStatus{}, fmt.Errorf("reading raft stats: %w", self.err)
	}
	raft, ok := self.v["Stats"]["raft"].(map[string]any)
	if !ok {
		return histories.MemberStatus{}, errors.New("no raft stats in /v1/agent/self (not a server?)")
	}
	state, _ := raft["state"].(string)
	termStr, _ := raft["term"].(string)
	term, err := strconv.ParseUint(termStr, 10, 64)
	if err != nil {
		return histories.MemberStatus{}, fmt.Errorf("raft term %q: %w", termStr, err)
	}
	st := histories.MemberStatus{ID: p.self, Term: term, IsLeader: state == "Leader"}
	if leader, err := p.cli.Status().LeaderWithQueryOptions((&api.QueryOptions{}).WithContext(ctx)); err == nil {
		st.Leader = leader
	}
	return st, nil
}

func (p *consulProbe) Close() error { return nil }

// NewRecord follows the keys under prefix with blocking queries against
// every server (stale reads, so a server cut off from the leader still
// reports what it applies); see consulRecord.
func (DB) NewRecord(all []db.Member, prefix string) (db.StoreRecord, error) {
	r := &consulRecord{prefix: strings.TrimPrefix(prefix, "/"), keys: map[string]*keyState{}, Progress: db.NewProgress()}
	for _, m := range all {
		cli, err := client(consulAddr(m), consulRecordWait+5*time.Second)
		if err != nil {
			return nil, err
		}
		r.servers = append(r.servers, cli)
	}
	return r, nil
}
