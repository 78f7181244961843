package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/etcd"
	"github.com/election-harness/harness/nemesis"
)

// --snapshot-count proven on real members: members that snapshot every
// 100 entries and keep 100 for slow followers (their start-up lines say
// so) snapshot 3 or more times over 2000 writes made while one member is
// cut off, and the cut member, healed, applies a snapshot the leader
// sends (its log says so). What it then serves is logged, not asserted:
// reads through it have returned a stale value at the store's revision
// in some runs (SUSPECT lines; docs/findings/snapshot-stale-read.md).
func TestSnapshotCountOnRealNodes(t *testing.T) {
	needDocker(t)
	fc := startFaultClusterSnapshotting(t, false, []string{nemesis.KindPartition}, noLeaders{}, 100)
	ctx := context.Background()
	f := fc.start(t, nemesis.KindPartition, nemesis.GrudgeIsolateMember)
	cut := f.Targets[0]
	var others []db.Member
	for _, m := range fc.members {
		if m.Name != cut {
			others = append(others, m)
		}
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcd.DB{}.ClientEndpoints(others), DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	// More writes than the leader keeps in flight to one follower (etcd:
	// 512 messages): the first ones, queued on the cut connection before
	// it was cut, still arrive when it heals, the rest must come by
	// snapshot.
	const writes = 2000
	// The first writes wait for the others to elect a leader if the cut
	// member led.
	for i, deadline := 1, time.Now().Add(time.Minute); i <= writes; {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := cli.Put(wctx, "/eh/snapshot/k", fmt.Sprint(i))
		cancel()
		switch {
		case err == nil:
			i++
		case time.Now().After(deadline):
			t.Fatalf("write %d through %s and %s while %s is cut off: %v", i, others[0].Name, others[1].Name, cut, err)
		}
	}
	allEndpoints := etcd.DB{}.ClientEndpoints(fc.members)
	for i, ep := range allEndpoints {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if st, err := cli.Status(sctx, ep); err == nil {
			t.Logf("before the heal %s: raft index %d applied %d", fc.members[i].Name, st.RaftIndex, st.RaftAppliedIndex)
		}
		cancel()
	}
	fc.stop(t, f)

	var cutMember db.Member
	for _, m := range fc.members {
		if m.Name == cut {
			cutMember = m
		}
	}
	cutCli, err := clientv3.New(clientv3.Config{Endpoints: etcd.DB{}.ClientEndpoints([]db.Member{cutMember}), DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cutCli.Close()
	var got string
	var lastErr error
	var lastRev int64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && got != fmt.Sprint(writes); time.Sleep(200 * time.Millisecond) {
		gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := cutCli.Get(gctx, "/eh/snapshot/k")
		cancel()
		lastErr = err
		if err == nil {
			lastRev = resp.Header.Revision
			if len(resp.Kvs) == 1 {
				got = string(resp.Kvs[0].Value)
			}
		}
	}
	if got != fmt.Sprint(writes) {
		// Seen in 3 of 10 runs on 2026-12-07 (docs/findings/
		// snapshot-stale-read.md): the cut member answered a linearizable
		// read at the store's revision without the last write. Not yet
		// settled as etcd's, so logged with what the members hold, not
		// failed: this test proves the snapshot catch-up.
		t.Logf("SUSPECT: after the heal %s reads %q at revision %d (error %v), want the last write %d", cut, got, lastRev, lastErr, writes)
		for _, m := range fc.members {
			c, _ := clientv3.New(clientv3.Config{Endpoints: etcd.DB{}.ClientEndpoints([]db.Member{m}), DialTimeout: 2 * time.Second})
			hctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			h, herr := c.HashKV(hctx, etcd.DB{}.ClientEndpoints([]db.Member{m})[0], lastRev)
			r, rerr := c.Get(hctx, "/eh/snapshot/k", clientv3.WithSerializable())
			r2, _ := c.Get(hctx, "/eh/snapshot/k", clientv3.WithRev(lastRev))
			cancel()
			c.Close()
			if herr == nil && rerr == nil && len(r.Kvs) == 1 {
				t.Logf("SUSPECT %s: hash at %d %d; serializable read %q (mod %d, header %d); read at %d: %v", m.Name, lastRev, h.Hash, r.Kvs[0].Value, r.Kvs[0].ModRevision, r.Header.Revision, lastRev, r2)
			} else {
				t.Logf("SUSPECT %s: %v %v", m.Name, herr, rerr)
			}
		}
	}
	if got != fmt.Sprint(writes) {
		eps := etcd.DB{}.ClientEndpoints(fc.members)
		for i, ep := range eps {
			sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			st, err := cli.Status(sctx, ep)
			cancel()
			if err == nil {
				t.Logf("%s: leader %x term %d raft index %d applied %d errors %v", fc.members[i].Name, st.Leader, st.RaftTerm, st.RaftIndex, st.RaftAppliedIndex, st.Errors)
			} else {
				t.Logf("%s: %v", fc.members[i].Name, err)
			}
		}
		if logs, err := fc.byName[cut].Logs(ctx); err == nil {
			lines := strings.Split(string(logs), "\n")
			for _, l := range lines[max(0, len(lines)-25):] {
				t.Log(l[:min(len(l), 250)])
			}
		}
	}
	// Its applied index as its status reports it, logged: on v3.6.16 it
	// has been seen to stay at the cut's index for 30 s while reads
	// through the member returned the last write.
	for i, ep := range (etcd.DB{}).ClientEndpoints(fc.members) {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if st, err := cli.Status(sctx, ep); err == nil {
			t.Logf("after the heal %s: raft index %d applied %d", fc.members[i].Name, st.RaftIndex, st.RaftAppliedIndex)
		}
		cancel()
	}
	// The others snapshotted every 100 entries: at least 3 times.
	for _, m := range others {
		logs, err := fc.byName[m.Name].Logs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(logs), `"msg":"triggering snapshot"`); n < 3 {
			t.Errorf("%s snapshotted %d times over %d writes with --snapshot-count 100", m.Name, n, writes)
		}
	}
	// Its log ended 2000 entries back, at most 512 were on their way
	// and the others kept 100: it can only have caught up from a
	// snapshot the leader sent. Its log
	// lines reach the container's log a moment after they are written.
	var logs []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if logs, err = fc.byName[cut].Logs(ctx); err == nil && strings.Contains(string(logs), `"msg":"applied snapshot"`) {
			return
		}
	}
	for _, l := range strings.Split(string(logs), "\n") {
		if strings.Contains(l, "snapshot") || strings.Contains(l, "became follower") {
			t.Log(l[:min(len(l), 300)])
		}
	}
	t.Errorf("%s caught up without applying a snapshot from the leader (%v)", cut, err)

}
