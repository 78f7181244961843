package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// Every rule of every kind, resolved against fixed clusters (3 and 5
// members, leaders known and not), gives the targets and parameters it
// gave before the kinds moved into files of their own
// (testdata/resolved.golden): same seed, same faults.
func TestResolutionsArePinned(t *testing.T) {
	want, err := os.ReadFile("testdata/resolved.golden")
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, members := range []int{3, 5} {
		for _, leaders := range []fixedLeaders{{raft: "n2", election: "c3"}, {}} {
			x := &Executor{Members: nodes("n", members), Campaigners: nodes("c", 4), Leaders: leaders, Membership: nopMembership{}}
			for _, r := range RuleTable {
				if !slices.Contains(pinnedKinds, r.Kind) || slices.Contains(rulesAddedSince, r.Kind+":"+r.Name) || r.OnAPIServers {
					continue // a kind or rule added since is pinned apart
				}
				for pick := uint64(1); pick <= 3; pick++ {
					s := Step{Kind: r.Kind, Rule: r.Name, Duration: 7 * time.Second, Pick: pick}
					f, err := x.resolve(rand.New(rand.NewPCG(s.Pick, 1)), s)
					if err != nil {
						fmt.Fprintf(&got, "%d %q %s:%s %d error: %v\n", members, leaders.raft, r.Kind, r.Name, pick, err)
						continue
					}
					fmt.Fprintf(&got, "%d %q %s:%s %d targets=%v params=%v\n", members, leaders.raft, r.Kind, r.Name, pick, f.event.Targets, f.event.Params)
				}
			}
		}
	}
	if got.String() != string(want) {
		g, w := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				t.Fatalf("resolution %d changed:\n got %s\nwant %s", i+1, g[i], w[i])
			}
		}
		t.Fatalf("resolutions: %d lines, want %d", len(g), len(w))
	}
}

// pinnedKinds are the kinds resolved.golden pins.
var pinnedKinds = []string{KindPartition, KindPause, KindFreeze, KindKill, KindWipe, KindLoss, KindDelay, KindClock}

// rulesAddedSince are rules of pinned kinds added after the golden
// file; each is tested apart (partition_test.go for the long isolation,
// schedule_test.go for the long stop of the raft leader).
var rulesAddedSince = []string{KindPartition + ":" + GrudgeIsolateElectionLeaderLong, KindPause + ":" + TargetRaftLeaderLong}

// nopMembership accepts every change.
type nopMembership struct{}

func (nopMembership) Remove(ctx context.Context, member string) error             { return nil }
func (nopMembership) Rejoin(ctx context.Context, member string) ([]string, error) { return nil, nil }
func (nopMembership) Rejoined(ctx context.Context, member string) error           { return nil }
