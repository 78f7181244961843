package checker

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/election-harness/harness/histories"
)

// TestStoriesOfGoldenRuns tells the first anomaly of each kept failing
// run (testdata/golden): the sentence names the campaigner, the two
// terms, the time from the workload's start and the fault behind it.
func TestStoriesOfGoldenRuns(t *testing.T) {
	for _, c := range []struct {
		dir, prefix string
		ttl         time.Duration
		want        []string
		cause       string // the first cited fault's role
	}{
		{"etcd-unfenced-p4", "eh/7c154d6f/", 3 * time.Second,
			[]string{"at 10.92 s c1 wrote", "as leader of term 6", "c2 (term 26)", "it had resigned", "kill:election-leader on c3"}, RoleLastBefore},
		{"etcd-trust-campaign-p3", "eh/8406e27b/", 3 * time.Second,
			[]string{"at 22.24 s c3 won term 87", "c4 (term 101)", "n2 was partitioned 13.73–23.54 s", "partition:raft-leader-mute"}, RoleCause},
		{"consul-unfenced-p4", "eh/dd19538c/", 10 * time.Second,
			[]string{"at 2.38 s c5 wrote", "term 29", "no fault had started"}, ""},
		// A Lease changes holder in one write: the term ended because
		// another took the lock over, not because a lease expired.
		{"k8s-leaderelection-p4", "eh/864f1514/", 3 * time.Second,
			[]string{"at 8.48 s c1 wrote", "as leader of term 3", "another campaigner took the lock over in the same write", "c2 (term 4)", "clock:slow-election-leader on c1, rate 0.1"}, RoleCause},
	} {
		t.Run(c.dir, func(t *testing.T) {
			rr, err := histories.ReadFile(filepath.Join("..", "testdata", "golden", c.dir, histories.HistoryFile))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Check(context.Background(), rr.Events, Options{ElectionPrefix: c.prefix + "election/", RegisterPrefix: c.prefix + "register/", TTL: c.ttl})
			if err != nil {
				t.Fatal(err)
			}
			var s *Story
			for _, ch := range res.Checks {
				if ch.Verdict == Invalid && !ch.Informational && len(ch.Evidence) > 0 {
					s = ch.Evidence[0].Story
					break
				}
			}
			if s == nil {
				t.Fatal("no story for the first anomaly")
			}
			for _, w := range c.want {
				if !strings.Contains(s.Sentence, w) {
					t.Errorf("sentence %q lacks %q", s.Sentence, w)
				}
			}
			if c.cause == "" && len(s.Faults) != 0 || c.cause != "" && (len(s.Faults) == 0 || s.Faults[0].Role != c.cause) {
				t.Errorf("faults %+v, want the first one %q", s.Faults, c.cause)
			}
			for i := 1; i < len(s.Events); i++ {
				if rr.Events[s.Events[i]].Time < rr.Events[s.Events[i-1]].Time {
					t.Errorf("story events %v not in time order", s.Events)
				}
			}
			if s.Term == nil || s.Names[termName(*s.Term)] != s.Term.String() {
				t.Errorf("the actor's term %v has no full name in %v", s.Term, s.Names)
			}
		})
	}
}

// staleWriteUnder is a history in which c2, its lease ended at 0.30 s,
// still writes at 0.32–0.40 s while c1 leads, with fault in effect from
// 0.15 s to 0.60 s; probes are the events before anything else.
func staleWriteUnder(fault *histories.Fault, probes ...histories.Event) []histories.Event {
	b := &builder{}
	b.recordKind(0, histories.RecordEveryChange)
	b.phase(0, histories.PhaseStart)
	for _, p := range probes {
		b.add(10, p)
	}
	b.elect(100, "c2", 10)
	t2 := b.campaign(50, 110, "c2", 10)
	b.add(150, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart, Fault: fault})
	b.storeDelete(300, testElection+"c2", 11, 10)
	b.elect(300, "c1", 12)
	t1 := b.campaign(200, 310, "c1", 12)
	b.write(320, 400, histories.Info, t2, "c2/10/1") // c2 still believes it leads
	b.storePut(390, testRegister, "c2/10/1", 13, 13)
	b.write(500, 510, histories.OK, t1, "c1/12/1")
	b.storePut(505, testRegister, "c1/12/1", 14, 13)
	b.add(600, histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStop, Fault: fault})
	b.phase(1000, histories.PhaseHeal)
	b.phase(1200, histories.PhaseEnd)
	b.phase(1300, histories.PhaseRecord)
	return b.events
}

// firstStory is the story of the first anomaly of the first judged
// check that failed.
func firstStory(t *testing.T, res Results) *Story {
	t.Helper()
	for _, ch := range res.Checks {
		if ch.Verdict == Invalid && !ch.Informational && len(ch.Evidence) > 0 {
			return ch.Evidence[0].Story
		}
	}
	t.Fatalf("no story; verdict %s", res.Valid)
	return nil
}

// A fault on several actors at once (every campaigner's clock slowed)
// is the cause of the bad act of whichever of them did it, not only of
// the first target that is an actor.
func TestStoryNamesTheFaultOnTheActorAmongSeveral(t *testing.T) {
	slow := &histories.Fault{ID: 1, Kind: "clock", Targets: []string{"c1", "c2"}, Params: map[string]string{"rule": "slow-campaigners", "rate": "0.1"}}
	s := firstStory(t, mustCheck(t, staleWriteUnder(slow), testOpts))
	if !strings.Contains(s.Sentence, "c2 was clock-skewed") || len(s.Faults) == 0 || s.Faults[0].Role != RoleCause || s.Faults[0].Actor != "c2" {
		t.Errorf("sentence %q, faults %+v: want c2's clock skew as the cause", s.Sentence, s.Faults)
	}
}

// A campaigner that reaches the store through an apiserver is struck by
// a fault on that apiserver: the story names it when nothing struck the
// campaigner itself, and never a fault on another campaigner's apiserver.
func TestStoryNamesTheActorsAPIServer(t *testing.T) {
	for _, tc := range []struct {
		name      string
		struck    string // the paused apiserver
		wantCause string // "" = no fault on the actors is the cause
	}{
		{"its own apiserver", "a2", "c2 reaches the store through a2, which was paused"},
		{"another's apiserver", "a1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pause := &histories.Fault{ID: 1, Kind: "pause", Targets: []string{tc.struck}, Params: map[string]string{"rule": "random-apiserver"}}
			probes := []histories.Event{
				{Type: histories.OK, Process: "probe:a1", F: histories.FServing},
				{Type: histories.OK, Process: "probe:a2", F: histories.FServing},
			}
			opts := testOpts
			opts.Fronts = map[string]string{"c1": "a1", "c2": "a2"}
			s := firstStory(t, mustCheck(t, staleWriteUnder(pause, probes...), opts))
			causes := 0
			for _, f := range s.Faults {
				if f.Role == RoleCause {
					causes++
				}
			}
			if tc.wantCause != "" {
				if !strings.Contains(s.Sentence, tc.wantCause) || causes != 1 || s.Faults[0].Actor != "c2" || s.Faults[0].Via != "a2" {
					t.Errorf("sentence %q, faults %+v: want a2's pause as c2's cause", s.Sentence, s.Faults)
				}
				return
			}
			if causes != 0 || strings.Contains(s.Sentence, "which was paused") || strings.Contains(s.Sentence, "a1 was paused") {
				t.Errorf("sentence %q, faults %+v: a pause of c1's apiserver named as the cause of c2's act", s.Sentence, s.Faults)
			}
		})
	}
}
