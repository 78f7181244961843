package run

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/election-harness/harness/cluster"
	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/wait"
	"github.com/election-harness/harness/kube"
	"github.com/election-harness/harness/nemesis"
	"github.com/election-harness/harness/workloads"
)

// workload is the test proper, phase by phase, as the history names the
// phases: start (probes, the store's record, the campaigners), faults
// until the time limit, heal, quiet (the election recovers), final
// reads, end, record (the store's record read to its end).
type workload struct {
	r       *runner
	members []db.Member
	cl      cluster.Cluster
	exec    *nemesis.Executor
	// versions, in a run of several, says which each member runs.
	versions *memberVersions

	bg     sync.WaitGroup // probes, the store's record, the status line
	stopBg context.CancelFunc
	record db.StoreRecord
	// watches are the watchers pinned to each member (db.Watches); they
	// stop, synced, before the record is read to its end.
	watches     []db.MemberWatch
	watching    sync.WaitGroup
	stopWatches context.CancelFunc
	status      *statusLine
	clients     []*workloads.Client
	// stops says which campaigners a fault stops now (--hold-through-stops).
	stops *workloads.Stops
	conns []net.Conn
	// campaigners run until stopCampaigners, after the final reads.
	campaigners     sync.WaitGroup
	stopCampaigners context.CancelFunc
}

// phase records that the run entered phase p.
func (w *workload) phase(p string) {
	w.r.rec.Record(histories.Event{Type: histories.Info, Process: histories.ProcessHarness, F: histories.FPhase, Value: p})
}

// workload runs the phases in order; every exit path stops what the
// phases started.
func (r *runner) workload(ctx context.Context, members []db.Member, cl cluster.Cluster, exec *nemesis.Executor, versions *memberVersions) error {
	w := &workload{r: r, members: members, cl: cl, exec: exec, versions: versions}
	bgCtx, stopBg := context.WithCancel(ctx)
	w.stopBg = stopBg
	defer func() {
		stopBg()
		w.bg.Wait()
		w.watching.Wait()
		if w.stopCampaigners != nil {
			w.stopCampaigners()
		}
		w.campaigners.Wait()
		for _, c := range w.conns {
			c.Close()
		}
	}()
	if err := w.start(ctx, bgCtx); err != nil {
		return err
	}
	if r.script != nil {
		env := ScriptEnv{DB: r.db, Members: members, Config: r.cfg, Record: r.rec.Record}
		for _, c := range w.clients {
			env.Campaigners, env.Names = append(env.Campaigners, c.Conn), append(env.Names, c.Name)
		}
		r.scriptErr = r.script(ctx, env)
		w.runClients(ctx)
		wait.For(ctx, scriptTail)
	} else if err := w.faults(ctx); err != nil {
		return err
	}
	if err := w.heal(ctx); err != nil {
		return err
	}
	if err := w.quiet(ctx); err != nil {
		return err
	}
	w.finalReads(ctx)
	w.memberHashes(ctx)
	w.syncWatches(ctx)
	return w.readRecord(ctx)
}

// start opens the store's record (live, from the first revision), the
// probes of every member's raft view and the campaigners' connections,
// then starts the campaigners: phase start.
func (w *workload) start(ctx, bgCtx context.Context) error {
	r := w.r
	record, err := w.newRecord()
	if err != nil {
		return fmt.Errorf("opening the store record: %w", err)
	}
	w.record = record
	if m, ok := r.db.(db.Maintenance); ok {
		if p, ok := record.(interface{ Seen() int64 }); ok {
			w.exec.Maintenance = Maintenance{DB: m, Members: w.members, Recorded: p.Seen}
		}
	}
	r.rec.Record(histories.Event{Type: histories.Info, Process: histories.ProcessStore, F: histories.FStoreRecord, Value: record.Kind()})
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		if err := record.Run(bgCtx, func(e histories.Event) { r.rec.Record(e) }); err != nil && bgCtx.Err() == nil {
			r.log.Warn("store record stopped", "err", err)
		}
	}()

	if err := w.startWatches(bgCtx); err != nil {
		return err
	}

	probes := map[string]db.Probe{}
	for _, m := range w.members {
		p, err := r.db.NewProbe(m)
		if err != nil {
			return fmt.Errorf("probing %s: %w", m.Name, err)
		}
		probes[m.Name] = p
	}
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		defer func() {
			for _, p := range probes {
				p.Close()
			}
		}()
		workloads.RunProbes(bgCtx, r.rec, probes, probeInterval, probeDeadline)
	}()

	if err := w.probeAPIServers(bgCtx); err != nil {
		return err
	}

	w.stops = workloads.NewStops()
	r.rec.OnRecord(w.stops.Observe)
	readers, readTimeout := r.cfg.ReaderMembers(), r.cfg.PinnedReadTimeout()
	for i, n := range w.cl.Nodes() {
		if n.Role() != cluster.RoleCampaigner {
			continue
		}
		conn, err := n.DialStdio(ctx)
		if err != nil {
			return fmt.Errorf("connecting to campaigner %s: %w", n.Name(), err)
		}
		w.conns = append(w.conns, conn)
		wc := workloads.NewConn(n.Name(), conn, r.rec, r.log)
		ccfg := workloads.DefaultClientConfig(r.cfg.RegisterKey, uint64(r.cfg.Seed)*1000+uint64(i))
		// Pinned readers are campaigners' reader loops, not processes of
		// their own: the reads must go through the recipe under test (a
		// recipe's read path is what etcd-serializable-reads breaks), and
		// each campaigner already has a single-threaded reader process.
		ccfg.ReadThrough, ccfg.ReadTimeout = readers[n.Name()], readTimeout
		ccfg.HoldUntilLost = r.cfg.HoldUntilLost
		if r.cfg.HoldThroughStops {
			ccfg.Stops, ccfg.ResignQuiet = w.stops, 2*time.Duration(r.cfg.TTL)
		}
		w.clients = append(w.clients, workloads.NewClient(n.Name(), wc, ccfg))
	}

	w.status = newStatusLine(r.stderr, r.rec, r.live, time.Duration(r.cfg.TimeLimit))
	w.bg.Add(1)
	go func() { defer w.bg.Done(); w.status.run(bgCtx) }()

	if w.versions != nil {
		for _, m := range w.members {
			r.rec.Record(histories.Event{Type: histories.Info, Process: histories.ProcessHarness, F: histories.FMemberVersion,
				Member: &histories.MemberStatus{Name: m.Name}, Value: w.versions.Of(m.Name)})
		}
	}
	w.phase(histories.PhaseStart)
	if r.script != nil {
		return nil // the script drives the campaigners first
	}
	w.runClients(ctx)
	return nil
}

// runClients starts the campaigners' workload, until the final reads.
func (w *workload) runClients(ctx context.Context) {
	cctx, stop := context.WithCancel(ctx)
	w.stopCampaigners = stop
	for _, c := range w.clients {
		w.campaigners.Add(1)
		go func() { defer w.campaigners.Done(); c.Run(cctx) }()
	}
}

// scriptTail is how long the usual workload runs after a script: the
// history ends as a run's does, with a leader elected and writing, so
// that it is judged as any run's.
const scriptTail = 10 * time.Second

// faults runs the nemesis's plan until the time limit.
func (w *workload) faults(ctx context.Context) error {
	cfg := w.r.cfg
	nctx, stop := context.WithTimeout(ctx, time.Duration(cfg.TimeLimit))
	defer stop()
	w.exec.Run(nctx, time.Now(), nemesis.Plan(cfg.Seed, cfg.Nemesis, nemesis.Pace{
		Interval: time.Duration(cfg.NemesisInterval), TimeLimit: time.Duration(cfg.TimeLimit), LeaseExpiry: time.Duration(cfg.LeaseExpiry)}))
	<-nctx.Done()
	return ctx.Err()
}

// heal heals every fault: phase heal.
func (w *workload) heal(ctx context.Context) error {
	// Long enough for the slowest heal the run's faults have (a wiped
	// Consul server's promotion).
	healFor := max(30*time.Second, nemesis.HealWithin(w.r.cfg.Nemesis))
	if w.versions != nil {
		// Members move back to the final version one at a time.
		healFor += time.Duration(len(w.members)) * 30 * time.Second
	}
	hctx, cancel := context.WithTimeout(ctx, healFor)
	err := w.exec.HealAll(hctx)
	cancel()
	if err != nil {
		return fmt.Errorf("healing faults: %w", err)
	}
	w.phase(histories.PhaseHeal)
	w.checkVersions(ctx)
	return nil
}

// probeAPIServers asks every apiserver node whether it is ready, as often
// as members are probed, and records each answer (FServing): the report
// draws their rows from them.
func (w *workload) probeAPIServers(bgCtx context.Context) error {
	if len(w.r.apiServers) == 0 {
		return nil
	}
	tlsConfig, err := w.r.kubeCerts.ClientTLS()
	if err != nil {
		return err
	}
	for _, a := range w.r.apiServers {
		w.bg.Add(1)
		go func() {
			defer w.bg.Done()
			hc := kube.NewClient(tlsConfig, probeDeadline)
			defer hc.CloseIdleConnections()
			wait.Every(bgCtx, probeInterval, func(time.Time) {
				err := kube.Ready(bgCtx, hc, a.url)
				if bgCtx.Err() != nil {
					return
				}
				e := histories.Event{Type: histories.OK, Process: workloads.ProbeProcess(a.name), F: histories.FServing, Value: "ready"}
				if err != nil {
					e.Type, e.Value, e.Error = histories.Fail, "", err.Error()
				}
				w.r.rec.Record(e)
			})
		}()
	}
	return nil
}

// probeInterval and probeDeadline pace every probe of a node: members'
// raft views and apiservers' readiness.
const (
	probeInterval = 250 * time.Millisecond
	probeDeadline = 500 * time.Millisecond
)

// newRecord opens the store's record of the run's keys. Through
// apiservers, those are the Kubernetes objects the apiservers store,
// read back as the election's terms and register.
func (w *workload) newRecord() (db.StoreRecord, error) {
	if w.r.cfg.APIServers == 0 {
		return w.r.db.NewRecord(w.members, w.dataPrefix())
	}
	inner, err := w.r.db.NewRecord(w.members, kube.StoragePrefix)
	if err != nil {
		return nil, err
	}
	return kube.NewRecord(inner, kube.ObjectsOf(w.r.cfg.ElectionPrefix)), nil
}

// dataPrefix is where the run's data lives in the store: its own prefix,
// or the apiservers' whole storage in a run through them.
func (w *workload) dataPrefix() string {
	if w.r.cfg.APIServers > 0 {
		return kube.StoragePrefix
	}
	return "eh/" + w.r.cfg.RunID + "/"
}

// startWatches opens a watcher pinned to each member, where the database
// serves watches (db.Watches), each following the run's keys until
// syncWatches stops it. A run through apiservers watches nothing: its
// record is of objects, which P11 does not compare watches with.
func (w *workload) startWatches(bgCtx context.Context) error {
	ws, ok := w.r.db.(db.Watches)
	if !ok || w.r.cfg.APIServers > 0 {
		return nil
	}
	wctx, stop := context.WithCancel(bgCtx)
	w.stopWatches = stop
	for _, m := range w.members {
		mw, err := ws.NewWatch(m, "eh/"+w.r.cfg.RunID+"/")
		if err != nil {
			return fmt.Errorf("opening a watch of %s: %w", m.Name, err)
		}
		w.watches = append(w.watches, mw)
		w.watching.Add(1)
		go func() {
			defer w.watching.Done()
			if err := mw.Run(wctx, func(e histories.Event) { w.r.rec.Record(e) }); err != nil && wctx.Err() == nil {
				w.r.log.Warn("watch stopped", "member", m.Name, "err", err)
			}
		}()
	}
	return nil
}

// watchSyncPatience bounds the wait for every watcher to report progress
// up to its member's revision at the end of the run.
const watchSyncPatience = 10 * time.Second

// syncWatches has every watcher catch up with its member (a watcher that
// cannot is judged up to where it got), then stops them, so that every
// change they delivered is in the store's record, read to its end next.
func (w *workload) syncWatches(ctx context.Context) {
	if w.stopWatches == nil {
		return
	}
	w.status.setPhase("syncing watches")
	sctx, cancel := context.WithTimeout(ctx, watchSyncPatience)
	var synced sync.WaitGroup
	for i, mw := range w.watches {
		synced.Add(1)
		go func() {
			defer synced.Done()
			if err := mw.Sync(sctx); err != nil {
				w.r.log.Warn("watch did not catch up", "member", w.members[i].Name, "err", err)
			}
		}()
	}
	synced.Wait()
	cancel()
	w.stopWatches()
	w.watching.Wait()
}

// memberHashPatience bounds the wait for every member's digest of the
// data at the run's end.
const memberHashPatience = 30 * time.Second

// memberHashes records every member's digest of the run's data at one
// revision, for P9, where the database can say it (db.Agreement).
func (w *workload) memberHashes(ctx context.Context) {
	a, ok := w.r.db.(db.Agreement)
	if !ok {
		return
	}
	w.status.setPhase("comparing members")
	hctx, cancel := context.WithTimeout(ctx, memberHashPatience)
	hashes := a.MemberHashes(hctx, w.members, w.dataPrefix())
	cancel()
	for _, h := range hashes {
		e := histories.Event{Type: histories.OK, Process: histories.ProcessHarness, F: histories.FMemberHash,
			Member: &histories.MemberStatus{Name: h.Member}, Value: h.Hash, Revision: h.Revision}
		if h.Err != nil {
			e.Type, e.Value, e.Revision, e.Error = histories.Fail, "", 0, h.Err.Error()
		}
		w.r.rec.Record(e)
	}
}

// versionCheckPatience bounds the wait for every member to report the
// final version and its cluster version after the heal.
const versionCheckPatience = 60 * time.Second

// checkVersions, in a run of several versions, records whether every
// member serves the final version and reports its cluster version (the
// checker's V judges it).
func (w *workload) checkVersions(ctx context.Context) {
	if w.versions == nil {
		return
	}
	w.status.setPhase("checking versions")
	vctx, cancel := context.WithTimeout(ctx, versionCheckPatience)
	got, err := w.versions.up.CheckVersions(vctx, w.members, w.versions.Final())
	cancel()
	ev := histories.Event{Type: histories.Info, Process: histories.ProcessHarness, F: histories.FVersionCheck, Value: got}
	if err != nil {
		ev.Error = err.Error()
		fmt.Fprintf(w.r.stderr, "\nharness: members not all on %s: %v\n", w.versions.Final(), err)
	} else {
		fmt.Fprintf(w.r.stderr, "\nharness: %s\n", got)
	}
	w.r.rec.Record(ev)
}

// quiet gives the election time to recover: until a leader has written
// since the heal (plus a margin for the checker's liveness window), or
// the liveness bound has passed; then phase quiet.
func (w *workload) quiet(ctx context.Context) error {
	w.status.setPhase("recovering")
	bound := time.Duration(w.r.cfg.LivenessBound)
	healed := time.Now()
	for time.Since(healed) < bound+2*time.Second && !w.r.live.LeaderSinceHeal() && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	if !wait.For(ctx, 3*time.Second) {
		return ctx.Err()
	}
	w.phase(histories.PhaseQuiet)
	return nil
}

// finalReads has every campaigner read the register once more (its
// reader loop stopped first), with the election and act loops still
// running so a leader keeps leading; then the
// campaigners stop, and phase end.
func (w *workload) finalReads(ctx context.Context) {
	w.status.setPhase("final reads")
	w.phase(histories.PhaseFinalReads)
	var fr sync.WaitGroup
	for _, c := range w.clients {
		fr.Add(1)
		go func() { defer fr.Done(); c.FinalRead(ctx, 10*time.Second) }()
	}
	fr.Wait()
	w.stopCampaigners()
	w.campaigners.Wait()
	// Nothing the campaigners say from here on belongs to the run: their
	// observers would report changes past the store record's horizon.
	for _, conn := range w.conns {
		conn.Close()
	}
	w.phase(histories.PhaseEnd)
}

// readRecord reads the store's record to its end, which it must reach
// before it is checked: phase record.
func (w *workload) readRecord(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := w.record.Sync(sctx)
	cancel()
	if err != nil {
		return fmt.Errorf("reading the store's record to the end: %w", err)
	}
	w.phase(histories.PhaseRecord)
	w.stopBg()
	w.status.finish()
	return nil
}
