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
	"github.com/election-harness/harness/internal/wait"
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
	// regressedBelow is the lowest revision reported as gone back to.
	regressedBelow atomic.Int64
}

// regressionEvery is how often the record reads the store's revision to
// see whether it went back: soon after a loss, before new writes reissue
// the lost revisions and the store's revision passes the record's again.
const regressionEvery = 100 * time.Millisecond

func (r *etcdRecord) Run(ctx context.Context, emit func(histories.Event)) error {
	r.emit.Store(&emit)
	defer r.cli.Close()
	go wait.Every(ctx, regressionEvery, func(time.Time) {
		rctx, cancel := context.WithTimeout(ctx, regressionEvery)
		defer cancel()
		seen := r.Seen()
		if resp, err := r.cli.Get(rctx, r.prefix, clientv3.WithPrefix(), clientv3.WithCountOnly()); err == nil {
			r.checkRegression(seen, resp.Header.Revision)
		}
	})
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
			// Only events advance the record: a progress notification
			// could run ahead of the stream's events before v3.5.8
			// (#15220), and a record trusting it would end early and
			// call writes after it lost.
			if n := len(resp.Events); n > 0 {
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
	if ev.PrevKv != nil {
		e.PrevRevision = ev.PrevKv.ModRevision
	}
	if kv.Lease != 0 {
		e.Session = strconv.FormatInt(kv.Lease, 16)
	}
	return e
}

// checkRegression reports, once per new low, a store whose linearizable
// revision now is below seen, what the record had seen before the read
// was sent: it lost changes it had acknowledged (a power loss, etcd
// #14370), and its reissued revisions never reach a watch waiting past
// them. Seen after the read would race with changes committed while it
// was answered, a false alarm (found so: one revision below).
func (r *etcdRecord) checkRegression(seen, now int64) bool {
	if now >= seen {
		return false
	}
	if low := r.regressedBelow.Load(); low != 0 && now >= low {
		return true
	}
	r.regressedBelow.Store(now)
	if emit := r.emit.Load(); emit != nil {
		(*emit)(histories.Event{Type: histories.Info, F: histories.FStoreRegressed, Process: histories.ProcessStore,
			Revision: now, Value: strconv.FormatInt(seen, 10)})
	}
	return true
}

// RecordEndKey, under the run's prefix, is written once at the end of
// the run: the record is read to its end when it delivers that write.
const RecordEndKey = "record-end"

// Kind: a watch from revision 1 sees every change.
func (r *etcdRecord) Kind() string { return histories.RecordEveryChange }

func (r *etcdRecord) Sync(ctx context.Context) error {
	seen := r.Seen()
	// A write under the prefix marks the end: the record is complete
	// once it delivers it (the store's revision alone could only be
	// awaited through progress notifications).
	resp, err := r.cli.Put(ctx, r.prefix+RecordEndKey, "")
	if err != nil {
		return fmt.Errorf("writing the record's end mark: %w", err)
	}
	end := resp.Header.Revision
	if r.checkRegression(seen, end-1) {
		return nil
	}
	if err := r.WaitFor(ctx, end, nil); err != nil {
		return err
	}
	// The state the record's changes must build, read at its end.
	state, err := r.cli.Get(ctx, r.prefix, clientv3.WithPrefix(), clientv3.WithRev(end))
	if err != nil {
		return nil // the record is whole; only the cross-check is lost
	}
	ev := histories.Event{Type: histories.OK, F: histories.FStoreState, Process: histories.ProcessStore, Revision: end}
	for _, kv := range state.Kvs {
		ev.Changes = append(ev.Changes, histories.Change{Key: string(kv.Key), Value: string(kv.Value), Revision: kv.ModRevision, CreateRevision: kv.CreateRevision})
	}
	if emit := r.emit.Load(); emit != nil {
		(*emit)(ev)
	}
	return nil
}
