package etcd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/wait"
)

// progressEvery is how often a watcher asks its member for a progress
// notification during the run: each is a bookmark P11 judges.
const progressEvery = time.Second

// NewWatch opens a watcher pinned to m: a client of m's endpoint alone.
// It watches as concurrency.Election's Observe does, with no
// require-leader, so a member cut off goes silent and catches up later.
func (e DB) NewWatch(m db.Member, prefix string) (db.MemberWatch, error) {
	cli, err := etcdClient(e.ClientEndpoints([]db.Member{m}))
	if err != nil {
		return nil, err
	}
	return &memberWatch{cli: cli, member: m.Name, prefix: prefix, Progress: db.NewProgress()}, nil
}

type memberWatch struct {
	cli    *clientv3.Client
	member string
	prefix string
	*db.Progress
}

// event is a watch event of this watcher, its Time left to the recorder.
func (w *memberWatch) event(t histories.Type, f string) histories.Event {
	return histories.Event{Type: t, Process: histories.WatchProcess(w.member), F: f, Member: &histories.MemberStatus{Name: w.member}}
}

func (w *memberWatch) Run(ctx context.Context, emit func(histories.Event)) error {
	defer w.cli.Close()
	go wait.Every(ctx, progressEvery, func(time.Time) {
		rctx, cancel := context.WithTimeout(ctx, progressEvery)
		defer cancel()
		_ = w.cli.RequestProgress(rctx)
	})
	next := int64(0) // 0: from the member's revision when it first answers
	for ctx.Err() == nil {
		var err error
		next, err = w.follow(ctx, next, emit)
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// follow runs one watch from revision next (0: from now) until it ends,
// and returns the revision a resume starts from; an error when it
// cannot resume (compacted).
func (w *memberWatch) follow(ctx context.Context, next int64, emit func(histories.Event)) (int64, error) {
	if next == 0 {
		// A watch from "now" that the client library resumes before its
		// first event restarts at the revision it was created at, one
		// before its first, and may deliver a change from before it began:
		// a watch from an explicit revision has no such edge.
		gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := w.cli.Get(gctx, w.prefix, clientv3.WithPrefix(), clientv3.WithCountOnly(), clientv3.WithSerializable())
		cancel()
		if err != nil {
			return 0, nil // the member does not answer: try again
		}
		next = resp.Header.Revision + 1
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithCreatedNotify(), clientv3.WithPrevKV(), clientv3.WithRev(next)}
	started := false
	end := w.event(histories.Info, histories.FWatchEnd)
	for resp := range w.cli.Watch(wctx, w.prefix, opts...) {
		if err := resp.Err(); err != nil {
			end.Error = err.Error()
			if errors.Is(err, rpctypes.ErrCompacted) {
				end.Revision = resp.CompactRevision
			}
			break
		}
		if resp.Created {
			start := w.event(histories.Info, histories.FWatchStart)
			start.Revision = next
			emit(start)
			started = true
			continue
		}
		if !started {
			// The client library sends the created notification first.
			end.Error = "a watch response came before the watch was created"
			break
		}
		got := w.event(histories.OK, histories.FWatched)
		got.Revision = resp.Header.Revision
		if resp.IsProgressNotify() {
			got.Value = histories.WatchProgress
			emit(got)
			w.Advance(resp.Header.Revision)
			continue
		}
		for _, ev := range resp.Events {
			c := histories.Change{Key: string(ev.Kv.Key), Revision: ev.Kv.ModRevision, CreateRevision: ev.Kv.CreateRevision}
			if ev.Type == mvccpb.DELETE {
				c.Delete = true
				if ev.PrevKv != nil {
					c.CreateRevision = ev.PrevKv.CreateRevision
				}
			} else {
				c.Value = string(ev.Kv.Value)
			}
			got.Changes = append(got.Changes, c)
		}
		emit(got)
		if n := len(resp.Events); n > 0 {
			next = resp.Events[n-1].Kv.ModRevision + 1
			w.Advance(resp.Events[n-1].Kv.ModRevision)
		}
	}
	if ctx.Err() != nil && end.Revision == 0 {
		end.Error = "" // the harness closed it
	}
	if !started && end.Error == "" {
		return next, nil // closed before it began: nothing to say
	}
	if end.Error == "" && ctx.Err() == nil {
		end.Error = "the watch channel closed"
	}
	emit(end)
	if end.Revision != 0 {
		return next, fmt.Errorf("the watch of %s cannot resume from %d: compacted at %d", w.member, next, end.Revision)
	}
	return next, nil
}

// Sync asks for progress until the watch reaches the member's current
// revision.
func (w *memberWatch) Sync(ctx context.Context) error {
	resp, err := w.cli.Get(ctx, w.prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return fmt.Errorf("reading %s's revision: %w", w.member, err)
	}
	return w.WaitFor(ctx, resp.Header.Revision, func() { _ = w.cli.RequestProgress(ctx) })
}
