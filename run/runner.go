package run

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/cluster"
	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/registry"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/kube"
	"github.com/election-harness/harness/nemesis"
	"github.com/election-harness/harness/workloads"
)

// runner holds one run's moving parts.
type runner struct {
	cfg    Config
	db     db.DB
	dir    histories.RunDir
	rec    *histories.Recorder
	log    *slog.Logger
	stderr io.Writer
	live   *workloads.Live
	// stop ends the run as Ctrl-C does: the nemesis and the workload
	// stop, faults are healed, the cluster removed, the history checked.
	stop context.CancelFunc
	// lost is set when the run's cluster went from under it.
	lost atomic.Pointer[cluster.Lost]
	// script, if set, drives the campaigners instead of the workload.
	script Script
	// scriptErr is what the script said, kept apart from the run's
	// own errors: the run still heals, records and checks.
	scriptErr error
	// kubeCerts and apiServers are the run's Kubernetes certificates and
	// apiserver nodes, for a recipe that elects through them.
	kubeCerts  *kube.Certs
	apiServers []apiServer
}

// apiServer is one apiserver node, as clients reach it.
type apiServer struct {
	name, url string
}

// apiServerPatience bounds the wait for every apiserver to be ready: it
// starts its informers and writes its bootstrap objects first.
const apiServerPatience = 2 * time.Minute

// waitAPIServers waits until every apiserver says it is ready.
func (r *runner) waitAPIServers(ctx context.Context) error {
	if len(r.apiServers) == 0 {
		return nil
	}
	tlsConfig, err := r.kubeCerts.ClientTLS()
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, apiServerPatience)
	defer cancel()
	for _, a := range r.apiServers {
		if err := kube.WaitReady(wctx, a.url, tlsConfig); err != nil {
			return fmt.Errorf("waiting for apiserver %s: %w", a.name, err)
		}
	}
	return nil
}

// watchInterval is how often a run checks that its containers are there.
const watchInterval = time.Second

// watch stops the run, as Ctrl-C does, as soon as one of its node
// containers disappears or stops, or the engine stops answering.
func (r *runner) watch(ctx context.Context, cl cluster.Cluster) {
	w, ok := cl.(cluster.Watcher)
	if !ok {
		return
	}
	go func() {
		l, ok := <-w.Watch(ctx, watchInterval)
		if !ok {
			return
		}
		r.lost.Store(&l)
		fmt.Fprintf(r.stderr, "\n%s at %s: stopping the nemesis and the workload, then checking what was recorded\n",
			l.What, l.At.UTC().Format(time.RFC3339))
		r.stop()
	}()
}

// lostVerdict ends a run whose cluster went from under it: what was
// recorded until then is checked and reported (history.jsonl is whole
// up to there), and the run is a SetupError saying what happened; a
// crash of the checker is still a CrashError.
func (r *runner) lostVerdict(l cluster.Lost, runErr error, opts CheckOptions, res *Result) (Result, error) {
	what := fmt.Sprintf("%s at %s; results cover until then", l.What, l.At.UTC().Format(time.RFC3339))
	opts.Interrupted = true
	checked := "the recorded part checks VALID (but the run did not finish: no verdict)"
	results, err := Check(r.dir, opts)
	switch {
	case IsCrash(err):
		fmt.Fprintf(r.stderr, "harness: %s\n", what)
		return *res, err
	case err != nil:
		checked = fmt.Sprintf("checking the recorded part failed: %v", err)
	case results.Valid == checker.Invalid:
		checked = "the recorded part is INVALID: anomalies found before the loss (see results.json)"
	case results.Valid == checker.Unknown:
		checked = "the recorded part is UNKNOWN"
	}
	if err == nil {
		res.Results = &results
	}
	if le := (*cleanupError)(nil); asCleanup(runErr, &le) {
		checked += fmt.Sprintf("; %v", le)
	}
	return *res, setupErrorf("%s (%s); run directory %s", what, checked, r.dir)
}

func (r *runner) run(ctx context.Context, backend cluster.Backend) (err error) {
	spec, err := r.clusterSpec()
	if err != nil {
		return err
	}
	cl, err := backend.Start(ctx, spec)
	if err != nil {
		return fmt.Errorf("starting the cluster: %w", err)
	}
	var members []db.Member
	// Every exit path: heal, save logs, remove the cluster, even if ctx
	// is cancelled (Ctrl-C).
	cleanup := context.WithoutCancel(ctx)
	var memberNodes, campaignerNodes, apiServerNodes []nemesis.Node
	for _, n := range cl.Nodes() {
		switch n.Role() {
		case cluster.RoleMember:
			memberNodes = append(memberNodes, nemesis.Adapt[*agent.Client](n))
			members = append(members, db.Member{Name: n.Name(), IP: n.IP()})
		case cluster.RoleAPIServer:
			apiServerNodes = append(apiServerNodes, nemesis.Adapt[*agent.Client](n))
			r.apiServers = append(r.apiServers, apiServer{name: n.Name(), url: kube.URL(n.IP())})
		default:
			campaignerNodes = append(campaignerNodes, nemesis.Adapt[*agent.Client](n))
		}
	}
	versions := newMemberVersions(r.cfg, r.db, members)
	exec := &nemesis.Executor{Members: memberNodes, Campaigners: campaignerNodes, APIServers: apiServerNodes, Leaders: r.live, Recorder: r.rec, Log: r.log,
		AimWait:     time.Duration(r.cfg.LeaseExpiry),
		LeaseExpiry: time.Duration(r.cfg.LeaseExpiry),
		Membership:  Membership{DB: r.db, Members: members, DataDir: memberDataDir, versions: versions}}
	if fp, ok := r.db.(db.Failpoints); ok && r.cfg.Failpoints {
		exec.Failpoints = Failpoints{DB: fp, Members: members}
	}
	if versions != nil {
		exec.Versions = versions
	}
	defer func() {
		healFor := 30 * time.Second
		if r.lost.Load() != nil {
			healFor = 5 * time.Second // a node that is gone never heals
		}
		hctx, cancel := context.WithTimeout(cleanup, healFor)
		if herr := exec.HealAll(hctx); herr != nil {
			r.log.Warn("healing before removal", "err", herr)
		}
		cancel()
		lctx, cancel := context.WithTimeout(cleanup, 30*time.Second)
		saveLogs(lctx, r.dir, cl.Nodes(), r.log)
		cancel()
		r.scanCrashes(cl.Nodes())
		cctx, cancel := context.WithTimeout(cleanup, 2*time.Minute)
		switch cerr := cl.Close(cctx); {
		case cerr == nil:
		case cluster.OnlyPhantoms(cerr):
			// Every container is gone; the daemon keeps an empty network.
			// The verdict stands: it is the daemon's leftover, not the run's.
			fmt.Fprintf(r.stderr, "harness: warning: %v\n", cerr)
		case err == nil:
			err = &cleanupError{fmt.Errorf("removing the cluster: %w (run `harness clean`)", cerr)}
		}
		cancel()
	}()
	// Deferred after the cleanup above, so that it runs before it: the
	// run's own removal of its cluster is no loss.
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	r.watch(watchCtx, cl)

	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	err = r.db.WaitReady(rctx, members)
	cancel()
	if err != nil {
		return fmt.Errorf("waiting for %s to serve: %w", r.db.Name(), err)
	}
	if err := r.waitAPIServers(ctx); err != nil {
		return err
	}
	if fp, ok := exec.Failpoints.(Failpoints); ok {
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = fp.checkFailpoints(fctx)
		cancel()
		if err != nil {
			return err
		}
	}
	return r.workload(ctx, members, cl, exec, versions)
}

// userCampaigner is where a user's campaigner lives in its node.
const userCampaigner = "/campaigner"

// memberDataDir is where a member keeps its data inside its node.
const memberDataDir = "/data"

// Membership lets the nemesis remove a wiped member and add it back,
// through the database's own membership changes.
type Membership struct {
	DB      db.DB
	Members []db.Member
	DataDir string
	// versions, in a run of several, puts a rejoined member back on
	// its version's server.
	versions *memberVersions
}

func (m Membership) member(name string) (db.Member, error) {
	for _, mem := range m.Members {
		if mem.Name == name {
			return mem, nil
		}
	}
	return db.Member{}, fmt.Errorf("no member %q", name)
}

// operator is the database's Membership and the member named name.
// Validate refuses wipe for a database without one, so that error is a
// guard.
func (m Membership) operator(name string) (db.Membership, db.Member, error) {
	mem, err := m.member(name)
	if err != nil {
		return nil, db.Member{}, err
	}
	op, ok := m.DB.(db.Membership)
	if !ok {
		return nil, db.Member{}, fmt.Errorf("%s: wipe is not supported: %w", m.DB.Name(), errors.ErrUnsupported)
	}
	return op, mem, nil
}

// Remove takes the member named name out of the cluster.
func (m Membership) Remove(ctx context.Context, name string) error {
	op, mem, err := m.operator(name)
	if err != nil {
		return err
	}
	return op.RemoveMember(ctx, m.Members, mem)
}

// Rejoin removes the member if it is still one, adds it back empty, and
// returns the argv that starts it on its version's server.
func (m Membership) Rejoin(ctx context.Context, name string) ([]string, error) {
	op, mem, err := m.operator(name)
	if err != nil {
		return nil, err
	}
	if err := op.RemoveMember(ctx, m.Members, mem); err != nil {
		return nil, err
	}
	argv, err := op.AddMember(ctx, m.Members, mem, m.DataDir)
	if err != nil || m.versions == nil {
		return argv, err
	}
	return m.versions.rejoined(name, argv), nil
}

// Rejoined waits until the rejoined member is a full member again.
func (m Membership) Rejoined(ctx context.Context, name string) error {
	op, mem, err := m.operator(name)
	if err != nil {
		return err
	}
	return op.AwaitMember(ctx, m.Members, mem)
}

// Failpoints lets the nemesis set a member's failpoints, by name.
type Failpoints struct {
	DB      db.Failpoints
	Members []db.Member
}

func (f Failpoints) member(name string) (db.Member, error) {
	for _, m := range f.Members {
		if m.Name == name {
			return m, nil
		}
	}
	return db.Member{}, fmt.Errorf("no member %q", name)
}

func (f Failpoints) Set(ctx context.Context, member, name, terms string) error {
	m, err := f.member(member)
	if err != nil {
		return err
	}
	return f.DB.SetFailpoint(ctx, m, name, terms)
}

func (f Failpoints) Clear(ctx context.Context, member, name string) error {
	m, err := f.member(member)
	if err != nil {
		return err
	}
	return f.DB.ClearFailpoint(ctx, m, name)
}

func (f Failpoints) List(ctx context.Context, member string) (map[string]string, error) {
	m, err := f.member(member)
	if err != nil {
		return nil, err
	}
	return f.DB.ListFailpoints(ctx, m)
}

// checkFailpoints proves that every member serves its failpoint
// control before the workload starts: a --binary built without them
// is refused here, not found out by the first failpoint fault.
func (f Failpoints) checkFailpoints(ctx context.Context) error {
	for _, m := range f.Members {
		if _, err := f.DB.ListFailpoints(ctx, m); err != nil {
			return fmt.Errorf("--failpoints: member %s serves no failpoints (a build without them?): %w", m.Name, err)
		}
	}
	return nil
}

// clusterSpec names members n1..nN, apiservers a1..aK and campaigners
// c1..cM. The apiservers' certificates are made in the run directory.
func (r *runner) clusterSpec() (cluster.Spec, error) {
	if r.cfg.APIServers == 0 {
		return ClusterSpec(r.cfg, r.db), nil
	}
	certs, err := kube.NewCerts(r.dir.Path(kubeCertsDir))
	if err != nil {
		return cluster.Spec{}, fmt.Errorf("making the apiservers' certificates: %w", err)
	}
	r.kubeCerts = &certs
	return clusterSpecWith(r.cfg, r.db, &certs), nil
}

// kubeCertsDir holds a run's Kubernetes certificates in its directory.
const kubeCertsDir = "kube"

// ClusterSpec is the cluster of run cfg on database d: members n1..nN
// and campaigners c1..cM. (Tests of the nemesis start it too.)
func ClusterSpec(cfg Config, d db.DB) cluster.Spec { return clusterSpecWith(cfg, d, nil) }

// apiServerName names apiserver i (from 1).
func apiServerName(i int) string { return fmt.Sprintf("a%d", i) }

// clusterSpecWith is ClusterSpec with, for a run through apiservers,
// apiservers a1..aK made with certs.
func clusterSpecWith(cfg Config, d db.DB, certs *kube.Certs) cluster.Spec {
	spec := cluster.Spec{RunID: cfg.RunID, Image: cfg.Image}
	var names []string
	for i := 1; i <= cfg.Nodes; i++ {
		names = append(names, fmt.Sprintf("n%d", i))
	}
	membersOf := func(addrs map[string]netip.Addr) []db.Member {
		ms := make([]db.Member, len(names))
		for i, n := range names {
			ms[i] = db.Member{Name: n, IP: addrs[n]}
		}
		return ms
	}
	for i, n := range names {
		node := cluster.NodeSpec{Name: n, Role: cluster.RoleMember, DataDir: memberDataDir,
			Command: func(addrs map[string]netip.Addr) []string {
				argv := d.MemberCommand(db.Member{Name: n, IP: addrs[n]}, membersOf(addrs), memberDataDir)
				if cfg.mixed() {
					argv = memberArgv(argv, d.ServerPath(), cfg.MemberVersion(i))
				}
				return argv
			}}
		if fp, ok := d.(db.Failpoints); ok && cfg.Failpoints {
			node.Env = fp.FailpointEnv(db.Member{Name: n})
		}
		if sn, ok := d.(db.Snapshots); ok && cfg.SnapshotCount > 0 {
			node.Env = append(node.Env, sn.SnapshotEnv(cfg.MemberVersion(i), cfg.SnapshotCount)...)
		}
		if ll, ok := d.(db.ServerLogLevels); ok && cfg.ServerLogLevel != "" {
			node.Env = append(node.Env, ll.LogLevelEnv(cfg.ServerLogLevel)...)
		}
		node.StallDisk = cfg.stallsDisks()
		spec.Nodes = append(spec.Nodes, node)
	}
	if ks, ok := d.(db.KubeStore); ok && certs != nil {
		for i := 1; i <= cfg.APIServers; i++ {
			name := apiServerName(i)
			spec.Nodes = append(spec.Nodes, cluster.NodeSpec{Name: name, Role: cluster.RoleAPIServer, DataDir: "/data", Files: certs.Files(),
				Command: func(addrs map[string]netip.Addr) []string {
					return kube.Command(addrs[name], ks.KubeStorageFlags(membersOf(addrs)))
				}})
		}
	}
	// A user's campaigner (exec:PATH) is copied into each campaigner
	// node and started with the flags the built-in one takes.
	program := append([]string{"/harness", "campaigner", "--recipe", cfg.Recipe}, registry.CampaignerArgs(d, db.RunSettings{ReadMode: cfg.Consistency, Options: cfg.Options})...)
	var files []cluster.File
	if path, ok := strings.CutPrefix(cfg.Recipe, workloads.ExecPrefix); ok {
		program = []string{userCampaigner}
		files = []cluster.File{{HostPath: path, NodePath: userCampaigner, Mode: 0o755}}
	}
	readers := cfg.ReaderMembers()
	if certs != nil {
		files = append(slices.Clone(files), certs.ClientFiles()...)
	}
	for i := 1; i <= cfg.Campaigners; i++ {
		name := fmt.Sprintf("c%d", i)
		spec.Nodes = append(spec.Nodes, cluster.NodeSpec{Name: name, Role: cluster.RoleCampaigner, DataDir: "/data", Files: files,
			Command: func(addrs map[string]netip.Addr) []string {
				endpoints := d.ClientEndpoints(membersOf(addrs))
				if certs != nil {
					endpoints = []string{kube.URL(addrs[cfg.APIServerFronts()[name]])}
				}
				argv := append(slices.Clone(program), "--name", name,
					"--endpoints", strings.Join(endpoints, ","),
					"--ttl", time.Duration(cfg.TTL).String(),
					// concurrency.Election adds the "/" itself.
					"--prefix", strings.TrimSuffix(cfg.ElectionPrefix, "/"))
				if m, ok := readers[name]; ok {
					// Reads through this member alone: no failover.
					argv = append(argv, "--"+workloads.ReadEndpointsFlag, strings.Join(d.ClientEndpoints([]db.Member{{Name: m, IP: addrs[m]}}), ","))
				}
				return argv
			}})
	}
	return spec
}

// saveLogs writes every node's log under nodes/.
func saveLogs(ctx context.Context, dir histories.RunDir, nodes []cluster.Node, log *slog.Logger) {
	for _, n := range nodes {
		b, err := n.Logs(ctx)
		if err != nil {
			log.Warn("reading node log", "node", n.Name(), "err", err)
			continue
		}
		if err := os.WriteFile(filepath.Join(dir.Path(histories.NodesDir), n.Name()+".log"), b, 0o644); err != nil {
			log.Warn("saving node log", "node", n.Name(), "err", err)
		}
	}
}

// scanCrashes scans every member's saved log for the lines its database
// writes when it crashes (db.CrashMarkers). It also looks for the agent's
// line saying the process exited with no kill asked for, which is a crash
// that wrote nothing, such as the kernel's OOM killer. It records what it
// found as one member-log event a member, for P10.
func (r *runner) scanCrashes(nodes []cluster.Node) {
	markers := crashMarkers(r.db)
	for _, n := range nodes {
		if n.Role() != cluster.RoleMember {
			continue
		}
		e := histories.Event{Type: histories.OK, Process: histories.ProcessHarness, F: histories.FMemberLog, Member: &histories.MemberStatus{Name: n.Name()}}
		rel := filepath.Join(histories.NodesDir, n.Name()+".log")
		m, err := firstMatch(r.dir.Path(rel), markers)
		switch {
		case err != nil:
			e.Type, e.Error = histories.Fail, fmt.Sprintf("its log could not be read: %v", err)
		case m.count > 0:
			e.Type, e.Value, e.Error = histories.Fail, m.line, fmt.Sprintf("%s:%d (%d lines matched)", rel, m.at, m.count)
			if len(m.before) > 0 {
				e.Error += "; the lines before it: " + clipText(strings.Join(m.before, " | "), 2000)
			}
		}
		r.rec.Record(e)
	}
}

// crashMarkers are the lines of a member's log that say it crashed: the
// agent's unasked exit, and the database's own (db.CrashMarkers).
func crashMarkers(d db.DB) []*regexp.Regexp {
	markers := []*regexp.Regexp{regexp.MustCompile(regexp.QuoteMeta(`msg="` + agent.UnaskedExitLog + `"`))}
	if cm, ok := d.(db.CrashMarkers); ok {
		for _, p := range cm.CrashMarkers() {
			markers = append(markers, regexp.MustCompile(p))
		}
	}
	return markers
}

// linesBefore is how many lines before a crash line the evidence quotes:
// a process's last words before an exit the agent saw.
const linesBefore = 5

// logMatch is the first line a crash marker matched, its line number,
// the lines just before it, and how many lines matched in all.
type logMatch struct {
	line      string
	at, count int
	before    []string
}

// firstMatch finds the first line of the file at path that a marker
// matches.
func firstMatch(path string, markers []*regexp.Regexp) (logMatch, error) {
	var m logMatch
	f, err := os.Open(path)
	if err != nil {
		return m, err
	}
	defer f.Close()
	var recent []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		for _, re := range markers {
			if re.MatchString(text) {
				if m.count == 0 {
					m.line, m.at, m.before = text, n, append([]string(nil), recent...)
				}
				m.count++
				break
			}
		}
		if recent = append(recent, text); len(recent) > linesBefore {
			recent = recent[1:]
		}
	}
	return m, sc.Err()
}

// clipText shortens s to at most n bytes, saying so.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
