package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/election-harness/harness/cluster"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/workloads"
)

// Recipe names.
const (
	RecipeLeaderElection       = "k8s-leaderelection"
	RecipeLeaderElectionFenced = "k8s-leaderelection-fenced"
)

// Recipes are the recipes that elect through kube-apiserver nodes in
// front of a database that stores Kubernetes (db.KubeStore).
func Recipes() []workloads.RecipeInfo {
	open := func(fenced bool) func(workloads.CampaignerConfig) (workloads.Recipe, error) {
		return func(c workloads.CampaignerConfig) (workloads.Recipe, error) { return newLeaderElection(c, fenced) }
	}
	return []workloads.RecipeInfo{
		{Name: RecipeLeaderElection, Unsafe: true, APIServer: true, Open: open(false),
			Description: "client-go's LeaderElector on a LeaseLock through kube-apiserver; the leader acts while OnStartedLeading's context lives and writes a ConfigMap unconditionally, as a controller does (no fence: client-go says it trusts clocks)"},
		{Name: RecipeLeaderElectionFenced, APIServer: true, Open: open(true),
			Description: "the same LeaderElector; each write updates the Lease itself, only if it still names this holder at the resourceVersion read (the apiserver's optimistic concurrency as the fence)"},
	}
}

// Paths of the client's certificates in a campaigner node.
const (
	clientCertDir = "/kube-client"
)

// ClientFiles are the certificates a campaigner node needs to reach the
// apiservers as an admin.
func (c Certs) ClientFiles() []cluster.File {
	var files []cluster.File
	for _, name := range []string{CAFile, ClientCertFile, ClientKeyFile} {
		files = append(files, cluster.File{HostPath: c.Path(name), NodePath: clientCertDir + "/" + name, Mode: 0o644})
	}
	return files
}

// Timings scales client-go's defaults (15 s lease, 10 s renew deadline,
// 2 s retry) to a run's TTL: the lease lasts the TTL, the leader gives up
// renewing after two thirds of it, and candidates retry every eighth.
type Timings struct {
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

// TimingsFor is the elector's timings for sessions of ttl. A Lease holds
// whole seconds, so the lease lasts at least 1 s.
func TimingsFor(ttl time.Duration) Timings {
	lease := max(ttl.Truncate(time.Second), time.Second)
	return Timings{LeaseDuration: lease, RenewDeadline: lease * 2 / 3, RetryPeriod: lease / 8}
}

// leaderElection is client-go's leader election as a recipe: a new
// LeaderElector per campaign, holding the run's Lease as an identity of
// its own. The leader believes it leads while the context
// OnStartedLeading gave it lives, as a controller's work does.
type leaderElection struct {
	fenced  bool
	objects Objects
	timings Timings
	leases  coordinationclient.LeaseInterface
	maps    coreclient.ConfigMapInterface
	lost    chan histories.Token

	mu   sync.Mutex
	term *campaign // the latest campaign, nil before the first
}

// campaign is one LeaderElector's life.
type campaign struct {
	identity string
	stop     context.CancelFunc // ends the elector
	done     chan struct{}      // closed when the elector's Run returns
	// leading is OnStartedLeading's context; nil until then.
	leading context.Context
	tok     histories.Token
	// resigned: the campaigner stopped it; its end is no loss.
	resigned bool
	// writes are the leader's writes in flight: a resignation waits for
	// them before it gives the Lease up, as client-go asks of code that
	// releases on cancel.
	writes sync.WaitGroup
}

func newLeaderElection(c workloads.CampaignerConfig, fenced bool) (*leaderElection, error) {
	if len(c.Endpoints) == 0 {
		return nil, errors.New("no apiserver endpoint")
	}
	if len(c.ReadEndpoints) > 0 {
		return nil, errors.New("pinned readers: an apiserver reads through whichever member its storage client picks")
	}
	cfg := &rest.Config{Host: c.Endpoints[0], Timeout: 10 * time.Second, QPS: 1000, Burst: 1000,
		TLSClientConfig: rest.TLSClientConfig{ServerName: ServerName, CAFile: clientCertDir + "/" + CAFile,
			CertFile: clientCertDir + "/" + ClientCertFile, KeyFile: clientCertDir + "/" + ClientKeyFile}}
	co, err := coordinationclient.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("the coordination client: %w", err)
	}
	core, err := coreclient.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("the core client: %w", err)
	}
	return &leaderElection{fenced: fenced, objects: ObjectsOf(c.Prefix), timings: TimingsFor(c.TTL),
		leases: co.Leases(Namespace), maps: core.ConfigMaps(Namespace), lost: make(chan histories.Token, 16)}, nil
}

// newIdentity is a campaign's holder identity: its value and a nonce.
func newIdentity(value string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return value + identitySeparator + hex.EncodeToString(b)
}

// Campaign starts a LeaderElector and waits until it leads. The elector
// runs on after Campaign returns, renewing, until Resign or a failed
// renewal ends it.
func (l *leaderElection) Campaign(ctx context.Context, value string) (histories.Token, error) {
	l.stopCampaign(ctx, true)
	identity := newIdentity(value)
	held := &heldLease{identity: identity}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: l.objects.Lease(), Namespace: Namespace},
		Client:     observedLeases{inner: l.leasesGetter(), seen: held.observe},
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}
	started := make(chan context.Context, 1)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: lock, Name: l.objects.Lease(),
		LeaseDuration: l.timings.LeaseDuration, RenewDeadline: l.timings.RenewDeadline, RetryPeriod: l.timings.RetryPeriod,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) { started <- lctx },
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return histories.Token{}, fmt.Errorf("%w: the leader elector: %v", workloads.ErrDefinite, err)
	}
	ectx, stop := context.WithCancel(context.Background())
	c := &campaign{identity: identity, stop: stop, done: make(chan struct{})}
	go func() { defer close(c.done); le.Run(ectx) }()
	l.mu.Lock()
	l.term = c
	l.mu.Unlock()
	select {
	case lctx := <-started:
		transitions, ok := held.transitions()
		if !ok {
			// OnStartedLeading follows a write of the Lease naming this
			// identity: not having seen it is the harness's bug.
			l.stopCampaign(ctx, true)
			return histories.Token{}, errors.New("leading, but no write of the Lease naming this holder was seen")
		}
		tok := histories.Token{Key: l.objects.TermKey(identity), Seq: TermSeq(transitions)}
		l.mu.Lock()
		c.leading, c.tok = lctx, tok
		l.mu.Unlock()
		go l.watchLoss(c)
		return tok, nil
	case <-ctx.Done():
		l.stopCampaign(context.Background(), true)
		return histories.Token{}, ctx.Err()
	}
}

// leasesGetter adapts the namespaced Lease client to the LeasesGetter a
// LeaseLock takes.
func (l *leaderElection) leasesGetter() coordinationclient.LeasesGetter {
	return leasesIn{l.leases}
}

type leasesIn struct {
	leases coordinationclient.LeaseInterface
}

func (g leasesIn) Leases(string) coordinationclient.LeaseInterface { return g.leases }

// watchLoss reports the campaign's term lost when its leading context
// ends without a resignation: the elector failed to renew in time.
func (l *leaderElection) watchLoss(c *campaign) {
	<-c.leading.Done()
	l.mu.Lock()
	resigned := c.resigned
	l.mu.Unlock()
	if !resigned {
		select {
		case l.lost <- c.tok:
		default:
		}
	}
}

// stopCampaign ends the latest campaign's elector, if it runs, and waits
// for it; release gives the Lease up if it still names the campaign.
func (l *leaderElection) stopCampaign(ctx context.Context, release bool) {
	l.mu.Lock()
	c := l.term
	led := false
	if c != nil {
		c.resigned, led = true, c.leading != nil
	}
	l.mu.Unlock()
	if c == nil {
		return
	}
	c.stop()
	select {
	case <-c.done:
	case <-ctx.Done():
		return
	}
	if !led {
		return
	}
	written := make(chan struct{})
	go func() { c.writes.Wait(); close(written) }()
	select {
	case <-written:
	case <-ctx.Done():
		return
	}
	if release {
		_ = l.release(ctx, c.identity)
	}
}

// release gives the Lease up as client-go's ReleaseOnCancel does (no
// holder, a one-second lease), once the leader has stopped acting: only
// if the Lease still names identity.
func (l *leaderElection) release(ctx context.Context, identity string) error {
	lease, err := l.leases.Get(ctx, l.objects.Lease(), metav1.GetOptions{})
	if err != nil {
		return err
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != identity {
		return nil
	}
	now := metav1.NewMicroTime(time.Now())
	none, one := "", int32(1)
	lease.Spec.HolderIdentity, lease.Spec.LeaseDurationSeconds = &none, &one
	lease.Spec.RenewTime, lease.Spec.AcquireTime = &now, &now
	_, err = l.leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

// Resign stops the elector, so the leader stops acting, then releases the
// Lease.
func (l *leaderElection) Resign(ctx context.Context) error {
	l.stopCampaign(ctx, true)
	return ctx.Err()
}

// Leading is the controller's belief: OnStartedLeading's context lives.
func (l *leaderElection) Leading(context.Context) (histories.Token, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.term
	if c == nil || c.leading == nil || c.leading.Err() != nil {
		return histories.Token{}, false
	}
	return c.tok, true
}

// Write writes the register as the leader of tok: unfenced, a ConfigMap
// updated unconditionally; fenced, an annotation of the Lease, updated
// only at the resourceVersion at which the Lease named tok's holder.
// Like a controller's work, the write runs under the context leadership
// gave it: once the elector stops leading, a write not yet sent is not
// sent, and one in flight is cancelled (it may still land).
func (l *leaderElection) Write(ctx context.Context, tok histories.Token, key, value string) error {
	l.mu.Lock()
	c := l.term
	if c == nil || c.leading == nil || c.leading.Err() != nil || c.resigned || c.tok != tok {
		l.mu.Unlock()
		return fmt.Errorf("%w: leadership of %s has ended", workloads.ErrNotLeader, tok)
	}
	c.writes.Add(1)
	l.mu.Unlock()
	defer c.writes.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.leading, cancel)()
	if l.fenced {
		return l.writeFenced(ctx, tok, key, value)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: l.objects.ConfigMap(key), Namespace: Namespace},
		Data: map[string]string{registerDataKey: value}}
	_, err := l.maps.Update(ctx, cm, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		_, err = l.maps.Create(ctx, cm, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			_, err = l.maps.Update(ctx, cm, metav1.UpdateOptions{})
		}
	}
	return outcome(err)
}

// registerDataKey is the ConfigMap key that holds the register's value.
const registerDataKey = "value"

func (l *leaderElection) writeFenced(ctx context.Context, tok histories.Token, key, value string) error {
	lease, err := l.leases.Get(ctx, l.objects.Lease(), metav1.GetOptions{})
	if err != nil {
		return outcome(err)
	}
	if holder := holderOf(lease); l.objects.TermKey(holder) != tok.Key || TermSeq(transitionsOf(lease)) != tok.Seq {
		return fmt.Errorf("%w: the Lease names %q at transition %d", workloads.ErrNotLeader, holder, transitionsOf(lease))
	}
	if lease.Annotations == nil {
		lease.Annotations = map[string]string{}
	}
	lease.Annotations[l.objects.RegisterAnnotation(key)] = value
	_, err = l.leases.Update(ctx, lease, metav1.UpdateOptions{})
	return outcome(err)
}

// outcome classifies an apiserver error: a status that says the request
// was refused (a conflict, a missing object, an invalid one) is definite;
// anything else, a timeout above all, may have been stored.
func outcome(err error) error {
	switch {
	case err == nil:
		return nil
	case apierrors.IsConflict(err), apierrors.IsNotFound(err), apierrors.IsAlreadyExists(err),
		apierrors.IsInvalid(err), apierrors.IsBadRequest(err), apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return fmt.Errorf("%w: %v", workloads.ErrDefinite, err)
	}
	return err
}

// Read reads the register through the apiserver, which reads the store
// with a quorum read (a GET with no resourceVersion).
func (l *leaderElection) Read(ctx context.Context, key string) (string, error) {
	if l.fenced {
		lease, err := l.leases.Get(ctx, l.objects.Lease(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		return lease.Annotations[l.objects.RegisterAnnotation(key)], nil
	}
	cm, err := l.maps.Get(ctx, l.objects.ConfigMap(key), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return cm.Data[registerDataKey], nil
}

// LeaseTTL: a Lease is an object with a renew time, not a lease the store
// ends; its lifetime is what each candidate's clock makes of it.
func (l *leaderElection) LeaseTTL(context.Context) (histories.Token, time.Duration, error) {
	return histories.Token{}, 0, fmt.Errorf("%s: a Lease's lifetime is measured by each candidate's own clock; the store promises none: %w", workloads.ErrUnsupported, workloads.ErrDefinite)
}

// Observe follows the Lease through the apiserver's watch and reports
// each new holder.
func (l *leaderElection) Observe(ctx context.Context, report func(workloads.Reply)) {
	last := ""
	for ctx.Err() == nil {
		if err := l.observeOnce(ctx, &last, report); err != nil && ctx.Err() == nil {
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func (l *leaderElection) observeOnce(ctx context.Context, last *string, report func(workloads.Reply)) error {
	seen := func(lease *coordinationv1.Lease) {
		holder := holderOf(lease)
		at := fmt.Sprintf("%s@%d", holder, transitionsOf(lease))
		if holder == "" || at == *last {
			return
		}
		*last = at
		rev, _ := strconv.ParseInt(lease.ResourceVersion, 10, 64)
		report(workloads.Reply{Type: workloads.ReplyEvent, Event: workloads.EventObserved, Key: l.objects.TermKey(holder),
			Value: valueOf(holder), Revision: rev, CreateRevision: TermSeq(transitionsOf(lease))})
	}
	name := l.objects.Lease()
	rv := ""
	lease, err := l.leases.Get(ctx, name, metav1.GetOptions{})
	switch {
	case err == nil:
		seen(lease)
		rv = lease.ResourceVersion
	case !apierrors.IsNotFound(err):
		return err
	}
	w, err := l.leases.Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String(), ResourceVersion: rv})
	if err != nil {
		return err
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		if ev.Type != watch.Added && ev.Type != watch.Modified {
			continue
		}
		if lease, ok := ev.Object.(*coordinationv1.Lease); ok {
			seen(lease)
		}
	}
	return errors.New("the watch ended")
}

func (l *leaderElection) Lost() <-chan histories.Token { return l.lost }

func (l *leaderElection) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l.stopCampaign(ctx, false)
	return nil
}

func holderOf(lease *coordinationv1.Lease) string {
	if lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}

func transitionsOf(lease *coordinationv1.Lease) int32 {
	if lease.Spec.LeaseTransitions == nil {
		return 0
	}
	return *lease.Spec.LeaseTransitions
}

// heldLease remembers the Lease as the latest write of it by this
// campaign's elector left it, when it named the campaign's identity:
// the term's transitions count, which OnStartedLeading does not say.
type heldLease struct {
	identity string
	mu       sync.Mutex
	count    int32
	seen     bool
}

func (h *heldLease) observe(lease *coordinationv1.Lease) {
	if holderOf(lease) != h.identity {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.count, h.seen = transitionsOf(lease), true
}

func (h *heldLease) transitions() (int32, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.count, h.seen
}

// observedLeases is the LeaseLock's client with every Lease its creates,
// updates and reads return shown to seen first.
type observedLeases struct {
	inner coordinationclient.LeasesGetter
	seen  func(*coordinationv1.Lease)
}

func (o observedLeases) Leases(ns string) coordinationclient.LeaseInterface {
	return observedLeaseInterface{LeaseInterface: o.inner.Leases(ns), seen: o.seen}
}

type observedLeaseInterface struct {
	coordinationclient.LeaseInterface
	seen func(*coordinationv1.Lease)
}

func (o observedLeaseInterface) Create(ctx context.Context, lease *coordinationv1.Lease, opts metav1.CreateOptions) (*coordinationv1.Lease, error) {
	out, err := o.LeaseInterface.Create(ctx, lease, opts)
	if err == nil {
		o.seen(out)
	}
	return out, err
}

func (o observedLeaseInterface) Update(ctx context.Context, lease *coordinationv1.Lease, opts metav1.UpdateOptions) (*coordinationv1.Lease, error) {
	out, err := o.LeaseInterface.Update(ctx, lease, opts)
	if err == nil {
		o.seen(out)
	}
	return out, err
}

func (o observedLeaseInterface) Get(ctx context.Context, name string, opts metav1.GetOptions) (*coordinationv1.Lease, error) {
	out, err := o.LeaseInterface.Get(ctx, name, opts)
	if err == nil {
		o.seen(out)
	}
	return out, err
}
