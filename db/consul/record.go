package consul

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/histories"
)

// consulRecordWait bounds each blocking query, so that a query to a
// server that went silent is retried.
const consulRecordWait = 3 * time.Second

// consulRecord is Consul's own record of the keys under a prefix. Consul
// keeps no history, so the record is assembled from blocking queries. One
// loop per server reads stale, so that every server reports the states it
// applies, and the loops are merged by modify index. A state that lasted
// less than a query's round trip on every server can be missed. For lock
// keys a miss is detected, since LockIndex rises by exactly one per
// acquisition, and recorded as a gap.
//
// A lock key (one with a LockIndex) is written to the history in the form
// the checker reads for every store. Each acquisition is a store-put whose
// Session is the holder. Its CreateRevision is the key's ModifyIndex at
// acquisition, which is the term's Seq. Its release, or the next
// acquisition, is a store-delete of that incarnation. Other keys' states
// are plain store-puts.
type consulRecord struct {
	prefix  string
	servers []*api.Client

	mu   sync.Mutex
	keys map[string]*keyState
	// progress: the largest LastIndex of any query merged.
	*db.Progress
}

// keyState is what the record has emitted for one key.
type keyState struct {
	modifyIndex uint64
	lockIndex   uint64
	// holder is the current acquisition, if the lock is held.
	holder  *histories.Event
	deleted bool
}

// Kind: blocking queries sample states; a short-lived one can be missed.
func (r *consulRecord) Kind() string { return histories.RecordSampled }

func (r *consulRecord) Run(ctx context.Context, emit func(histories.Event)) error {
	var wg sync.WaitGroup
	for _, cli := range r.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.follow(ctx, cli, emit)
		}()
	}
	wg.Wait()
	return nil
}

// follow runs blocking queries against one server until ctx is done.
func (r *consulRecord) follow(ctx context.Context, cli *api.Client, emit func(histories.Event)) {
	var index uint64
	for ctx.Err() == nil {
		q := (&api.QueryOptions{AllowStale: true, WaitIndex: index, WaitTime: consulRecordWait}).WithContext(ctx)
		pairs, meta, err := cli.KV().List(r.prefix, q)
		if err != nil {
			index = 0 // the server may have restarted with an older state
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		if meta.LastIndex < index {
			index = 0 // Consul's rule: an index going back means start over
		} else {
			index = meta.LastIndex
		}
		r.merge(pairs, meta.LastIndex, emit)
	}
}

// merge folds one server's snapshot at lastIndex into the record.
func (r *consulRecord) merge(pairs api.KVPairs, lastIndex uint64, emit func(histories.Event)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].ModifyIndex < pairs[j].ModifyIndex })
	present := map[string]bool{}
	for _, p := range pairs {
		present[p.Key] = true
		st := r.keys[p.Key]
		if st == nil {
			st = &keyState{}
			r.keys[p.Key] = st
		}
		if p.ModifyIndex <= st.modifyIndex {
			continue // already merged from this or another server
		}
		st.modifyIndex, st.deleted = p.ModifyIndex, false
		if p.LockIndex == 0 {
			emit(histories.Event{Type: histories.OK, Process: histories.ProcessStore, F: histories.FStorePut,
				Key: p.Key, Value: string(p.Value), Revision: int64(p.ModifyIndex), CreateRevision: int64(p.CreateIndex), Session: p.Session})
			continue
		}
		r.mergeLock(st, p, emit)
	}
	// A key absent from a snapshot newer than its last state is deleted.
	for key, st := range r.keys {
		if present[key] || st.deleted || lastIndex <= st.modifyIndex {
			continue
		}
		st.deleted = true
		st.modifyIndex = lastIndex
		if st.holder != nil {
			r.release(st, int64(lastIndex), emit)
		} else {
			emit(histories.Event{Type: histories.OK, Process: histories.ProcessStore, F: histories.FStoreDelete, Key: key, Revision: int64(lastIndex)})
		}
		st.lockIndex = 0
	}
	r.Advance(int64(lastIndex))
}

// mergeLock turns a new state of a lock key into acquisitions and
// releases.
func (r *consulRecord) mergeLock(st *keyState, p *api.KVPair, emit func(histories.Event)) {
	sameTerm := st.holder != nil && p.Session == st.holder.Session && p.LockIndex == st.lockIndex
	if st.holder != nil && !sameTerm {
		r.release(st, int64(p.ModifyIndex), emit)
	}
	// Acquisitions between the last one merged and this state that no
	// server reported.
	missed := int64(p.LockIndex) - int64(st.lockIndex)
	if p.Session != "" && !sameTerm {
		missed-- // this state is itself an acquisition
	}
	if missed > 0 && st.lockIndex > 0 {
		emit(histories.Event{Type: histories.Info, Process: histories.ProcessStore, F: histories.FStoreGap,
			Key: p.Key, Revision: int64(p.ModifyIndex), Value: fmt.Sprintf("%d acquisitions missed", missed)})
	}
	st.lockIndex = p.LockIndex
	if p.Session != "" && !sameTerm {
		e := histories.Event{Type: histories.OK, Process: histories.ProcessStore, F: histories.FStorePut,
			Key: p.Key, Value: string(p.Value), Revision: int64(p.ModifyIndex), CreateRevision: int64(p.ModifyIndex), Session: p.Session}
		emit(e)
		st.holder = &e
	}
}

// release ends the current acquisition at revision rev.
func (r *consulRecord) release(st *keyState, rev int64, emit func(histories.Event)) {
	h := st.holder
	emit(histories.Event{Type: histories.OK, Process: histories.ProcessStore, F: histories.FStoreDelete,
		Key: h.Key, Revision: rev, CreateRevision: h.CreateRevision, Session: h.Session})
	st.holder = nil
}

// Sync waits until the merged record has reached the index a consistent
// read of the prefix returns now.
func (r *consulRecord) Sync(ctx context.Context) error {
	var target uint64
	var last error
	for _, cli := range r.servers {
		_, meta, err := cli.KV().List(r.prefix, (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx))
		if err == nil {
			target = meta.LastIndex
			last = nil
			break
		}
		last = err
	}
	if last != nil {
		return fmt.Errorf("reading the current index: %w", last)
	}
	return r.WaitFor(ctx, int64(target), nil)
}
