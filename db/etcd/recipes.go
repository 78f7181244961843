package etcd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/workloads"
)

// Recipes are etcd's built-in recipes: the safe etcd-election and the
// known-unsafe controls the harness must catch.
func (DB) Recipes() []workloads.RecipeInfo {
	open := func(style etcdStyle) func(workloads.CampaignerConfig) (workloads.Recipe, error) {
		return func(c workloads.CampaignerConfig) (workloads.Recipe, error) { return newEtcdElection(c, style, false) }
	}
	return []workloads.RecipeInfo{
		{Name: "etcd-election", Open: open(fenced),
			Description: "concurrency.Election; writes fenced by Txn If(CreateRevision(key) == rev)"},
		{Name: "etcd-unfenced", Unsafe: true, Open: open(unfenced),
			Description: "concurrency.Election; the leader writes with a plain Put (unsafe control)"},
		{Name: "etcd-cached", Unsafe: true, Open: open(cached),
			Description: "concurrency.Election; leadership cached when won and never re-checked (ignores session loss), plain Put (unsafe control)"},
		{Name: "etcd-check-then-act", Unsafe: true, Open: open(checkThenAct),
			Description: "concurrency.Election; before each write, read who leads and act if it is me, plain Put (unsafe control)"},
		{Name: "etcd-trust-campaign", Unsafe: true, Open: open(trustCampaign),
			Description: "etcd-election without reading the key back after Campaign: a campaign that returns after its session expired (etcd #19597) is taken as won; writes fenced (unsafe control)"},
		{Name: "etcd-serializable-reads", Unsafe: true,
			Open:        func(c workloads.CampaignerConfig) (workloads.Recipe, error) { return newEtcdElection(c, fenced, true) },
			Description: "etcd-election whose register reads are serializable (answered from the member's own state) while the harness judges them as linearizable: a member cut off or paused answers stale (unsafe control of the read path; use --readers pinned)"},
	}
}

// etcdStyle is how a leader of an etcd recipe checks its leadership and
// writes: the safe recipe and the known-unsafe controls differ only here.
type etcdStyle int

const (
	// fenced: the session's belief, and writes fenced by
	// Txn If(CreateRevision(key) == rev).
	fenced etcdStyle = iota
	// unfenced: the session's belief, and a plain Put.
	unfenced
	// cached: leadership cached when won and never re-checked: a lost
	// session goes unnoticed until the leader resigns; a plain Put.
	cached
	// checkThenAct: before each write, read who leads (the oldest key)
	// and act if it names this campaigner's key; a plain Put.
	checkThenAct
	// trustCampaign: fenced writes, but Campaign's success is taken at
	// its word, never confirmed: etcd #19597, Campaign returning after
	// the session expired while it waited.
	trustCampaign
)

// etcdElection is the recipe of the seeds: concurrency.Election with a
// session (lease) of the configured TTL. Campaign waits for the deletion
// of every older key; what the leader does next is its style.
type etcdElection struct {
	cli *clientv3.Client
	// readCli reads the register: cli, or with pinned readers a client
	// whose only endpoint is the reader's member, so that a read sent
	// to a paused or cut-off member waits for it and never fails over.
	readCli *clientv3.Client
	// serializable: register reads are serializable (the
	// etcd-serializable-reads control), answered from the member's own
	// state without asking the leader.
	serializable bool
	ttl          int
	prefix       string
	style        etcdStyle
	// renewOnce: the sessions' leases are also renewed by KeepAliveOnce
	// (OptionRenew).
	renewOnce bool
	lost      chan histories.Token
	// renewals carries the keepalive answers of the campaign sessions'
	// leases (EventRenewed), for P8.
	renewals chan workloads.Reply
	// campaigning holds one token while a campaign runs.
	campaigning chan struct{}

	mu    sync.Mutex
	sess  *concurrency.Session
	elec  *concurrency.Election
	token *histories.Token
}

// The campaigner options of etcd's recipes (--option NAME=VALUE).
const (
	// OptionRenew is how the sessions' leases are renewed besides the
	// session's own keepalive stream. RenewKeepAlive (the default) adds
	// nothing. RenewOnce adds a KeepAliveOnce whenever the stream has not
	// answered for half the TTL, and reports each answer (EventRenewed).
	// The stream's client drops an answer that comes later than the
	// lease's TTL (client/v3/lease.go), but KeepAliveOnce waits for it. So
	// a renewal the server stalled past the lease's revocation (etcd
	// #20590) reaches the checker.
	OptionRenew    = "renew"
	RenewKeepAlive = "keepalive"
	RenewOnce      = "once"
)

// renewOnceTimeout bounds a KeepAliveOnce: gofail serializes the sleeps
// of one failpoint, so under failpoint:renew-past-revoke a renewal
// waits behind every other campaigner's (a stream and a KeepAliveOnce
// each, several seconds a sleep) before its own.
const renewOnceTimeout = 2 * time.Minute

// CampaignerOptions pass the run's --option values to the recipes.
func (DB) CampaignerOptions(s db.RunSettings) map[string]string { return s.Options }

// CheckOptions accepts the options etcd's recipes take.
func (DB) CheckOptions(opts map[string]string) error {
	_, err := renewMode(opts)
	return err
}

// renewMode reads the campaigner options: the renew mode is the only one.
func renewMode(opts map[string]string) (string, error) {
	mode := RenewKeepAlive
	for name, v := range opts {
		if name != OptionRenew {
			return "", fmt.Errorf("campaigner option %q: etcd recipes take %s", name, OptionRenew)
		}
		if v != RenewKeepAlive && v != RenewOnce {
			return "", fmt.Errorf("campaigner option %s=%q: want %s or %s", name, v, RenewKeepAlive, RenewOnce)
		}
		mode = v
	}
	return mode, nil
}

func newEtcdElection(cfg workloads.CampaignerConfig, style etcdStyle, serializable bool) (*etcdElection, error) {
	renew, err := renewMode(cfg.Options)
	if err != nil {
		return nil, err
	}
	cli, err := newRecipeClient(cfg.Endpoints)
	if err != nil {
		return nil, err
	}
	readCli := cli
	if len(cfg.ReadEndpoints) > 0 {
		if readCli, err = newRecipeClient(cfg.ReadEndpoints); err != nil {
			cli.Close()
			return nil, err
		}
	}
	ttl := int(cfg.TTL / time.Second)
	if ttl < 1 {
		ttl = 1
	}
	return &etcdElection{cli: cli, readCli: readCli, serializable: serializable, ttl: ttl, prefix: cfg.Prefix, style: style,
		renewOnce: renew == RenewOnce, lost: make(chan histories.Token, 16), renewals: make(chan workloads.Reply, 64), campaigning: make(chan struct{}, 1)}, nil
}

// newRecipeClient is a campaigner's client of endpoints. With one
// endpoint there is nothing to fail over to: the client retries that
// member until the request's own deadline.
func newRecipeClient(endpoints []string) (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 2 * time.Second,
		Logger:      zap.NewNop(),
		// Keepalive lets the client notice a dead member and move on.
		DialKeepAliveTime:    2 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to etcd %v: %w", endpoints, err)
	}
	return cli, nil
}

// Campaign is idempotent, as concurrency.Election's is: a campaigner
// that already leads (its last campaign's reply was lost or came too
// late for the harness) gets its current term back, confirmed. One
// campaign runs at a time; a second waits for the first.
func (e *etcdElection) Campaign(ctx context.Context, value string) (histories.Token, error) {
	select {
	case e.campaigning <- struct{}{}:
		defer func() { <-e.campaigning }()
	case <-ctx.Done():
		return histories.Token{}, fmt.Errorf("waiting for the previous campaign: %v: %w", ctx.Err(), workloads.ErrDefinite)
	}
	e.mu.Lock()
	sess, elec := e.sess, e.elec
	e.mu.Unlock()
	if elec != nil {
		return e.confirm(ctx, sess, elec)
	}

	sess, err := e.newSession()
	if err != nil {
		return histories.Token{}, fmt.Errorf("creating session: %w", err)
	}
	elec = concurrency.NewElection(sess, e.prefix)
	if err := elec.Campaign(ctx, value); err != nil {
		e.discard(sess)
		if ctx.Err() != nil {
			// Campaign resigned on cancel and the session is revoked.
			return histories.Token{}, fmt.Errorf("campaign: %v: %w", err, workloads.ErrDefinite)
		}
		return histories.Token{}, fmt.Errorf("campaign: %w", err)
	}
	tok := histories.Token{Key: elec.Key(), Seq: elec.Rev(), Session: strconv.FormatInt(int64(sess.Lease()), 16)}
	if e.style != trustCampaign {
		if tok, err = e.confirm(ctx, sess, elec); err != nil {
			e.discard(sess)
			return histories.Token{}, err
		}
	}
	e.mu.Lock()
	e.sess, e.elec, e.token = sess, elec, &tok
	e.mu.Unlock()
	go e.watchSession(sess, tok)
	return tok, nil
}

// newSession is concurrency.NewSession(WithTTL(ttl)) whose lease's
// keepalive answers are also reported (Renewals). The lease is granted here
// and handed to the session. A second KeepAlive on it shares the session's
// keepalive loop, since the client sends one request per lease however many
// listen, and answers every listener. So the lease is renewed exactly as it
// would be without the report. The report stops when the session ends, so
// it never keeps the lease alive on its own. renewWhenSilent
// (OptionRenew=once) stops too, but for the one renewal it may have under
// way.
func (e *etcdElection) newSession() (*concurrency.Session, error) {
	grant, err := e.cli.Grant(context.Background(), int64(e.ttl))
	if err != nil {
		return nil, err
	}
	kctx, stop := context.WithCancel(context.Background())
	answers, err := e.cli.KeepAlive(kctx, grant.ID)
	if err != nil {
		stop()
		return nil, err
	}
	sess, err := concurrency.NewSession(e.cli, concurrency.WithTTL(e.ttl), concurrency.WithLease(grant.ID), concurrency.WithContext(context.Background()))
	if err != nil {
		stop()
		return nil, err
	}
	go func() {
		<-sess.Done()
		stop()
	}()
	var last atomic.Int64 // when the last keepalive answer came
	last.Store(time.Now().UnixNano())
	go func() {
		for a := range answers {
			last.Store(time.Now().UnixNano())
			e.reportRenewal(grant.ID, a.TTL, a.Revision)
		}
	}()
	if e.renewOnce {
		go e.renewWhenSilent(sess, grant.ID, &last)
	}
	return sess, nil
}

// reportRenewal reports a keepalive answer. The header's revision was
// filled before the renewal (etcd's keepalive handler says so): the
// checker's anchor.
func (e *etcdElection) reportRenewal(id clientv3.LeaseID, ttl, rev int64) {
	rep := workloads.Reply{Type: workloads.ReplyEvent, Event: workloads.EventRenewed, Session: strconv.FormatInt(int64(id), 16),
		Value: (time.Duration(ttl) * time.Second).String(), Revision: rev}
	select {
	case e.renewals <- rep:
	default: // a renewal not reported weakens P8, never misleads it
	}
}

// renewWhenSilent renews the session's lease with KeepAliveOnce when no
// keepalive answer has come for half the TTL (OptionRenew=once). It renews
// one at a time until the session ends, and reports each answer that
// renewed it. The stream answers every third of the TTL, so this renews
// only while renewals stall, and then late in the lease's life. P8 places a
// renewal no earlier than its header's revision. So only a renewal received
// late enough that the lease's expiry falls within its TTL can show an
// answer for a lease revoked meanwhile (#20590). A renewal under way when
// the session ends is still awaited and reported. ErrLeaseNotFound (the
// lease is gone) is no renewal.
func (e *etcdElection) renewWhenSilent(sess *concurrency.Session, id clientv3.LeaseID, last *atomic.Int64) {
	ttl := time.Duration(e.ttl) * time.Second
	tick := time.NewTicker(ttl / 12)
	defer tick.Stop()
	for {
		select {
		case <-sess.Done():
			return
		case <-tick.C:
		}
		if time.Since(time.Unix(0, last.Load())) < ttl/2 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), renewOnceTimeout)
		a, err := e.cli.KeepAliveOnce(ctx, id)
		cancel()
		switch {
		case errors.Is(err, rpctypes.ErrLeaseNotFound):
			return
		case err != nil:
			last.Store(time.Now().UnixNano()) // unanswered (a fault, the client closing): wait before the next
		case a.TTL > 0:
			last.Store(time.Now().UnixNano())
			e.reportRenewal(id, a.TTL, a.Revision)
		}
	}
}

// Renewals delivers the campaign sessions' keepalive answers.
func (e *etcdElection) Renewals() <-chan workloads.Reply { return e.renewals }

// confirm reads the leader key back: Campaign can return success after
// the session expired while it was waiting (etcd #19597), and a term
// held from an earlier campaign may have ended since.
func (e *etcdElection) confirm(ctx context.Context, sess *concurrency.Session, elec *concurrency.Election) (histories.Token, error) {
	tok := histories.Token{Key: elec.Key(), Seq: elec.Rev(), Session: strconv.FormatInt(int64(sess.Lease()), 16)}
	resp, err := e.cli.Get(ctx, elec.Key())
	if err != nil {
		return histories.Token{}, fmt.Errorf("confirming leadership: %w", err)
	}
	if len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != elec.Rev() {
		return histories.Token{}, fmt.Errorf("leader key %s@%d is gone (its session expired): %w", tok.Key, tok.Seq, workloads.ErrDefinite)
	}
	return tok, nil
}

// watchSession reports the term lost when its session ends while it is
// still the current term.
func (e *etcdElection) watchSession(sess *concurrency.Session, tok histories.Token) {
	<-sess.Done()
	if e.style == cached {
		return // the unsafe control never hears of it
	}
	e.mu.Lock()
	current := e.token != nil && *e.token == tok
	if current {
		e.sess, e.elec, e.token = nil, nil, nil
	}
	e.mu.Unlock()
	if current {
		e.lost <- tok
	}
}

// discard revokes a session in the background so that an abandoned key
// cannot block the election until its lease runs out.
func (e *etcdElection) discard(sess *concurrency.Session) {
	go func() {
		_ = sess.Close()
	}()
}

func (e *etcdElection) Resign(ctx context.Context) error {
	e.mu.Lock()
	sess, elec := e.sess, e.elec
	e.sess, e.elec, e.token = nil, nil, nil
	e.mu.Unlock()
	if elec == nil {
		return nil
	}
	err := elec.Resign(ctx)
	e.discard(sess)
	if err != nil {
		return fmt.Errorf("resign: %w", err)
	}
	return nil
}

func (e *etcdElection) Leading(ctx context.Context) (histories.Token, bool) {
	e.mu.Lock()
	tok, elec := e.token, e.elec
	e.mu.Unlock()
	if tok == nil {
		return histories.Token{}, false
	}
	if e.style == checkThenAct {
		resp, err := elec.Leader(ctx)
		if err != nil || len(resp.Kvs) == 0 || string(resp.Kvs[0].Key) != tok.Key || resp.Kvs[0].CreateRevision != tok.Seq {
			return histories.Token{}, false
		}
	}
	return *tok, true
}

// Write is a plain Put for the unfenced controls: it acts on the check
// made before the work, however long ago that was. The fenced recipes
// write only if tok's key, of its create revision, still exists.
func (e *etcdElection) Write(ctx context.Context, tok histories.Token, key, value string) error {
	if e.style != fenced && e.style != trustCampaign {
		if _, err := e.cli.Put(ctx, key, value); err != nil {
			return fmt.Errorf("put: %w", err)
		}
		return nil
	}
	if tok.Key == "" {
		return workloads.ErrNotLeader
	}
	resp, err := e.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(tok.Key), "=", tok.Seq)).
		Then(clientv3.OpPut(key, value)).
		Commit()
	if err != nil {
		return fmt.Errorf("fenced put: %w", err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("fence: key %s@%d no longer exists: %w", tok.Key, tok.Seq, workloads.ErrDefinite)
	}
	return nil
}

// LeaseTTL asks etcd how long the term's lease has left (TimeToLive, in
// whole seconds, rounded down): the lease lives at least that long
// after the question was asked. It does not renew: the session's own
// keepalives do, by the campaigner's clock, and the harness's asking
// must not keep alive a lease the campaigner would let lapse.
func (e *etcdElection) LeaseTTL(ctx context.Context) (histories.Token, time.Duration, error) {
	e.mu.Lock()
	tok, sess := e.token, e.sess
	e.mu.Unlock()
	if tok == nil {
		return histories.Token{}, 0, workloads.ErrNotLeader
	}
	resp, err := e.cli.TimeToLive(ctx, sess.Lease())
	if err != nil {
		if errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return histories.Token{}, 0, fmt.Errorf("lease time to live: %v: %w", err, workloads.ErrDefinite)
		}
		return histories.Token{}, 0, fmt.Errorf("lease time to live: %w", err)
	}
	if resp.TTL <= 0 {
		return histories.Token{}, 0, fmt.Errorf("lease %x has expired: %w", int64(sess.Lease()), workloads.ErrDefinite)
	}
	return *tok, time.Duration(resp.TTL) * time.Second, nil
}

func (e *etcdElection) Read(ctx context.Context, key string) (string, error) {
	var opts []clientv3.OpOption
	if e.serializable {
		opts = append(opts, clientv3.WithSerializable())
	}
	resp, err := e.readCli.Get(ctx, key, opts...)
	if err != nil {
		return "", fmt.Errorf("get: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}

func (e *etcdElection) Observe(ctx context.Context, report func(workloads.Reply)) {
	for ctx.Err() == nil {
		if err := e.observeOnce(ctx, report); err != nil && ctx.Err() == nil {
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// observeOnce follows the leader through one observer session; Observe
// closes its channel when its watch is disrupted, so the caller retries.
func (e *etcdElection) observeOnce(ctx context.Context, report func(workloads.Reply)) error {
	sess, err := concurrency.NewSession(e.cli, concurrency.WithTTL(e.ttl))
	if err != nil {
		return err
	}
	defer sess.Close()
	elec := concurrency.NewElection(sess, e.prefix)
	for resp := range elec.Observe(ctx) {
		if len(resp.Kvs) == 0 {
			continue
		}
		kv := resp.Kvs[0]
		report(workloads.Reply{Type: workloads.ReplyEvent, Event: workloads.EventObserved, Key: string(kv.Key), Value: string(kv.Value),
			Revision: kv.ModRevision, CreateRevision: kv.CreateRevision})
	}
	return errors.New("observe ended")
}

func (e *etcdElection) Lost() <-chan histories.Token { return e.lost }

func (e *etcdElection) Close() error {
	e.mu.Lock()
	sess := e.sess
	e.mu.Unlock()
	if sess != nil {
		_ = sess.Close()
	}
	if e.readCli != e.cli {
		_ = e.readCli.Close()
	}
	return e.cli.Close()
}
