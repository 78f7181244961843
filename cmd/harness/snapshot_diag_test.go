//go:build diag

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
)

// TestSnapshotStaleReadDiag is TestSnapshotCountOnRealNodes with
// everything written down: every put's outcome and revision, every read
// through the healed member (header revision, member, the key's mod
// revision and version), what each revision of the key holds, and the
// members' snapshot lines. Aimed at docs/findings/snapshot-stale-read.md;
// built only with the diag tag, run by hand: go test -tags diag -run
// TestSnapshotStaleReadDiag [EH_SNAPSHOT_DIAG_VERSION=v3.5.21].
func TestSnapshotStaleReadDiag(t *testing.T) {
	needDocker(t)
	version := os.Getenv("EH_SNAPSHOT_DIAG_VERSION")
	if version == "" {
		version = etcd.DB{}.DefaultVersion()
	}
	fc := startFaultClusterVersion(t, version, 100)
	ctx := context.Background()
	const key = "/eh/snapshot/k"
	all, err := clientv3.New(clientv3.Config{Endpoints: etcd.DB{}.ClientEndpoints(fc.members), DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	status := func(when string) {
		for i, ep := range (etcd.DB{}).ClientEndpoints(fc.members) {
			sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			st, err := all.Status(sctx, ep)
			cancel()
			if err != nil {
				t.Logf("DIAG %s %s: %v", when, fc.members[i].Name, err)
				continue
			}
			t.Logf("DIAG %s %s id %x: leader %x term %d raft index %d applied %d store revision %d", when, fc.members[i].Name, st.Header.MemberId, st.Leader, st.RaftTerm, st.RaftIndex, st.RaftAppliedIndex, st.Header.Revision)
		}
	}
	status("start")
	rule := nemesis.GrudgeIsolateMember
	if os.Getenv("EH_SNAPSHOT_DIAG_CUT_LEADER") == "1" {
		// Cut the raft leader: the first puts, sent to a member that
		// still follows it, can time out.
		rule = nemesis.GrudgeIsolateRaftLeader
		for i, ep := range (etcd.DB{}).ClientEndpoints(fc.members) {
			sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			st, err := all.Status(sctx, ep)
			cancel()
			if err == nil && st.Leader == st.Header.MemberId {
				fc.exec.Leaders = raftLeaderIs{fc.members[i].Name, st.RaftTerm}
			}
		}
	}
	f := fc.start(t, nemesis.KindPartition, rule)
	cut := f.Targets[0]
	t.Logf("DIAG version %s; cut %s at %s", version, cut, time.Now().Format("15:04:05.000"))
	var others []db.Member
	var cutMember db.Member
	for _, m := range fc.members {
		if m.Name != cut {
			others = append(others, m)
		} else {
			cutMember = m
		}
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcd.DB{}.ClientEndpoints(others), DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	const writes = 2000
	acked := map[int64]int{} // revision -> value
	for i, deadline := 1, time.Now().Add(time.Minute); i <= writes; {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		start := time.Now()
		resp, err := cli.Put(wctx, key, fmt.Sprint(i))
		cancel()
		switch {
		case err == nil:
			acked[resp.Header.Revision] = i
			if i == 1 || i == writes {
				t.Logf("DIAG put %d acked at revision %d by %x", i, resp.Header.Revision, resp.Header.MemberId)
			}
			i++
		case time.Now().After(deadline):
			t.Fatalf("write %d: %v", i, err)
		default:
			t.Logf("DIAG put %d FAILED after %v (%s..%s): %v; retried", i, time.Since(start).Round(time.Millisecond), start.Format("15:04:05.000"), time.Now().Format("15:04:05.000"), err)
		}
	}
	status("before the heal")
	fc.stop(t, f)
	healed := time.Now()
	t.Logf("DIAG healed at %s", healed.Format("15:04:05.000"))

	cutCli, err := clientv3.New(clientv3.Config{Endpoints: etcd.DB{}.ClientEndpoints([]db.Member{cutMember}), DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cutCli.Close()
	last := ""
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := cutCli.Get(gctx, key)
		cancel()
		var line string
		switch {
		case err != nil:
			line = fmt.Sprintf("error %v", err)
		case len(resp.Kvs) != 1:
			line = fmt.Sprintf("%d kvs, header revision %d member %x", len(resp.Kvs), resp.Header.Revision, resp.Header.MemberId)
		default:
			kv := resp.Kvs[0]
			line = fmt.Sprintf("value %q header revision %d member %x raft term %d; key mod %d create %d version %d", kv.Value, resp.Header.Revision, resp.Header.MemberId, resp.Header.RaftTerm, kv.ModRevision, kv.CreateRevision, kv.Version)
		}
		if line != last {
			t.Logf("DIAG +%v linearizable Get %q through %s only (%s): %s", time.Since(healed).Round(time.Millisecond), key, cut, cutCli.Endpoints(), line)
			last = line
		}
	}
	status("after the heal")
	for _, m := range fc.members {
		c, err := clientv3.New(clientv3.Config{Endpoints: etcd.DB{}.ClientEndpoints([]db.Member{m}), DialTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		for _, opts := range [][]clientv3.OpOption{nil, {clientv3.WithSerializable()}} {
			gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			r, err := c.Get(gctx, key, opts...)
			cancel()
			if err != nil || len(r.Kvs) != 1 {
				t.Logf("DIAG %s read (serializable %v): %v", m.Name, opts != nil, err)
				continue
			}
			kv := r.Kvs[0]
			t.Logf("DIAG %s read (serializable %v): value %q header revision %d member %x; mod %d version %d", m.Name, opts != nil, kv.Value, r.Header.Revision, r.Header.MemberId, kv.ModRevision, kv.Version)
		}
		c.Close()
	}
	// Every revision of the store that no acknowledged put of ours
	// made: what wrote it.
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	head, err := all.Get(gctx, key)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	for r := int64(1); r <= head.Header.Revision; r++ {
		if _, ok := acked[r]; ok {
			continue
		}
		gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := all.Get(gctx, "", clientv3.WithPrefix(), clientv3.WithRev(r), clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortDescend), clientv3.WithLimit(1))
		cancel()
		switch {
		case err != nil:
			t.Logf("DIAG revision %d: %v", r, err)
		case len(resp.Kvs) == 0 || resp.Kvs[0].ModRevision != r:
			t.Logf("DIAG revision %d: no live key has it (a delete or a key put over since)", r)
		default:
			kv := resp.Kvs[0]
			t.Logf("DIAG revision %d not from an acknowledged put: key %q value %q version %d", r, kv.Key, kv.Value, kv.Version)
		}
	}
	for _, m := range fc.members {
		logs, err := fc.byName[m.Name].Logs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(logs), "\n") {
			for _, s := range []string{"snapshot", "restor", "became", "elected leader", "lost leader", "dropping", "request stats", "lost TCP"} {
				if strings.Contains(l, s) {
					t.Logf("DIAG log %s: %s", m.Name, l[:min(len(l), 400)])
					break
				}
			}
		}
	}
}

// startFaultClusterVersion is startFaultClusterSnapshotting for a chosen
// etcd version.
func startFaultClusterVersion(t *testing.T, version string, snapshotCount int) *faultCluster {
	t.Helper()
	ctx := context.Background()
	d := etcd.DB{}
	docker, err := cluster.NewDocker(ctx, cluster.DockerOptions{})
	if err != nil {
		t.Fatalf("connecting to Docker: %v", err)
	}
	prep, err := run.PrepareImage(ctx, docker, d, run.Source{Version: version}, db.DefaultCacheDir(), harnessBin, io.Discard)
	if err != nil {
		t.Fatalf("preparing the image: %v", err)
	}
	cspec := run.ClusterSpec(run.Config{Image: prep.Name, Version: version, Nodes: 3, Campaigners: 2, RunID: fmt.Sprintf("snapdiag%d", time.Now().UnixNano()%1e6),
		Nemesis: []string{nemesis.KindPartition}, Recipe: "etcd-election", TTL: run.Duration(3 * time.Second), ElectionPrefix: "/eh/f/election/", SnapshotCount: snapshotCount}, d)
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
	fc.exec = &nemesis.Executor{Members: fc.memberNodes, Campaigners: campaigners, Leaders: noLeaders{}, Recorder: rec,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Membership: run.Membership{DB: d, Members: fc.members, DataDir: "/data"}}
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
		t.Fatalf("etcd %s not ready: %v", version, err)
	}
	return fc
}

// raftLeaderIs tells the nemesis who leads raft.
type raftLeaderIs struct {
	name string
	term uint64
}

func (l raftLeaderIs) RaftLeader() (string, uint64)             { return l.name, l.term }
func (raftLeaderIs) ElectionLeader() (string, *histories.Token) { return "", nil }
func (raftLeaderIs) ElectionLeaderActing() string               { return "" }
