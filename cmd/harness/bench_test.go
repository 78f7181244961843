package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/election-harness/harness/cluster"
	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/etcd"
	"github.com/election-harness/harness/histories"
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

// BenchmarkGateRun60s is one gate run as CI makes it, from a warm cache:
// `harness run --time-limit 60s` (the default test's settings) to its
// verdict, and where the wall time goes, from config.json's start and
// the history's phases: image (the node image found), setup (the
// cluster up to the workload's start), workload (faults and heal), final
// reads, end checks (the members' digests for P9, the watchers' catch-up
// for P11, the store's record read to its end), and the rest: the log
// scan for P10, the check and the report.
func BenchmarkGateRun60s(b *testing.B) {
	if _, err := exec.LookPath("docker"); err != nil {
		b.Skip("needs Docker")
	}
	var sums = map[string]float64{}
	for i := 0; i < b.N; i++ {
		store := b.TempDir()
		start := time.Now()
		cmd := exec.Command(harnessBin, "run", "--time-limit", "60s", "--seed", fmt.Sprint(i+1), "--store", store)
		if out, err := cmd.CombinedOutput(); err != nil {
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 2 {
				b.Fatalf("harness run: %v\n%s", err, out)
			}
		}
		total := time.Since(start)
		dir, err := filepath.EvalSymlinks(filepath.Join(store, "latest"))
		if err != nil {
			b.Fatal(err)
		}
		var cfg run.Config
		cb, _ := os.ReadFile(filepath.Join(dir, histories.ConfigFile))
		if err := json.Unmarshal(cb, &cfg); err != nil {
			b.Fatal(err)
		}
		read, err := histories.ReadFile(filepath.Join(dir, histories.HistoryFile))
		if err != nil {
			b.Fatal(err)
		}
		phase := map[string]float64{}
		for _, e := range read.Events {
			if e.F == histories.FPhase {
				phase[e.Value] = float64(e.Time) / 1e9
			}
		}
		image := cfg.Started.Sub(start).Seconds()
		sums["total-s"] += total.Seconds()
		sums["image-s"] += image
		sums["setup-s"] += phase[histories.PhaseStart]
		sums["workload-s"] += phase[histories.PhaseFinalReads] - phase[histories.PhaseStart]
		sums["final-reads-s"] += phase[histories.PhaseEnd] - phase[histories.PhaseFinalReads]
		sums["end-checks-s"] += phase[histories.PhaseRecord] - phase[histories.PhaseEnd]
		sums["record-check-s"] += total.Seconds() - image - phase[histories.PhaseRecord]
	}
	for k, v := range sums {
		b.ReportMetric(v/float64(b.N), k)
	}
}
