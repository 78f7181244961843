package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/etcd"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/nemesis"
)

// probedLeaders tells the nemesis the raft leader as the members' own
// probes say, as the live view does in a run.
type probedLeaders struct {
	mu      sync.Mutex
	members []db.Member
}

func (p *probedLeaders) RaftLeader() (string, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, st := range probeAll(p.members) {
		if st.IsLeader {
			return name, st.Term
		}
	}
	return "", 0
}

func (*probedLeaders) ElectionLeader() (string, *histories.Token) { return "", nil }
func (*probedLeaders) ElectionLeaderActing() string               { return "" }

// probeAll probes every member once; a member that does not answer is
// left out.
func probeAll(members []db.Member) map[string]histories.MemberStatus {
	out := map[string]histories.MemberStatus{}
	for _, m := range members {
		p, _ := etcd.DB{}.NewProbe(m)
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		st, err := p.Probe(ctx)
		cancel()
		if err == nil {
			out[m.Name] = st
		}
	}
	return out
}

// A failpoint proven on a real member (issue 14, acceptance 1): with
// its raft loop stuck before its WAL save, the raft leader is replaced
// by a newly elected one while its own process still answers probes,
// and once healed it lists no failpoint on.
func TestFailpointStuckRaftLeaderOnRealNodes(t *testing.T) {
	needDocker(t)
	leaders := &probedLeaders{}
	fc := startFaultClusterWith(t, true, leaders)
	leaders.members = fc.members

	var old string
	var oldTerm uint64
	for deadline := time.Now().Add(10 * time.Second); old == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		old, oldTerm = leaders.RaftLeader()
	}
	if old == "" {
		t.Fatal("no raft leader within 10s")
	}
	const stuck = 8 * time.Second
	start := time.Now()
	f, err := fc.exec.Start(context.Background(), nemesis.Step{Kind: nemesis.KindFailpoint, Rule: nemesis.FailpointRaftLeaderStuck, Duration: stuck, Pick: 1})
	if err != nil {
		t.Fatal(err)
	}
	if f.Targets[0] != old {
		t.Fatalf("the fault struck %s, not the raft leader %s", f.Targets[0], old)
	}
	// Watch, while it is stuck: who leads in which term, and whether the
	// old leader's process answers.
	var elected time.Duration
	var newLeader string
	oldAnswers, oldAnswersAfter, polls := 0, 0, 0
	for time.Since(start) < stuck-time.Second {
		sts := probeAll(fc.members)
		polls++
		if _, ok := sts[old]; ok {
			oldAnswers++
			if newLeader != "" {
				oldAnswersAfter++
			}
		}
		for name, st := range sts {
			if newLeader == "" && name != old && st.IsLeader && st.Term > oldTerm {
				newLeader, elected = name, time.Since(start)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("raft leader %s (term %d) stuck for %v: %s elected after %v; %s answered %d of %d probes, %d after the election",
		old, oldTerm, stuck, newLeader, elected.Round(time.Millisecond), old, oldAnswers, polls, oldAnswersAfter)
	if newLeader == "" {
		t.Errorf("no new raft leader elected while %s's raft loop was stuck", old)
	}
	if oldAnswersAfter == 0 {
		t.Errorf("the old leader %s's process did not answer once a new leader was elected", old)
	}
	if err := fc.exec.Stop(context.Background(), f.ID); err != nil {
		t.Fatalf("healing: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	all, err := etcd.DB{}.ListFailpoints(ctx, db.Member{Name: old, IP: fc.byName[old].IP()})
	if err != nil {
		t.Fatal(err)
	}
	for name, terms := range all {
		if terms != "" {
			t.Errorf("after the heal %s still has %s=%s", old, name, terms)
		}
	}
	if len(all) == 0 || all["raftBeforeSave"] != "" {
		t.Errorf("%s lists %d failpoints, raftBeforeSave=%q: want it listed and off", old, len(all), all["raftBeforeSave"])
	}
}
