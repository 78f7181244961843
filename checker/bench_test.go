package checker

import (
	"context"
	"fmt"
	"testing"

	"github.com/election-harness/harness/histories"
)

// syntheticRun builds a valid history of about n events shaped like a
// real run: five campaigners take turns to lead, each leader writes the
// register while the others read it, every member is probed, observers
// follow, and the store's record holds every put and delete.
func syntheticRun(n int) *builder {
	b := &builder{}
	now := 0.0
	tick := func(d float64) float64 { now += d; return now }
	b.phase(tick(1), histories.PhaseStart)
	rev := int64(1)
	value := ""
	for term := 0; len(b.events) < n; term++ {
		c := fmt.Sprintf("c%d", term%5+1)
		rev++
		tokRev := rev
		op := b.invoke(tick(1), c, histories.FCampaign, "", c, nil)
		b.elect(tick(1), c, tokRev)
		tok := token(c, tokRev)
		b.complete(tick(1), op, histories.OK, "", tok)
		for r := 1; r <= 5; r++ {
			b.observe(tick(0.1), fmt.Sprintf("c%d", r), c, tokRev)
		}
		for w := 1; w <= 20; w++ {
			v := fmt.Sprintf("%s/%d/%d", c, tokRev, w)
			wop := b.invoke(tick(1), c, histories.FWrite, testRegister, v, tok)
			rev++
			b.storePut(tick(2), testRegister, v, rev, 3)
			b.complete(tick(1), wop, histories.OK, "", nil)
			value = v
			reader := fmt.Sprintf("c%d:r", (term+w)%5+1)
			rop := b.invoke(tick(1), reader, histories.FRead, testRegister, "", nil)
			b.complete(tick(2), rop, histories.OK, value, nil)
			if w%5 == 0 {
				for m := 1; m <= 3; m++ {
					b.probe(tick(0.1), fmt.Sprintf("n%d", m), "a1", 2, m == 1)
				}
			}
		}
		rop := b.invoke(tick(1), c, histories.FResign, "", "", tok)
		rev++
		b.storeDelete(tick(1), testElection+c, rev, tokRev)
		b.complete(tick(1), rop, histories.OK, "", nil)
	}
	b.phase(tick(1), histories.PhaseHeal)
	b.campaign(tick(1), tick(1), "c1", rev+1)
	b.elect(now, "c1", rev+1)
	b.phase(tick(1), histories.PhaseEnd)
	b.phase(tick(1), histories.PhaseRecord)
	return b
}

func TestSyntheticRunIsValid(t *testing.T) {
	res := Check(context.Background(), syntheticRun(2000).events, testOpts)
	if res.Valid != Valid {
		t.Fatalf("synthetic run: %s: %s", res.Valid, res.Summary)
	}
}

// BenchmarkCheck10kEvents is the checker's time per 10,000 events of a
// realistic history, porcupine included.
func BenchmarkCheck10kEvents(b *testing.B) {
	events := syntheticRun(10000).events
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := Check(context.Background(), events, testOpts)
		if res.Valid != Valid {
			b.Fatalf("%s: %s", res.Valid, res.Summary)
		}
	}
	b.ReportMetric(float64(len(events)), "events")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*10000/float64(len(events))*1000, "ms/10k-events")
}
