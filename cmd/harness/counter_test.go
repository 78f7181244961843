package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/etcd"
)

// counterWriter puts 1, 2, 3... to one key, a put every pause, each
// with a second's deadline, until stopped: the real-node tests' load.
type counterWriter struct {
	last atomic.Pointer[ackedPut] // the last put that succeeded
	stop context.CancelFunc
	done sync.WaitGroup
}

// ackedPut is a put the cluster acknowledged: its value and the revision
// it was given.
type ackedPut struct {
	Value    int64
	Revision int64
}

func startCounterWriter(ctx context.Context, cli *clientv3.Client, key string, pause time.Duration) *counterWriter {
	w := &counterWriter{}
	w.last.Store(&ackedPut{})
	wctx, stop := context.WithCancel(ctx)
	w.stop = stop
	w.done.Go(func() {
		for i := int64(1); wctx.Err() == nil; i++ {
			pctx, cancel := context.WithTimeout(wctx, time.Second)
			if resp, err := cli.Put(pctx, key, fmt.Sprint(i)); err == nil {
				w.last.Store(&ackedPut{Value: i, Revision: resp.Header.Revision})
			}
			cancel()
			time.Sleep(pause)
		}
	})
	return w
}

// Stop stops the writes and waits for the last; it may be called twice.
func (w *counterWriter) Stop() { w.stop(); w.done.Wait() }

// Last is the last put acknowledged (zero before any).
func (w *counterWriter) Last() ackedPut { return *w.last.Load() }

// readAcked reads key at the acknowledged put's revision through member m
// alone, linearizably, until the member shows that put there (its value
// at its revision) or within passes. It returns what it read last and
// the error of the last read that failed. By revision, not by the latest
// value: a put whose deadline passed may still take effect later than
// puts acknowledged after it, and leave a smaller value last.
func readAcked(ctx context.Context, t *testing.T, m db.Member, key string, want ackedPut, within time.Duration) (ackedPut, error) {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcd.DB{}.ClientEndpoints([]db.Member{m}), DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	var got ackedPut
	var readErr error
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := cli.Get(gctx, key, clientv3.WithRev(want.Revision))
		cancel()
		if err != nil {
			readErr = err // a member still catching up: a future revision
			continue
		}
		got = ackedPut{}
		if len(resp.Kvs) == 1 {
			got.Revision = resp.Kvs[0].ModRevision
			if got.Value, readErr = strconv.ParseInt(string(resp.Kvs[0].Value), 10, 64); readErr == nil && got == want {
				break
			}
		}
	}
	return got, readErr
}

// readSince reads key through member m alone, linearizably, until the
// key's mod revision is fromRev or later or within passes; it returns
// the last answer that held the key (nil if none did) and the error of
// the last read that failed.
func readSince(ctx context.Context, t *testing.T, m db.Member, key string, fromRev int64, within time.Duration) (*clientv3.GetResponse, error) {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcd.DB{}.ClientEndpoints([]db.Member{m}), DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	var got *clientv3.GetResponse
	var readErr error
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := cli.Get(gctx, key)
		cancel()
		if err != nil {
			readErr = err
			continue
		}
		if len(resp.Kvs) == 1 {
			if got = resp; resp.Kvs[0].ModRevision >= fromRev {
				break
			}
		}
	}
	return got, readErr
}
