package checker

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/synthetic"
)

var syntheticOpts = Options{ElectionPrefix: synthetic.ElectionPrefix, RegisterPrefix: synthetic.RegisterPrefix, TTL: 3e9}

func TestSyntheticRunIsValid(t *testing.T) {
	res := mustCheck(t, synthetic.Run(3000), syntheticOpts)
	if res.Valid != Valid {
		t.Fatalf("synthetic run: %s: %s", res.Valid, res.Summary)
	}
	for _, c := range res.Checks {
		if c.Verdict != Valid {
			t.Errorf("%s: %s %v %v", c.Name, c.Verdict, c.Notes, c.Evidence)
		}
	}
}

// benchmarkCheck checks a realistic history of about n events (reads
// across writes, timed-out writes, some never landing) and reports
// events per second and the peak heap while checking, the history
// itself included.
func benchmarkCheck(b *testing.B, n int) {
	benchmarkEvents(b, synthetic.Run(n))
}

// benchmarkSampled checks the same history as if its store record were
// sampled (Consul's): the store's order of the puts is not known, so
// the zone check decides, and porcupine's second opinion stops at
// crossCheckLimit operations.
func benchmarkSampled(b *testing.B, n int) {
	events := synthetic.Run(n)
	for i := range events {
		if events[i].F == histories.FStoreRecord {
			events[i].Value = histories.RecordSampled
		}
	}
	benchmarkEvents(b, events)
}

func benchmarkEvents(b *testing.B, events []histories.Event) {
	b.ReportAllocs()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Check(context.Background(), events, syntheticOpts)
		if err != nil {
			b.Fatal(err)
		}
		if res.Valid != Valid {
			b.Fatalf("%s: %s", res.Valid, res.Summary)
		}
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	perCheck := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(len(events)), "events")
	b.ReportMetric(float64(len(events))/perCheck, "events/s")
	b.ReportMetric(perCheck, "s/check")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}

func BenchmarkCheck10kEvents(b *testing.B)  { benchmarkCheck(b, 10_000) }
func BenchmarkCheck100kEvents(b *testing.B) { benchmarkCheck(b, 100_000) }
func BenchmarkCheck1MEvents(b *testing.B)   { benchmarkCheck(b, 1_000_000) }

func BenchmarkCheck1MEventsSampledRecord(b *testing.B) { benchmarkSampled(b, 1_000_000) }

// BenchmarkCheck5MEvents shows that a very long run still gets a verdict.
func BenchmarkCheck5MEvents(b *testing.B) { benchmarkCheck(b, 5_000_000) }
