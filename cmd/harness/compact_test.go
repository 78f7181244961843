package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/election-harness/harness/db/etcd"
	"github.com/election-harness/harness/nemesis"
	"github.com/election-harness/harness/run"
)

// Compaction and defragmentation proven on real members: the storm
// compacts the store again and again while writes go on, never past
// what the record has read (held back here, then let go), and stops
// when healed; a defragmented member gives back the space a deletion
// and a compaction freed.
func TestCompactAndDefragOnRealNodes(t *testing.T) {
	needDocker(t)
	fc := startFaultClusterFor(t, false, []string{nemesis.KindCompact, nemesis.KindDefrag}, noLeaders{})
	ctx := context.Background()
	var recorded atomic.Int64 // the record's progress, as the test sets it
	fc.exec.Maintenance = run.Maintenance{DB: etcd.DB{}, Members: fc.members, Recorded: recorded.Load}
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcd.DB{}.ClientEndpoints(fc.members), DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	head := func() int64 {
		resp, err := cli.Get(ctx, "/eh/compact/k")
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Revision
	}
	compacted := func(rev int64) bool {
		_, err := cli.Get(ctx, "/eh/compact/k", clientv3.WithRev(rev))
		if err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
			t.Fatal(err)
		}
		return err != nil
	}
	wctx, stopWrites := context.WithCancel(ctx)
	var writes sync.WaitGroup
	writes.Go(func() {
		for i := 0; wctx.Err() == nil; i++ {
			pctx, cancel := context.WithTimeout(wctx, time.Second)
			_, _ = cli.Put(pctx, "/eh/compact/k", fmt.Sprint(i))
			cancel()
			time.Sleep(10 * time.Millisecond)
		}
	})
	defer func() { stopWrites(); writes.Wait() }()
	for head() < 100 {
		time.Sleep(100 * time.Millisecond)
	}

	// Held back by the record: compacted to exactly its progress.
	held := head() - 50
	recorded.Store(held)
	f, err := fc.exec.Start(ctx, nemesis.Step{Kind: nemesis.KindCompact, Rule: nemesis.CompactStorm, Duration: 5 * time.Second, Pick: 1})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if !compacted(held-1) || compacted(held) {
		t.Fatalf("with the record at %d, revision %d compacted: %v, %d: %v; want compacted to the record's progress exactly", held, held-1, compacted(held-1), held, compacted(held))
	}
	// Let go: the storm keeps up with the head, 10 revisions behind.
	recorded.Store(1 << 62)
	time.Sleep(time.Second)
	if h := head(); !compacted(h - 40) {
		t.Errorf("the storm let go of: revision %d (head %d) not compacted after a second", h-40, h)
	}
	if err := fc.exec.Stop(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	after := head()
	time.Sleep(time.Second)
	if compacted(after) {
		t.Errorf("revision %d, the head when the storm stopped, was compacted after it stopped", after)
	}
	stopWrites()
	writes.Wait()

	// Space to give back: 4 MB written, deleted, compacted away.
	value := strings.Repeat("x", 8<<10)
	for i := range 500 {
		if _, err := cli.Put(ctx, fmt.Sprintf("/eh/compact/big/%03d", i), value); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli.Delete(ctx, "/eh/compact/big/", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, head(), clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	size := func(member string) int64 {
		ep := etcd.DB{}.ClientEndpoints(fc.members)
		for i, m := range fc.members {
			if m.Name == member {
				st, err := cli.Status(ctx, ep[i])
				if err != nil {
					t.Fatal(err)
				}
				return st.DbSize
			}
		}
		t.Fatalf("no member %s", member)
		return 0
	}
	f, err = fc.exec.Start(ctx, nemesis.Step{Kind: nemesis.KindDefrag, Rule: nemesis.TargetRandomMember, Duration: time.Second, Pick: 1})
	if err != nil {
		t.Fatal(err)
	}
	target := f.Targets[0]
	if err := fc.exec.Stop(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	var other string
	for _, m := range fc.members {
		if m.Name != target {
			other = m.Name
		}
	}
	t.Logf("after the defrag of %s: its backend %d bytes, %s's (not defragmented) %d", target, size(target), other, size(other))
	if size(target) >= size(other)-(2<<20) {
		t.Errorf("the defragmented member %s holds %d bytes, %s %d: want it 2 MB smaller at least", target, size(target), other, size(other))
	}
}
