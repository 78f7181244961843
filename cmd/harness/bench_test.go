package main

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/election-harness/harness/cluster"
	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/etcd"
	"github.com/election-harness/harness/run"
)

// BenchmarkWarmStart measures a warm start: with the etcd binary and the
// node image cached, from asking for a 3-member cluster to its first
// linearizable operation. Needs Docker and the harness built static
// (TestMain does that; `make bench` runs it).
func BenchmarkWarmStart(b *testing.B) {
	ctx := context.Background()
	d := etcd.DB{}
	docker, err := cluster.NewDocker(ctx, cluster.DockerOptions{})
	if err != nil {
		b.Fatalf("connecting to Docker: %v", err)
	}
	prep, err := run.PrepareImage(ctx, docker, d, run.Source{Version: d.DefaultVersion()}, db.DefaultCacheDir(), harnessBin, io.Discard)
	if err != nil {
		b.Fatalf("preparing the image: %v", err)
	}
	cfg := run.Config{Image: prep.Name, Nodes: 3, RunID: "bench", Recipe: "etcd-election", TTL: run.Duration(3 * time.Second)}
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cfg.RunID = fmt.Sprintf("bench%d", i)
		start := time.Now()
		cl, err := docker.Start(ctx, run.ClusterSpec(cfg, d))
		if err != nil {
			b.Fatalf("starting: %v", err)
		}
		var members []db.Member
		for _, n := range cl.Nodes() {
			if n.Role() == cluster.RoleMember {
				members = append(members, db.Member{Name: n.Name(), IP: n.IP()})
			}
		}
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		err = d.WaitReady(wctx, members)
		cancel()
		elapsed := time.Since(start)
		b.StopTimer()
		cl.Close(ctx)
		b.StartTimer()
		if err != nil {
			b.Fatalf("waiting for the first operation: %v", err)
		}
		total += elapsed
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-to-first-op")
}
