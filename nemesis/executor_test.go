package nemesis

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/election-harness/harness/histories"
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

// fakeCluster is an executor over in-memory nodes, agents and
// membership, all journaling into one journal with the history's fault
// events.
type fakeCluster struct {
	x      *Executor
	j      *journal
	nodes  map[string]*fakeNode
	member *fakeMembership
	fp     *fakeFailpoints
	// versions start every member on the final version, "new".
	versions *fakeVersions
	maint    *fakeMaintenance
}

// compactionsWithin is how many compactions the store made in d from now.
func (fc *fakeCluster) compactionsWithin(d time.Duration) int64 {
	before := fc.maint.rev.Load()
	time.Sleep(d)
	return fc.maint.rev.Load() - before
}

func newFakeCluster(t *testing.T, members, campaigners int) *fakeCluster {
	t.Helper()
	rec, err := histories.NewRecorder(filepath.Join(t.TempDir(), histories.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	j := &journal{}
	journalHistory(j, rec)
	fc := &fakeCluster{j: j, nodes: map[string]*fakeNode{}, member: &fakeMembership{j: j}, versions: &fakeVersions{j: j}, maint: &fakeMaintenance{j: j}}
	ms, cs := journaledNodes(j, "n", members), journaledNodes(j, "c", campaigners)
	for _, n := range append(append([]Node{}, ms...), cs...) {
		fc.nodes[n.Name()] = n.(*fakeNode)
	}
	agents := map[string]*fakeAgent{}
	for _, n := range ms {
		agents[n.Name()] = n.(*fakeNode).agent
	}
	fc.fp = newFakeFailpoints(j, agents, "raftBeforeSave", "raftAfterSave", "beforeCommit", "beforeCheckpointInLeaseRenew")
	fc.x = &Executor{Members: ms, Campaigners: cs, Leaders: fixedLeaders{raft: "n2", election: "c3"},
		Membership: fc.member, Failpoints: fc.fp, Versions: fc.versions, Maintenance: fc.maint, Recorder: rec, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		LeaseExpiry: 4 * time.Second}
	return fc
}

// addAPIServers puts n kube-apiserver nodes, a1..aN, in front of the
// members.
func (fc *fakeCluster) addAPIServers(n int) {
	as := journaledNodes(fc.j, "a", n)
	for _, a := range as {
		fc.nodes[a.Name()] = a.(*fakeNode)
	}
	fc.x.APIServers = as
}

// healed says what is left of any fault on any node: "" when nothing.
func (fc *fakeCluster) healed() string {
	var left []string
	for name, n := range fc.nodes {
		if err := remaining(context.Background(), n); err != nil {
			left = append(left, name+": "+err.Error())
		}
		if n.frozen {
			left = append(left, name+" frozen")
		}
		if n.throttled > 0 {
			left = append(left, name+" throttled")
		}
	}
	if l := fc.fp.left(); l != "" {
		left = append(left, l)
	}
	left = append(left, fc.versions.offFinal(fc.x.Members)...)
	slices.Sort(left)
	return strings.Join(left, "; ")
}

// isAct says whether a journal line is something done to a node or the
// membership (not the history).
func isAct(l string) bool { return !strings.HasPrefix(l, "history ") }

// acts is the journal without its history lines: what nodes were asked.
func (j *journal) acts() []string {
	var acts []string
	for _, l := range j.all() {
		if isAct(l) {
			acts = append(acts, l)
		}
	}
	return acts
}

// Every rule of every kind: the fault's start is in the history before
// any node is touched, its stop after it was healed, and once stopped
// nothing of it remains on any node.
func TestEveryFaultIsRecordedBeforeItIsAppliedAndHealsWhenStopped(t *testing.T) {
	for _, r := range RuleTable {
		t.Run(r.Kind+":"+r.Name, func(t *testing.T) {
			fc := newFakeCluster(t, 5, 4)
			if r.OnAPIServers {
				fc.addAPIServers(2)
			}
			ctx := context.Background()
			f, err := fc.x.Start(ctx, Step{Kind: r.Kind, Rule: r.Name, Duration: time.Second, Pick: 3})
			if err != nil {
				t.Fatal(err)
			}
			started := fc.j.all()
			first := slices.IndexFunc(started, isAct)
			if first < 0 {
				t.Fatalf("nothing applied: %q", started)
			}
			if rec := slices.Index(started, fmt.Sprintf("history fault-start %d %s", f.ID, r.Kind)); rec < 0 || rec > first {
				t.Fatalf("fault-start at %d, first act at %d: %q", rec, first, started)
			}
			switch r.Kind {
			case KindDefrag: // done once applied: nothing to show
			case KindCompact: // the store compacts until stopped
				if n := fc.compactionsWithin(450 * time.Millisecond); n < 2 {
					t.Fatalf("the storm compacted %d times in 450 ms", n)
				}
			default:
				if fc.healed() == "" {
					t.Fatalf("applied, but no node shows it: %q", started)
				}
			}
			if err := fc.x.Stop(ctx, f.ID); err != nil {
				t.Fatal(err)
			}
			if r.Kind == KindCompact {
				if n := fc.compactionsWithin(450 * time.Millisecond); n != 0 {
					t.Errorf("the store compacted %d times after the fault stopped", n)
				}
			}
			all := fc.j.all()
			if last := all[len(all)-1]; last != fmt.Sprintf("history fault-stop %d %s", f.ID, r.Kind) {
				t.Errorf("last line %q, want the fault's stop after its heal: %q", last, all[len(started):])
			}
			if left := fc.healed(); left != "" {
				t.Errorf("stopped, but left: %s\n%q", left, all)
			}
		})
	}
}

// A wiped member is killed with its data and removed; healed, it
// rejoins through Membership before it is started again, with the argv
// the rejoin gave, and the heal waits until it is a full member.
func TestWipedMemberRejoinsBeforeItRestarts(t *testing.T) {
	fc := newFakeCluster(t, 3, 2)
	ctx := context.Background()
	f, err := fc.x.Start(ctx, Step{Kind: KindWipe, Rule: TargetRaftLeader, Pick: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := fc.x.Stop(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	want := []string{"history fault-start 1 wipe", "n2 kill wipe=true", "membership remove n2",
		"membership rejoin n2", "n2 start-with rejoin n2", "membership rejoined n2", "history fault-stop 1 wipe"}
	if got := fc.j.all(); !slices.Equal(got, want) {
		t.Errorf("journal:\n%q\nwant\n%q", got, want)
	}
}

// HealAll ends every active fault in the history, rejoins wiped members
// before any agent heals (restarted as it first was, a wiped member
// would not find its cluster), thaws each node before asking its agent
// to heal (a frozen agent cannot answer), stops strobing clocks, and
// leaves nothing on any node.
func TestHealAllHealsEverything(t *testing.T) {
	fc := newFakeCluster(t, 5, 4)
	ctx := context.Background()
	steps := []Step{
		{Kind: KindWipe, Rule: TargetRandomMember, Pick: 1},
		{Kind: KindPartition, Rule: GrudgeMajorityMinority, Pick: 2},
		{Kind: KindFreeze, Rule: TargetRandomCampaigner, Pick: 3},
		{Kind: KindPause, Rule: TargetRaftLeader, Pick: 4},
		{Kind: KindLoss, Rule: TargetElectionLeader, Pick: 5},
		{Kind: KindClock, Rule: ClockStrobeRaftLeader, Pick: 6},
	}
	for _, s := range steps {
		if _, err := fc.x.Start(ctx, s); err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
	}
	wiped := ""
	for _, l := range fc.j.all() {
		if m, ok := strings.CutPrefix(l, "membership remove "); ok {
			wiped = m
		}
	}
	if err := fc.x.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	all := fc.j.all()
	for id := range len(steps) {
		if !slices.Contains(all, fmt.Sprintf("history fault-stop %d %s", id+1, steps[id].Kind)) {
			t.Errorf("fault %d (%s) has no stop in the history", id+1, steps[id].Kind)
		}
	}
	startWith := slices.Index(all, "membership rejoin "+wiped)
	firstHeal := slices.IndexFunc(all, func(l string) bool { return strings.HasSuffix(l, " heal") })
	if startWith < 0 || firstHeal < startWith || all[startWith+1] != wiped+" start-with rejoin "+wiped {
		t.Errorf("the wiped %s did not rejoin and restart before the first agent heal: %q", wiped, all)
	}
	for name := range fc.nodes {
		thaw, heal := slices.Index(all, name+" thaw"), slices.Index(all, name+" heal")
		if thaw < 0 || heal < thaw {
			t.Errorf("%s: thaw at %d, heal at %d: want thawed first", name, thaw, heal)
		}
	}
	if left := fc.healed(); left != "" {
		t.Errorf("left after HealAll: %s", left)
	}
	if fc.x.isWiped(wiped) {
		t.Errorf("%s still wiped", wiped)
	}
	// The strobe stopped with the heal: no flip comes after.
	flips := fc.j.count("n2 clock")
	time.Sleep(3 * strobePeriod)
	if got := fc.j.count("n2 clock"); got != flips {
		t.Errorf("the clock strobed on after HealAll: %d flips, then %d", flips, got)
	}
}

// A node whose agent will not heal does not stop the others from being
// healed: HealAll retries it until ctx ends and names it alone.
func TestHealAllHealsTheOthersWhenOneFails(t *testing.T) {
	for _, c := range []struct {
		name      string
		failHeals int
		wantErr   string // "": healed in the end
	}{
		{"fails twice, then heals", 2, ""},
		{"never heals", 1 << 30, "healing n2: injected heal failure"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fc := newFakeCluster(t, 3, 2)
			fc.nodes["n2"].agent.failHeals = c.failHeals
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			for _, s := range []Step{{Kind: KindPause, Rule: TargetRaftLeader, Pick: 1}, {Kind: KindPartition, Rule: GrudgeIsolateRaftLeader, Pick: 1}} {
				if _, err := fc.x.Start(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			err := fc.x.HealAll(ctx)
			if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || err.Error() != c.wantErr) {
				t.Fatalf("HealAll: %v, want %q", err, c.wantErr)
			}
			for name, n := range fc.nodes {
				if name == "n2" && c.wantErr != "" {
					if remaining(context.Background(), n) == nil {
						t.Errorf("n2 never healed, yet reports nothing left")
					}
					continue
				}
				if err := remaining(context.Background(), n); err != nil {
					t.Errorf("%s not healed: %v", name, err)
				}
			}
		})
	}
}

// A strobing clock flips until its fault is stopped, and not after;
// when the run's context ends mid-fault, Run still heals it (with a
// context of its own) before it returns.
func TestStrobeStops(t *testing.T) {
	strobe := Step{Kind: KindClock, Rule: ClockStrobeRaftLeader, Duration: time.Hour, Pick: 1}
	for _, c := range []struct {
		name string
		run  func(fc *fakeCluster) // starts the strobe, lets it flip, and ends it
	}{
		{"stopped", func(fc *fakeCluster) {
			f, err := fc.x.Start(context.Background(), strobe)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * strobePeriod)
			if err := fc.x.Stop(context.Background(), f.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{"run cancelled", func(fc *fakeCluster) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*strobePeriod)
			defer cancel()
			fc.x.Run(ctx, time.Now(), []Step{strobe})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fc := newFakeCluster(t, 3, 2)
			c.run(fc)
			flips := fc.j.count("n2 clock")
			if flips < 2 {
				t.Fatalf("%d clock calls: the clock never strobed (%q)", flips, fc.j.all())
			}
			time.Sleep(3 * strobePeriod)
			if got := fc.j.count("n2 clock"); got != flips {
				t.Errorf("the clock strobed on after its fault ended: %d calls, then %d", flips, got)
			}
			if all := fc.j.all(); !slices.Contains(all, "history fault-stop 1 clock") || fc.healed() != "" {
				t.Errorf("not healed: %s\n%q", fc.healed(), all)
			}
		})
	}
}
