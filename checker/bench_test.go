package checker

import (
	"context"
	"testing"

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

// BenchmarkCheck10kEvents is the checker's time per 10,000 events of a
// realistic history, porcupine included.
func BenchmarkCheck10kEvents(b *testing.B) {
	events := synthetic.Run(10000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, _ := Check(context.Background(), events, syntheticOpts)
		if res.Valid != Valid {
			b.Fatalf("%s: %s", res.Valid, res.Summary)
		}
	}
	b.ReportMetric(float64(len(events)), "events")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*10000/float64(len(events))*1000, "ms/10k-events")
}
