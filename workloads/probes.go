package workloads

import (
	"context"
	"sync"
	"time"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/histories"
)

// ProbeProcess is the process name of a member's probe.
func ProbeProcess(member string) string { return "probe:" + member }

// RunProbes polls every member's own raft view every interval, each with
// its own deadline, and records what it saw, until ctx is done.
func RunProbes(ctx context.Context, rec *histories.Recorder, probes map[string]db.Probe, interval, deadline time.Duration) {
	var wg sync.WaitGroup
	for name, p := range probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				pctx, cancel := context.WithTimeout(ctx, deadline)
				st, err := p.Probe(pctx)
				cancel()
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					rec.Record(histories.Event{Type: histories.Fail, Process: ProbeProcess(name), F: histories.FStatus, Error: err.Error()})
				} else {
					st.Name = name
					rec.Record(histories.Event{Type: histories.OK, Process: ProbeProcess(name), F: histories.FStatus, Member: &st})
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	wg.Wait()
}
