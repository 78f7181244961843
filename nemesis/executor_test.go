package nemesis

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// actingLater is a leader that starts acting at a given time.
type actingLater struct {
	fixedLeaders
	from time.Time
}

func (l actingLater) ElectionLeaderActing() string {
	if time.Now().Before(l.from) {
		return ""
	}
	return l.election
}

// A stop of the election leader waits for the leader to act, up to
// AimWait, and then targets it.
func TestStopsWaitForTheLeaderToAct(t *testing.T) {
	for _, c := range []struct {
		name       string
		actsAfter  time.Duration
		wantWait   time.Duration // at least
		wantAtMost time.Duration
	}{
		{"acts soon", 50 * time.Millisecond, 50 * time.Millisecond, 150 * time.Millisecond},
		{"never within the bound", time.Hour, 200 * time.Millisecond, 400 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := &Executor{Members: nodes("n", 3), Campaigners: nodes("c", 5), AimWait: 200 * time.Millisecond,
				Leaders: actingLater{fixedLeaders{raft: "n1", election: "c3"}, time.Now().Add(c.actsAfter)}}
			start := time.Now()
			x.awaitActingLeader(context.Background())
			if took := time.Since(start); took < c.wantWait || took > c.wantAtMost {
				t.Errorf("waited %v, want %v to %v", took, c.wantWait, c.wantAtMost)
			}
			n, err := x.target(rand.New(rand.NewPCG(1, 1)), TargetElectionLeader)
			if err != nil || n.Name() != "c3" {
				t.Errorf("target = %v, %v; want c3", n, err)
			}
		})
	}
}
