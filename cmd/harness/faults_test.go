package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/cluster"
	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/etcd"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/nemesis"
	"github.com/election-harness/harness/run"
	"github.com/election-harness/harness/workloads"
)

// faultCluster is a running 3-member etcd cluster with two campaigner
// nodes, for proving what each fault does to real nodes.
type faultCluster struct {
	cl          cluster.Cluster
	members     []db.Member
	byName      map[string]cluster.Node
	exec        *nemesis.Executor
	memberNodes []nemesis.Node
	runID       string
}

func startFaultCluster(t *testing.T) *faultCluster {
	t.Helper()
	return startFaultClusterWith(t, false, noLeaders{})
}

// startFaultClusterWith starts it with etcd built with failpoints, or
// not, and the nemesis told who leads by leaders.
func startFaultClusterWith(t *testing.T, failpoints bool, leaders nemesis.Leaders) *faultCluster {
	t.Helper()
	return startFaultClusterFor(t, failpoints, nil, leaders)
}

// startFaultClusterFor starts it for a run whose --nemesis is kinds
// (what the members' nodes get depends on it: stall's filesystem).
func startFaultClusterFor(t *testing.T, failpoints bool, kinds []string, leaders nemesis.Leaders) *faultCluster {
	t.Helper()
	return startFaultClusterSnapshotting(t, failpoints, kinds, leaders, 0)
}

// startFaultClusterSnapshotting is startFaultClusterFor with members that
// snapshot every snapshotCount entries (0: etcd's default).
func startFaultClusterSnapshotting(t *testing.T, failpoints bool, kinds []string, leaders nemesis.Leaders, snapshotCount int) *faultCluster {
	t.Helper()
	return startFaultClusterOf(t, faultClusterSpec{db: etcd.DB{}, recipe: "etcd-election", ttl: 3 * time.Second,
		failpoints: failpoints, kinds: kinds, leaders: leaders, snapshotCount: snapshotCount})
}

// faultClusterSpec is what startFaultClusterOf starts: the database, the
// recipe its campaigner nodes are made for, and the run's options that
// change what the members' nodes get.
type faultClusterSpec struct {
	db            db.DB
	recipe        string
	ttl           time.Duration
	failpoints    bool
	kinds         []string
	leaders       nemesis.Leaders
	snapshotCount int
}

// startFaultClusterOf starts 3 members of spec.db and two campaigner
// nodes, with a nemesis executor over them, and removes them when the
// test ends.
func startFaultClusterOf(t *testing.T, spec faultClusterSpec) *faultCluster {
	t.Helper()
	ctx := context.Background()
	d, failpoints := spec.db, spec.failpoints
	docker, err := cluster.NewDocker(ctx, cluster.DockerOptions{})
	if err != nil {
		t.Fatalf("connecting to Docker: %v", err)
	}
	prep, err := run.PrepareImage(ctx, docker, d, run.Source{Version: d.DefaultVersion(), Failpoints: failpoints}, db.DefaultCacheDir(), harnessBin, io.Discard)
	if err != nil {
		t.Fatalf("preparing the image: %v", err)
	}
	cspec := run.ClusterSpec(run.Config{Image: prep.Name, Nodes: 3, Campaigners: 2, RunID: fmt.Sprintf("faults%d", time.Now().UnixNano()%1e6), Failpoints: failpoints, Nemesis: spec.kinds,
		Recipe: spec.recipe, TTL: run.Duration(spec.ttl), ElectionPrefix: "/eh/f/election/", SnapshotCount: spec.snapshotCount}, d)
	cl, err := docker.Start(ctx, cspec)
	if err != nil {
		t.Fatalf("starting the cluster: %v", err)
	}
	fc := &faultCluster{cl: cl, byName: map[string]cluster.Node{}, runID: cspec.RunID}
	var campaigners []nemesis.Node
	for _, n := range cl.Nodes() {
		fc.byName[n.Name()] = n
		if n.Role() == cluster.RoleMember {
			fc.members = append(fc.members, db.Member{Name: n.Name(), IP: n.IP()})
			fc.memberNodes = append(fc.memberNodes, nemesis.Adapt[*agent.Client](n))
		} else {
			campaigners = append(campaigners, nemesis.Adapt[*agent.Client](n))
		}
	}
	rec, err := histories.NewRecorder(filepath.Join(t.TempDir(), histories.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	fc.exec = &nemesis.Executor{Members: fc.memberNodes, Campaigners: campaigners, Leaders: spec.leaders, Recorder: rec,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Membership: run.Membership{DB: d, Members: fc.members, DataDir: "/data"}}
	if fp, ok := d.(db.Failpoints); ok && failpoints {
		fc.exec.Failpoints = run.Failpoints{DB: fp, Members: fc.members}
	}
	t.Cleanup(func() {
		hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := fc.exec.HealAll(hctx); err != nil {
			t.Errorf("healing: %v", err)
		}
		if err := cl.Close(ctx); err != nil {
			t.Errorf("removing the cluster: %v", err)
		}
		rec.Close()
	})
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := d.WaitReady(wctx, fc.members); err != nil {
		t.Fatalf("%s not ready: %v", d.Name(), err)
	}
	return fc
}

// noLeaders makes leader-targeted rules fall back to seeded random picks.
type noLeaders struct{}

func (noLeaders) RaftLeader() (string, uint64)               { return "", 0 }
func (noLeaders) ElectionLeader() (string, *histories.Token) { return "", nil }
func (noLeaders) ElectionLeaderActing() string               { return "" }

// reaches dials from node a to node b's etcd peer port (campaigners:
// agent port) from inside a.
func (fc *faultCluster) reaches(t *testing.T, a, b string) bool {
	t.Helper()
	port := uint16(2380)
	if fc.byName[b].Role() != cluster.RoleMember {
		port = agent.ControlPort
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rep, err := fc.byName[a].Agent().Dial(ctx, netip.AddrPortFrom(fc.byName[b].IP(), port).String(), 500*time.Millisecond)
	if err != nil {
		t.Fatalf("asking %s to dial %s: %v", a, b, err)
	}
	return rep.OK
}

// probeAnswers reports whether member m answers a raft status probe.
func (fc *faultCluster) probeAnswers(m string) bool {
	p, _ := etcd.DB{}.NewProbe(db.Member{Name: m, IP: fc.byName[m].IP()})
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	_, err := p.Probe(ctx)
	return err == nil
}

func (fc *faultCluster) start(t *testing.T, kind, rule string) histories.Fault {
	t.Helper()
	f, err := fc.exec.Start(context.Background(), nemesis.Step{Kind: kind, Rule: rule, Pick: 42, Duration: time.Minute})
	if err != nil {
		t.Fatalf("starting %s %s: %v", kind, rule, err)
	}
	return f
}

func (fc *faultCluster) stop(t *testing.T, f histories.Fault) {
	t.Helper()
	if err := fc.exec.Stop(context.Background(), f.ID); err != nil {
		t.Fatalf("healing %s: %v", f.Kind, err)
	}
}

// TestFaultsOnRealNodes proves each fault's effect on real nodes, not
// that a function was called.
func TestFaultsOnRealNodes(t *testing.T) {
	needDocker(t)
	fc := startFaultCluster(t)
	others := func(except ...string) []string {
		var out []string
		for _, m := range fc.members {
			if !strings.Contains(strings.Join(except, ","), m.Name) {
				out = append(out, m.Name)
			}
		}
		return out
	}

	t.Run("partition majority-minority", func(t *testing.T) {
		f := fc.start(t, nemesis.KindPartition, nemesis.GrudgeMajorityMinority)
		minority := f.Targets[0]
		majority := others(minority)
		for _, m := range majority {
			if fc.reaches(t, minority, m) || fc.reaches(t, m, minority) {
				t.Errorf("%s and %s still reach each other across the partition", minority, m)
			}
		}
		if !fc.reaches(t, majority[0], majority[1]) {
			t.Errorf("the majority %v cannot reach itself", majority)
		}
		if !fc.reaches(t, minority, "c1") {
			t.Errorf("%s cannot reach campaigner c1, which the partition does not name", minority)
		}
		fc.stop(t, f)
		for _, m := range majority {
			if !fc.reaches(t, minority, m) {
				t.Errorf("%s cannot reach %s after the heal", minority, m)
			}
		}
	})

	t.Run("partition bridge", func(t *testing.T) {
		f := fc.start(t, nemesis.KindPartition, nemesis.GrudgeBridge)
		mid := f.Params["bridge"]
		ends := others(mid)
		if fc.reaches(t, ends[0], ends[1]) {
			t.Errorf("the two sides %v reach each other", ends)
		}
		for _, e := range ends {
			if !fc.reaches(t, mid, e) || !fc.reaches(t, e, mid) {
				t.Errorf("the bridge %s and %s do not reach each other", mid, e)
			}
		}
		fc.stop(t, f)
		if !fc.reaches(t, ends[0], ends[1]) {
			t.Errorf("%v cannot reach each other after the heal", ends)
		}
	})

	t.Run("loss", func(t *testing.T) {
		a, b := fc.members[0], fc.members[1]
		ctx := context.Background()
		if err := fc.byName[a.Name].Agent().Loss(ctx, agent.LossRequest{Peers: []string{b.IP.String()}, Percent: 50}); err != nil {
			t.Fatal(err)
		}
		ok := 0
		const tries = 60
		for i := 0; i < tries; i++ {
			if fc.reaches(t, a.Name, b.Name) {
				ok++
			}
		}
		// Each connection needs its SYN through: about half succeed.
		if ok < tries/6 || ok > tries*5/6 {
			t.Errorf("%d of %d connections through a 50%% lossy link", ok, tries)
		}
		if err := fc.byName[a.Name].Agent().HealLoss(ctx); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10; i++ {
			if !fc.reaches(t, a.Name, b.Name) {
				t.Fatalf("a connection failed after the loss was healed")
			}
		}
		t.Logf("%d of %d connections through a 50%% lossy link", ok, tries)
	})

	t.Run("delay", func(t *testing.T) {
		a, b := fc.members[0], fc.members[2]
		ctx := context.Background()
		connect := func() float64 {
			rep, err := fc.byName[a.Name].Agent().Dial(ctx, netip.AddrPortFrom(b.IP, 2380).String(), 3*time.Second)
			if err != nil || !rep.OK {
				t.Fatalf("dialing %s from %s: %v %+v", b.Name, a.Name, err, rep)
			}
			return rep.ElapsedMS
		}
		if err := fc.byName[a.Name].Agent().Delay(ctx, agent.DelayRequest{Peers: []string{b.IP.String()}, DelayMS: 300}); err != nil {
			t.Fatal(err)
		}
		// The SYN waits 300ms on its way out; the SYN-ACK comes back at once.
		for i := 0; i < 3; i++ {
			if ms := connect(); ms < 280 || ms > 1000 {
				t.Errorf("a connection through a 300ms delay took %.0fms", ms)
			}
		}
		if !fc.reaches(t, a.Name, fc.members[1].Name) {
			t.Errorf("a link the delay does not name is cut")
		}
		if err := fc.byName[a.Name].Agent().HealDelay(ctx); err != nil {
			t.Fatal(err)
		}
		if ms := connect(); ms > 100 {
			t.Errorf("a connection after the heal took %.0fms", ms)
		}
	})

	t.Run("pause", func(t *testing.T) {
		f := fc.start(t, nemesis.KindPause, nemesis.TargetRandomMember)
		m := f.Targets[0]
		if fc.probeAnswers(m) {
			t.Errorf("paused %s still answers", m)
		}
		fc.stop(t, f)
		if !eventually(func() bool { return fc.probeAnswers(m) }) {
			t.Errorf("%s does not answer after it was resumed", m)
		}
	})

	t.Run("freeze", func(t *testing.T) {
		f := fc.start(t, nemesis.KindFreeze, nemesis.TargetRandomMember)
		m := f.Targets[0]
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := fc.byName[m].Agent().Status(ctx)
		cancel()
		if err == nil || fc.probeAnswers(m) {
			t.Errorf("frozen %s still answers (agent error %v)", m, err)
		}
		fc.stop(t, f)
		if !eventually(func() bool { return fc.probeAnswers(m) }) {
			t.Errorf("%s does not answer after it was thawed", m)
		}
	})

	t.Run("throttle", func(t *testing.T) {
		f := fc.start(t, nemesis.KindThrottle, nemesis.TargetRandomMember)
		m := f.Targets[0]
		quota := func() string {
			out, err := exec.Command("docker", "inspect", "-f", "{{.HostConfig.CpuQuota}}", "eh-"+fc.runID+"-"+m).Output()
			if err != nil {
				t.Fatalf("inspecting %s: %v", m, err)
			}
			return strings.TrimSpace(string(out))
		}
		cpus, _ := strconv.ParseFloat(f.Params["cpus"], 64)
		if got, want := quota(), fmt.Sprint(int64(cpus*100_000)); got != want {
			t.Errorf("throttled %s to %v CPU: its CPU quota is %s µs a 100 ms period, want %s", m, cpus, got, want)
		}
		// Throttled, not stopped: the member still answers, and the
		// kernel holds it back (its cgroup counts throttled periods).
		before := throttledPeriods(t, "eh-"+fc.runID+"-"+m)
		if !eventually(func() bool { return fc.probeAnswers(m) }) {
			t.Errorf("throttled %s does not answer at all", m)
		}
		// Load it for 3 s with reads it serves alone, so that it needs
		// more CPU than its quota.
		cli, err := clientv3.New(clientv3.Config{Endpoints: etcd.DB{}.ClientEndpoints([]db.Member{{Name: m, IP: fc.byName[m].IP()}}), DialTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		reads := 0
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
			rctx, cancel := context.WithTimeout(context.Background(), time.Second)
			if _, err := cli.Get(rctx, "/eh/f/", clientv3.WithPrefix(), clientv3.WithSerializable()); err == nil {
				reads++
			}
			cancel()
		}
		cli.Close()
		after := throttledPeriods(t, "eh-"+fc.runID+"-"+m)
		if after <= before {
			t.Errorf("throttled %s: its cgroup counted %d throttled periods, then %d 3 s later: the quota holds nothing back", m, before, after)
		}
		t.Logf("%s throttled to %v CPU: %d periods throttled in 3 s of reads (%d served)", m, cpus, after-before, reads)
		fc.stop(t, f)
		if got := quota(); got != "-1" && got != "0" {
			t.Errorf("healed %s keeps a CPU quota of %s µs", m, got)
		}
	})

	t.Run("kill", func(t *testing.T) {
		f := fc.start(t, nemesis.KindKill, nemesis.TargetRandomMember)
		m := f.Targets[0]
		st, err := fc.byName[m].Agent().Status(context.Background())
		if err != nil || st.Running {
			t.Errorf("killed %s: running %v (%v)", m, st.Running, err)
		}
		if fc.probeAnswers(m) {
			t.Errorf("killed %s still answers", m)
		}
		fc.stop(t, f)
		if !eventually(func() bool { return fc.probeAnswers(m) }) {
			t.Errorf("%s does not answer after its restart", m)
		}
	})
}

// throttledPeriods is how many CFS periods the kernel has held the
// container's processes back (nr_throttled of its cpu cgroup, v1 or v2).
func throttledPeriods(t *testing.T, ctr string) int64 {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "-f", "{{.State.Pid}}", ctr).Output()
	if err != nil {
		t.Fatalf("inspecting %s: %v", ctr, err)
	}
	cg, err := os.ReadFile("/proc/" + strings.TrimSpace(string(out)) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var stat string
	for _, line := range strings.Split(strings.TrimSpace(string(cg)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "" && stat == "":
			stat = filepath.Join("/sys/fs/cgroup", parts[2], "cpu.stat")
		case slices.Contains(strings.Split(parts[1], ","), "cpu"):
			stat = filepath.Join("/sys/fs/cgroup", parts[1], parts[2], "cpu.stat")
		}
	}
	b, err := os.ReadFile(stat)
	if err != nil {
		t.Fatalf("reading %s's cpu cgroup: %v", ctr, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "nr_throttled "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatalf("%s has no nr_throttled", stat)
	return 0
}

// TestWipeRejoinsAsANewMember loses a member's data: it leaves the
// cluster, and comes back empty as a new member, as an operator would
// bring it back, with the cluster whole again.
func TestWipeRejoinsAsANewMember(t *testing.T) {
	needDocker(t)
	fc := startFaultCluster(t)
	ctx := context.Background()
	memberID := func(m string) string {
		p, _ := etcd.DB{}.NewProbe(db.Member{Name: m, IP: fc.byName[m].IP()})
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		st, err := p.Probe(pctx)
		if err != nil {
			return ""
		}
		return st.ID
	}
	f := fc.start(t, nemesis.KindWipe, nemesis.TargetRandomMember)
	m := f.Targets[0]
	var others []db.Member
	for _, mem := range fc.members {
		if mem.Name != m {
			others = append(others, mem)
		}
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcd.DB{}.ClientEndpoints(others), DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	list := func() []string {
		lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		resp, err := cli.MemberList(lctx)
		if err != nil {
			t.Fatalf("listing members: %v", err)
		}
		var out []string
		for _, mem := range resp.Members {
			out = append(out, fmt.Sprintf("%s:%x", mem.Name, mem.ID))
		}
		return out
	}
	during := list()
	if len(during) != len(fc.members)-1 || strings.Contains(strings.Join(during, " "), m+":") {
		t.Fatalf("while wiped, the members are %v; want all but %s", during, m)
	}
	if fc.probeAnswers(m) {
		t.Errorf("wiped %s still answers", m)
	}
	fc.stop(t, f)
	if !eventually(func() bool { return memberID(m) != "" }) {
		t.Fatalf("%s does not answer after it rejoined", m)
	}
	after := list()
	if len(after) != len(fc.members) || !strings.Contains(strings.Join(after, " "), m+":") {
		t.Errorf("after the rejoin the members are %v", after)
	}
	if id := memberID(m); strings.Contains(strings.Join(during, " "), ":"+id) {
		t.Errorf("%s came back as %s, an identity the cluster kept", m, id)
	}
}

// eventually polls cond for up to 15 seconds.
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

// TestClockSkewOnARealCampaigner reads a campaigner's clocks from inside
// it while its agent skews them: the requested offset and rate, and true
// time again after the heal, while the host's clock does not move.
func TestClockSkewOnARealCampaigner(t *testing.T) {
	needDocker(t)
	fc := startFaultCluster(t)
	c := fc.byName["c1"]
	ctx := context.Background()
	raw, err := c.Agent().DialStdio(ctx, netip.AddrPortFrom(c.IP(), agent.StdioPort).String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rec, err := histories.NewRecorder(filepath.Join(t.TempDir(), histories.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	conn := workloads.NewConn("c1", raw, rec, slog.New(slog.NewTextHandler(io.Discard, nil)))
	read := func() (time.Time, time.Duration) {
		t.Helper()
		e := conn.Invoke(ctx, "c1", workloads.Command{Op: workloads.OpClock, TimeoutMS: 2000}, nil)
		var wall, mono int64
		if _, err := fmt.Sscan(e.Value, &wall, &mono); e.Type != histories.OK || err != nil {
			t.Fatalf("reading c1's clock: %+v (%v)", e, err)
		}
		return time.Unix(0, wall), time.Duration(mono)
	}
	within := func(d, want, tol time.Duration) bool { return d-want <= tol && want-d <= tol }

	if w, _ := read(); !within(time.Until(w), 0, 100*time.Millisecond) {
		t.Fatalf("before any fault c1 reads %v off the host", time.Until(w))
	}
	if err := c.Agent().Clock(ctx, agent.ClockRequest{OffsetNS: int64(7 * time.Second), Rate: 1}); err != nil {
		t.Fatalf("skewing c1: %v", err)
	}
	host := time.Now()
	if w, _ := read(); !within(w.Sub(host), 7*time.Second, 50*time.Millisecond) {
		t.Errorf("c1 reads %v ahead of the host, want 7s ±50ms", w.Sub(host))
	}
	if d := time.Since(host); d > 2*time.Second {
		t.Errorf("the host's clock moved by %v", d)
	}
	if err := c.Agent().Clock(ctx, agent.ClockRequest{Rate: 0.5}); err != nil {
		t.Fatal(err)
	}
	w0, m0 := read()
	h0 := time.Now()
	time.Sleep(2 * time.Second)
	w1, m1 := read()
	real := time.Since(h0).Seconds()
	for name, rate := range map[string]float64{"wall": w1.Sub(w0).Seconds() / real, "monotonic": (m1 - m0).Seconds() / real} {
		if rate < 0.475 || rate > 0.525 {
			t.Errorf("c1's %s clock ran at %.3f, want 0.5 ±5%%", name, rate)
		}
	}
	st, err := c.Agent().Status(ctx)
	if err != nil || st.Clock == nil || st.Clock.Rate != 0.5 {
		t.Errorf("the agent's status does not show the skew: %+v (%v)", st.Clock, err)
	}
	if err := c.Agent().HealClock(ctx); err != nil {
		t.Fatal(err)
	}
	if w, _ := read(); !within(time.Until(w), 0, 100*time.Millisecond) {
		t.Errorf("after the heal c1 reads %v off the host", time.Until(w))
	}
}
