package etcd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/histories"
)

// NewRecord follows every change under prefix with a watch from
// revision 1.
func (e DB) NewRecord(all []db.Member, prefix string) (db.StoreRecord, error) {
	cli, err := etcdClient(e.ClientEndpoints(all))
	if err != nil {
		return nil, err
	}
	return &etcdRecord{cli: cli, prefix: prefix, Progress: db.NewProgress()}, nil
}

type etcdRecord struct {
	cli    *clientv3.Client
	prefix string
	*db.Progress
	// emit is Run's, for Sync to report a store gone back in time.
	emit atomic.Pointer[func(histories.Event)]
}

func (r *etcdRecord) Run(ctx context.Context, emit func(histories.Event)) error {
	r.emit.Store(&emit)
	defer r.cli.Close()
	next := int64(1)
	for ctx.Err() == nil {
		// RequireLeader: a member cut off in a minority cancels the
		// watch instead of going silent, and the client moves on.
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		wch := r.cli.Watch(wctx, r.prefix, clientv3.WithPrefix(), clientv3.WithRev(next), clientv3.WithPrevKV(), clientv3.WithProgressNotify())
		for resp := range wch {
			if err := resp.Err(); err != nil {
				if errors.Is(err, rpctypes.ErrCompacted) {
					cancel()
					return fmt.Errorf("the store's record is compacted at %d: it cannot be complete", resp.CompactRevision)
				}
				break
			}
			for _, ev := range resp.Events {
				emit(storeEvent(ev))
				next = ev.Kv.ModRevision + 1
			}
			if resp.IsProgressNotify() {
				r.Advance(resp.Header.Revision)
			} else if n := len(resp.Events); n > 0 {
				r.Advance(resp.Events[n-1].Kv.ModRevision)
			}
		}
		cancel()
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

func storeEvent(ev *clientv3.Event) histories.Event {
	e := histories.Event{Type: histories.OK, Process: histories.ProcessStore, Key: string(ev.Kv.Key), Revision: ev.Kv.ModRevision}
	kv := ev.Kv
	if ev.Type == mvccpb.DELETE {
		e.F = histories.FStoreDelete
		if ev.PrevKv != nil {
			kv = ev.PrevKv
		}
	} else {
		e.F = histories.FStorePut
		e.Value = string(kv.Value)
	}
	e.CreateRevision = kv.CreateRevision
	if kv.Lease != 0 {
		e.Session = strconv.FormatInt(kv.Lease, 16)
	}
	return e
}

// Kind: a watch from revision 1 sees every change.
func (r *etcdRecord) Kind() string { return histories.RecordEveryChange }

func (r *etcdRecord) Sync(ctx context.Context) error {
	resp, err := r.cli.Get(ctx, r.prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return fmt.Errorf("reading the current revision: %w", err)
	}
	// A store that lost acknowledged changes (a power loss, etcd
	// #14370) answers below what its record saw, and its reissued
	// revisions never reach a watch waiting past them.
	if now, seen := resp.Header.Revision, r.Seen(); now < seen {
		if emit := r.emit.Load(); emit != nil {
			(*emit)(histories.Event{Type: histories.Info, F: histories.FStoreRegressed, Process: histories.ProcessStore,
				Revision: now, Value: strconv.FormatInt(seen, 10)})
		}
		return nil
	}
	// Ask the watch to report how far it has got.
	return r.WaitFor(ctx, resp.Header.Revision, func() { _ = r.cli.RequestProgress(clientv3.WithRequireLeader(ctx)) })
}
