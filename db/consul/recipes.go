package consul

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/workloads"
)

// Recipes are Consul's built-in recipes: two safe ones and two unsafe
// the harness must catch (a control, and api.Lock as its docs show it,
// Consul #18271).
func (DB) Recipes() []workloads.RecipeInfo {
	open := func(style consulStyle) func(workloads.CampaignerConfig) (workloads.Recipe, error) {
		return func(c workloads.CampaignerConfig) (workloads.Recipe, error) { return newConsulElection(c, style) }
	}
	return []workloads.RecipeInfo{
		{Name: "consul-lock", Open: open(consulLock),
			Description: "api.Lock on a TTL session, lost channel watched; writes fenced by a Txn with KVCheckSession on the lock key"},
		{Name: "consul-session", Open: open(consulSession),
			Description: "hand-written: TTL session renewed every TTL/2, KV acquire, losers poll, the key re-read before acting; writes fenced by KVCheckSession"},
		{Name: "consul-unfenced", Unsafe: true, Open: open(consulUnfenced),
			Description: "api.Lock as consul-lock; the leader writes with a plain KV put (unsafe control)"},
		{Name: "consul-lock-stock", Unsafe: true, Open: open(consulLockStock),
			Description: "api.Lock as its docs show it: api.DefaultConfig client (no HTTP timeout), the lock's own session (TTL from --ttl), the lost channel trusted, plain KV puts (Consul #18271: the lost channel closes minutes late when packets are dropped)"},
	}
}

// consulStyle is how a Consul recipe takes the lock, checks it and
// writes: the safe recipes and the unsafe control differ only here.
type consulStyle int

const (
	// consulLock: api.Lock on a session of ours, its lost channel
	// watched; writes fenced by a Txn with KVCheckSession on the lock.
	consulLock consulStyle = iota
	// consulUnfenced: consulLock's leadership, plain KV puts.
	consulUnfenced
	// consulSession: the hand-written recipe: a TTL session renewed
	// every TTL/2, KV acquire, losers poll the key, the leader re-reads
	// the key before acting; writes fenced like consulLock.
	consulSession
	// consulLockStock is api.Lock as its documentation shows users
	// writing it. It uses a client from api.DefaultConfig (pooled
	// transport, no request timeout), and the lock creates and renews
	// its own session. Leadership is trusted while the lost channel is
	// open, and writes are plain KV puts. A step-down ends leadership
	// when Unlock returns, as for a leader whose work stops on the lost
	// channel. The session's TTL is --ttl and its lock-delay the
	// harness's, set through SessionOpts as a user would. So the
	// nemesis's lease expiry holds for it as for the others.
	//
	// api.Lock ignores its renewal's failure, and its monitor's
	// blocking query has no deadline. So a holder whose packets are
	// dropped keeps believing it leads after its session ended (Consul
	// #18271). consulLock is the same lock made safe. It puts a 10 s
	// HTTP timeout on every request, which also ends the monitor's
	// blocking query, so a cut-off holder's lost channel closes within
	// seconds. It watches its own session's renewal, and fences writes
	// on the session.
	consulLockStock
)

// Read consistency modes (--consistency), Consul's three.
const (
	ConsistencyDefault    = "default"
	ConsistencyConsistent = "consistent"
	ConsistencyStale      = "stale"
)

// ReadModes are the --consistency values, the default first.
func (DB) ReadModes() []string {
	return []string{ConsistencyDefault, ConsistencyConsistent, ConsistencyStale}
}

// The campaigner options of Consul's recipes (workloads.CampaignerConfig.Options).
const (
	// OptionConsistency is the read mode of register reads.
	OptionConsistency = "consistency"
	// OptionLockDelay is the lock-delay of sessions (default LockDelay).
	OptionLockDelay = "lock-delay"
)

// CampaignerOptions pass the run's read mode and its own options
// (--option lock-delay=...) to the recipes.
func (DB) CampaignerOptions(s db.RunSettings) map[string]string {
	if s.ReadMode == "" && len(s.Options) == 0 {
		return nil
	}
	out := map[string]string{}
	for n, v := range s.Options {
		out[n] = v
	}
	if s.ReadMode != "" {
		out[OptionConsistency] = s.ReadMode
	}
	return out
}

// CheckOptions accepts a run's --option values the recipes take; the
// read mode has its own flag, which the checker reads too.
func (DB) CheckOptions(opts map[string]string) error {
	if _, ok := opts[OptionConsistency]; ok {
		return fmt.Errorf("campaigner option %s: give --consistency (the checker judges reads by it)", OptionConsistency)
	}
	_, _, err := options(opts)
	return err
}

// options reads the campaigner options of a recipe: the read mode
// (default "default") and the lock-delay (default LockDelay).
func options(opts map[string]string) (consistency string, lockDelay time.Duration, err error) {
	consistency, lockDelay = ConsistencyDefault, LockDelay
	for name, v := range opts {
		switch name {
		case OptionConsistency:
			if !slices.Contains(DB{}.ReadModes(), v) {
				return "", 0, fmt.Errorf("campaigner option %s=%q: want one of %s", name, v, strings.Join(DB{}.ReadModes(), ", "))
			}
			consistency = v
		case OptionLockDelay:
			if lockDelay, err = time.ParseDuration(v); err != nil {
				return "", 0, fmt.Errorf("campaigner option %s: %w", name, err)
			}
		default:
			return "", 0, fmt.Errorf("campaigner option %q: Consul recipes take %s and %s", name, OptionConsistency, OptionLockDelay)
		}
	}
	return consistency, lockDelay, nil
}

// consulRetry is how long a loser waits before trying a free lock again
// (it may be under lock-delay) and a failed request before the next.
const consulRetry = time.Second

// consulTerm is one held acquisition of the lock.
type consulTerm struct {
	token   histories.Token
	session string
	lock    *api.Lock     // consulLock, consulUnfenced and consulLockStock
	stop    chan struct{} // closed to stop renewing (and destroy the session)
	once    sync.Once
	// consulLockStock, whose lock owns its session: stop closed starts
	// lock.Unlock, whose error is unlockErr once unlockDone is closed;
	// lostCh is the lock's lost channel.
	unlockDone chan struct{}
	unlockErr  error
	lostCh     <-chan struct{}
}

// stopping says whether the term was asked to end.
func (t *consulTerm) stopping() bool {
	select {
	case <-t.stop:
		return true
	default:
		return false
	}
}

func (t *consulTerm) end() { t.once.Do(func() { close(t.stop) }) }

// consulElection elects through one lock key with a Consul session. It
// talks to one server at a time, as a client of a local agent would,
// and moves to the next server when a request fails.
type consulElection struct {
	clients     []*api.Client
	current     atomic.Int64
	key         string
	ttl         time.Duration
	lockDelay   time.Duration
	consistency string
	style       consulStyle
	lost        chan histories.Token
	campaigning chan struct{}

	mu   sync.Mutex
	term *consulTerm
}

func newConsulElection(cfg workloads.CampaignerConfig, style consulStyle) (*consulElection, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("no Consul endpoints")
	}
	if len(cfg.ReadEndpoints) > 0 {
		// The harness refuses --readers pinned for Consul before a run;
		// a campaigner started by hand with it is refused here.
		return nil, errors.New("pinned reads (--read-endpoints): Consul's recipes read through their own failover client and do not pin reads")
	}
	consistency, lockDelay, err := options(cfg.Options)
	if err != nil {
		return nil, err
	}
	e := &consulElection{key: cfg.Prefix + "/leader", ttl: cfg.TTL, lockDelay: lockDelay, consistency: consistency, style: style,
		lost: make(chan histories.Token, 16), campaigning: make(chan struct{}, 1)}
	if e.ttl < 10*time.Second {
		e.ttl = 10 * time.Second // Consul's minimum
	}
	for _, ep := range cfg.Endpoints {
		cli, err := client(ep, 10*time.Second)
		if style == consulLockStock {
			cli, err = stockClient(ep)
		}
		if err != nil {
			return nil, err
		}
		e.clients = append(e.clients, cli)
	}
	// Spread campaigners over the servers.
	var h int64
	for _, b := range []byte(cfg.Name) {
		h = h*31 + int64(b)
	}
	e.current.Store(h)
	return e, nil
}

func (e *consulElection) client() *api.Client {
	n := int64(len(e.clients))
	return e.clients[((e.current.Load()%n)+n)%n]
}

// failed moves to the next server after a request failed.
func (e *consulElection) failed() { e.current.Add(1) }

func (e *consulElection) held() *consulTerm {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.term
}

// Campaign is idempotent: a campaigner that already holds the lock gets
// its term back once a consistent read confirms it.
func (e *consulElection) Campaign(ctx context.Context, value string) (histories.Token, error) {
	select {
	case e.campaigning <- struct{}{}:
		defer func() { <-e.campaigning }()
	case <-ctx.Done():
		return histories.Token{}, fmt.Errorf("waiting for the previous campaign: %v: %w", ctx.Err(), workloads.ErrDefinite)
	}
	if t := e.held(); t != nil && t.unlockDone != nil && t.stopping() {
		// A step-down whose Unlock has not returned: the lock may still
		// be ours and its lost channel is open. api.Lock would block a
		// new Lock call on it too.
		select {
		case <-t.unlockDone:
		case <-t.lostCh:
		case <-ctx.Done():
			return histories.Token{}, fmt.Errorf("the last term's unlock has not returned: %v: %w", ctx.Err(), workloads.ErrDefinite)
		}
		e.mu.Lock()
		if e.term == t {
			e.term = nil
		}
		e.mu.Unlock()
	}
	if t := e.held(); t != nil {
		tok, err := e.confirm(ctx, t.session)
		if errors.Is(err, workloads.ErrDefinite) {
			// The lock is gone though the session lives: the term is over.
			e.mu.Lock()
			if e.term == t {
				e.term = nil
			}
			e.mu.Unlock()
			t.end()
		}
		return tok, err
	}
	cli := e.client()
	if e.style == consulLockStock {
		return e.campaignStock(ctx, cli, value)
	}
	session, _, err := cli.Session().Create(&api.SessionEntry{
		Name: "election-harness", TTL: e.ttl.String(), LockDelay: e.lockDelay, Behavior: api.SessionBehaviorRelease,
	}, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		e.failed()
		return histories.Token{}, fmt.Errorf("creating session: %w", err)
	}
	t := &consulTerm{session: session, stop: make(chan struct{})}
	renewed := make(chan error, 1)
	go func() { renewed <- cli.Session().RenewPeriodic(e.ttl.String(), session, nil, t.stop) }()

	var lostCh <-chan struct{}
	if e.style == consulSession {
		err = e.acquire(ctx, cli, session, value)
	} else {
		lostCh, err = e.lockAPI(ctx, cli, t, value)
	}
	if err != nil {
		t.end() // destroys the session, releasing the lock if it was taken after all
		return histories.Token{}, err
	}
	tok, err := e.confirm(ctx, session)
	if err != nil {
		t.end()
		return histories.Token{}, err
	}
	t.token = tok
	e.mu.Lock()
	e.term = t
	e.mu.Unlock()
	go e.watch(t, renewed, lostCh)
	return tok, nil
}

// lockAPI takes the lock with api.Lock on our session.
func (e *consulElection) lockAPI(ctx context.Context, cli *api.Client, t *consulTerm, value string) (<-chan struct{}, error) {
	lock, err := cli.LockOpts(&api.LockOptions{Key: e.key, Value: []byte(value), Session: t.session, LockWaitTime: 2 * time.Second})
	if err != nil {
		return nil, err
	}
	lostCh, err := e.lockWith(ctx, lock)
	if err != nil {
		return nil, err
	}
	t.lock = lock
	return lostCh, nil
}

// stockClient is the client api.Lock's documentation starts from:
// api.DefaultConfig (a pooled transport, no request timeout) aimed at
// one server, as CONSUL_HTTP_ADDR would aim it at a local agent.
func stockClient(addr string) (*api.Client, error) {
	cfg := api.DefaultConfig()
	cfg.Address = addr
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consul client of %s: %w", addr, err)
	}
	return c, nil
}

// campaignStock takes the lock as api.Lock's documentation shows: the
// lock creates its session and renews it (ignoring failures), and its
// lost channel is the only word of a loss. The key is then read back
// once, only to learn the term's token for the history: api.Lock
// keeps its session to itself.
func (e *consulElection) campaignStock(ctx context.Context, cli *api.Client, value string) (histories.Token, error) {
	lock, err := cli.LockOpts(&api.LockOptions{
		Key: e.key, Value: []byte(value),
		SessionOpts: &api.SessionEntry{Name: api.DefaultLockSessionName, TTL: e.ttl.String(), LockDelay: e.lockDelay},
		// Bounds each wait of a loser's Lock call, so that a campaign
		// ends near its timeout; a holder's monitor is not affected.
		LockWaitTime: 2 * time.Second,
	})
	if err != nil {
		return histories.Token{}, fmt.Errorf("lock options: %w", err)
	}
	t := &consulTerm{lock: lock, stop: make(chan struct{}), unlockDone: make(chan struct{})}
	lostCh, err := e.lockWith(ctx, lock)
	if err != nil {
		return histories.Token{}, err
	}
	t.lostCh = lostCh
	// From here the lock is held: ending the term unlocks it (which
	// destroys its session). Unlock has no deadline of ours, so it runs
	// apart and Resign waits for it only as long as its context allows;
	// the campaigner leads until it returns or the lost channel closes,
	// as a leader whose work stops on the lost channel does.
	go func() {
		<-t.stop
		t.unlockErr = lock.Unlock()
		e.mu.Lock()
		if e.term == t {
			e.term = nil
		}
		e.mu.Unlock()
		close(t.unlockDone)
	}()
	// Lock returned holding the key with value (no older Lock of ours
	// retries), so a read that finds value on a held key finds our
	// session.
	pair, _, err := cli.KV().Get(e.key, (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx))
	if err != nil {
		e.failed()
		t.end()
		return histories.Token{}, fmt.Errorf("reading the lock's session: %w", err)
	}
	if pair == nil || pair.Session == "" || string(pair.Value) != value {
		t.end()
		return histories.Token{}, fmt.Errorf("lock %s no longer held by this campaigner: %w", e.key, workloads.ErrDefinite)
	}
	t.session = pair.Session
	t.token = histories.Token{Key: e.key, Seq: int64(pair.ModifyIndex), Session: pair.Session, Index: int64(pair.LockIndex)}
	e.mu.Lock()
	e.term = t
	e.mu.Unlock()
	go e.watch(t, nil, lostCh)
	return t.token, nil
}

// lockWith calls lock.Lock, stopping it when ctx is done.
func (e *consulElection) lockWith(ctx context.Context, lock *api.Lock) (<-chan struct{}, error) {
	stop := make(chan struct{})
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			close(stop)
		case <-done:
		}
	}()
	lostCh, err := lock.Lock(stop)
	if err != nil {
		e.failed()
		return nil, fmt.Errorf("lock: %w", err)
	}
	if lostCh == nil {
		return nil, fmt.Errorf("lock: %v: %w", ctx.Err(), workloads.ErrDefinite)
	}
	return lostCh, nil
}

// acquire is the hand-written loop: try to acquire; if another session
// holds the key, poll until it is free; a free key that cannot be
// acquired is under lock-delay, so wait and try again.
func (e *consulElection) acquire(ctx context.Context, cli *api.Client, session, value string) error {
	kv := cli.KV()
	for {
		ok, _, err := kv.Acquire(&api.KVPair{Key: e.key, Value: []byte(value), Session: session}, (&api.WriteOptions{}).WithContext(ctx))
		if err != nil {
			e.failed()
			return fmt.Errorf("acquire: %w", err)
		}
		if ok {
			return nil
		}
		var index uint64
		for {
			pair, meta, err := kv.Get(e.key, (&api.QueryOptions{WaitIndex: index, WaitTime: 2 * time.Second}).WithContext(ctx))
			if ctx.Err() != nil {
				return fmt.Errorf("acquire: %v: %w", ctx.Err(), workloads.ErrDefinite)
			}
			if err != nil {
				e.failed()
				return fmt.Errorf("polling the lock: %w", err)
			}
			if pair == nil || pair.Session == "" {
				break
			}
			index = meta.LastIndex
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("acquire: %v: %w", ctx.Err(), workloads.ErrDefinite)
		case <-time.After(consulRetry / 4):
		}
	}
}

// confirm reads the lock key back, consistently: our session must hold
// it. The term's Seq is the key's ModifyIndex at acquisition (nothing
// modifies the key while one session holds it) and its Index the
// LockIndex.
func (e *consulElection) confirm(ctx context.Context, session string) (histories.Token, error) {
	pair, _, err := e.client().KV().Get(e.key, (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx))
	if err != nil {
		e.failed()
		return histories.Token{}, fmt.Errorf("confirming leadership: %w", err)
	}
	if pair == nil || pair.Session != session {
		return histories.Token{}, fmt.Errorf("lock %s is not held by session %s: %w", e.key, session, workloads.ErrDefinite)
	}
	return histories.Token{Key: e.key, Seq: int64(pair.ModifyIndex), Session: session, Index: int64(pair.LockIndex)}, nil
}

// watch reports the term lost when its session could not be renewed or
// api.Lock's lost channel closed, while it is still the current term.
func (e *consulElection) watch(t *consulTerm, renewed <-chan error, lostCh <-chan struct{}) {
	select {
	case <-renewed:
	case <-lostCh:
	case <-t.stop:
		return
	}
	e.mu.Lock()
	current := e.term == t
	if current {
		e.term = nil
	}
	e.mu.Unlock()
	t.end()
	if current {
		e.lost <- t.token
	}
}

func (e *consulElection) Resign(ctx context.Context) error {
	if t := e.held(); t != nil && t.unlockDone != nil {
		// consulLockStock: Unlock; the term lasts until it returns (or
		// the lost channel closes).
		t.end()
		select {
		case <-t.unlockDone:
			if err := t.unlockErr; err != nil && !errors.Is(err, api.ErrLockNotHeld) {
				e.failed()
				return fmt.Errorf("unlock: %w", err)
			}
			return nil
		case <-ctx.Done():
			return fmt.Errorf("unlock: %w", ctx.Err())
		}
	}
	e.mu.Lock()
	t := e.term
	e.term = nil
	e.mu.Unlock()
	if t == nil {
		return nil
	}
	defer t.end()
	var err error
	if t.lock != nil {
		err = t.lock.Unlock()
	} else {
		_, _, err = e.client().KV().Release(&api.KVPair{Key: e.key, Session: t.session}, (&api.WriteOptions{}).WithContext(ctx))
	}
	if err != nil {
		e.failed()
		return fmt.Errorf("release: %w", err)
	}
	return nil
}

// Leading: the lock recipes trust their lost channel; the hand-written
// recipe re-reads the key before acting, as its authors advise.
func (e *consulElection) Leading(ctx context.Context) (histories.Token, bool) {
	t := e.held()
	if t == nil {
		return histories.Token{}, false
	}
	if e.style == consulSession {
		tok, err := e.confirm(ctx, t.session)
		if err != nil || tok != t.token {
			return histories.Token{}, false
		}
	}
	return t.token, true
}

// Write: the unsafe recipes put; the others make the put conditional,
// in one transaction, on the lock key being held by tok's session.
func (e *consulElection) Write(ctx context.Context, tok histories.Token, key, value string) error {
	kv := e.client().KV()
	if e.style == consulUnfenced || e.style == consulLockStock {
		if _, err := kv.Put(&api.KVPair{Key: key, Value: []byte(value)}, (&api.WriteOptions{}).WithContext(ctx)); err != nil {
			e.failed()
			return fmt.Errorf("put: %w", err)
		}
		return nil
	}
	if tok.Session == "" {
		return workloads.ErrNotLeader
	}
	ok, resp, _, err := kv.Txn(api.KVTxnOps{
		{Verb: api.KVCheckSession, Key: e.key, Session: tok.Session},
		{Verb: api.KVSet, Key: key, Value: []byte(value)},
	}, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		e.failed()
		return fmt.Errorf("fenced put: %w", err)
	}
	if !ok {
		why := "rolled back"
		if resp != nil && len(resp.Errors) > 0 {
			why = resp.Errors[0].What
		}
		return fmt.Errorf("fence: lock %s not held by session %s (%s): %w", e.key, tok.Session, why, workloads.ErrDefinite)
	}
	return nil
}

// LeaseTTL: a Consul session is also invalidated when a health check of
// its node fails, whatever its TTL, so a renewal promises no lifetime.
func (e *consulElection) LeaseTTL(ctx context.Context) (histories.Token, time.Duration, error) {
	return histories.Token{}, 0, fmt.Errorf("%s: a Consul session tied to its node's health has no least lifetime: %w", workloads.ErrUnsupported, workloads.ErrDefinite)
}

// Read reads the register in the run's consistency mode.
func (e *consulElection) Read(ctx context.Context, key string) (string, error) {
	q := &api.QueryOptions{}
	switch e.consistency {
	case ConsistencyConsistent:
		q.RequireConsistent = true
	case ConsistencyStale:
		q.AllowStale = true
	}
	pair, _, err := e.client().KV().Get(key, q.WithContext(ctx))
	if err != nil {
		e.failed()
		return "", fmt.Errorf("get: %w", err)
	}
	if pair == nil {
		return "", nil
	}
	return string(pair.Value), nil
}

// Observe follows the lock key with consistent blocking queries and
// reports each new holder: Revision and CreateRevision are the key's
// ModifyIndex at acquisition, the term's Seq.
func (e *consulElection) Observe(ctx context.Context, report func(workloads.Reply)) {
	var index uint64
	var last histories.Token
	for ctx.Err() == nil {
		pair, meta, err := e.client().KV().Get(e.key, (&api.QueryOptions{RequireConsistent: true, WaitIndex: index, WaitTime: 5 * time.Second}).WithContext(ctx))
		if err != nil {
			e.failed()
			index = 0
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		index = meta.LastIndex
		if pair == nil || pair.Session == "" {
			continue
		}
		tok := histories.Token{Key: pair.Key, Session: pair.Session, Index: int64(pair.LockIndex)}
		if tok == last {
			continue
		}
		last = tok
		report(workloads.Reply{Type: workloads.ReplyEvent, Event: workloads.EventObserved, Key: pair.Key, Value: string(pair.Value),
			Revision: int64(pair.ModifyIndex), CreateRevision: int64(pair.ModifyIndex)})
	}
}

func (e *consulElection) Lost() <-chan histories.Token { return e.lost }

func (e *consulElection) Close() error {
	if t := e.held(); t != nil {
		t.end()
	}
	return nil
}
