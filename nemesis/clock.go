package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/histories"
)

// KindClock skews the process's own clocks (per-process offset, rate
// or strobe of its vDSO clock_gettime/gettimeofday). Nobody else's move.
const KindClock = histories.FaultClock

// Clock rules. Fast monotonic clocks are modelled as everyone else
// running slow: undoing a fast clock would take time back.
const (
	ClockSlowElectionLeader = "slow-election-leader" // the leading campaigner's clocks run slow
	ClockSlowCampaigners    = "slow-campaigners"     // every campaigner's clocks run slow: whoever leads next too
	ClockSlowRaftLeader     = "slow-raft-leader"     // the raft leader measures leases slowly
	ClockOthersSlow         = "others-slow"          // every member but the raft leader runs slow
	ClockBumpElectionLeader = "bump-election-leader" // the leading campaigner's wall clock jumps
	ClockStrobeRaftLeader   = "strobe-raft-leader"   // the raft leader's wall clock flips back and forth
	// ClockIsolateSlowRaftLeader slows the raft leader's clocks and cuts
	// it from the other members at once: a leader that measures its
	// lease slowly goes on believing it leads (and serving lease-based
	// reads) after the majority has moved on.
	ClockIsolateSlowRaftLeader = "isolate-slow-raft-leader"
	// ClockSlowAPIServer slows a kube-apiserver node's clocks: its
	// timeouts and watch bookkeeping stretch, not the Lease's times,
	// which the candidates' clocks write.
	ClockSlowAPIServer = "slow-apiserver"
)

var clockKind = faultKind{
	name: KindClock,
	does: "the process's own clocks skewed (offset and rate of its vDSO clock_gettime/gettimeofday)",
	rules: []Rule{
		{Kind: KindClock, Name: ClockSlowElectionLeader, Weight: 3, Does: "the election leader's clocks run at 0.05-0.2 of true speed", MinMembers: 1},
		{Kind: KindClock, Name: ClockSlowCampaigners, Weight: 2, Does: "every campaigner's clocks run at 0.05-0.2: whoever leads next too", MinMembers: 1},
		{Kind: KindClock, Name: ClockSlowRaftLeader, Weight: 2, Does: "the raft leader's clocks run at 0.2-0.6: it measures leases slowly", MinMembers: 1},
		{Kind: KindClock, Name: ClockOthersSlow, Weight: 1, Does: "every member but the raft leader runs at 0.2-0.6 (the leader, in effect, fast)", MinMembers: 2},
		{Kind: KindClock, Name: ClockBumpElectionLeader, Weight: 1, Does: "the election leader's wall clock jumps by ±5 s or ±60 s", MinMembers: 1},
		{Kind: KindClock, Name: ClockStrobeRaftLeader, Weight: 1, Does: "the raft leader's wall clock flips by ±5 s or ±60 s every 200 ms", MinMembers: 1},
		{Kind: KindClock, Name: ClockIsolateSlowRaftLeader, Weight: 1, Does: "the raft leader slowed to 0.05 and cut from the other members at once", MinMembers: 2},
		// Weight 0, last: the deck, and so every seeded plan, is as before.
		{Kind: KindClock, Name: ClockSlowAPIServer, Weight: 0, Does: "a random kube-apiserver node's clocks run at 0.05-0.2 (Kubernetes recipes)", MinMembers: 1, OnAPIServers: true},
	},
	resolve: func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error) {
		return x.clockFault(rng, r.Name, ev)
	},
	left: func(st agent.Status) string {
		if st.Clock == nil {
			return ""
		}
		return "a skewed clock"
	},
}

// Clock fault parameters the rules pick from. A campaigner renews its
// lease every third of the TTL by its own clock, so only a rate below a
// third lets the lease expire while the campaigner believes it holds it.
var (
	slowRates           = []float64{0.2, 0.4, 0.6}
	campaignerSlowRates = []float64{0.05, 0.1, 0.2}
	bumpOffsets         = []time.Duration{-60 * time.Second, -5 * time.Second, 5 * time.Second, 60 * time.Second}
)

// strobePeriod is how often a strobed wall clock flips.
const strobePeriod = 200 * time.Millisecond

// clockFault resolves a clock rule: whose clocks, and what they do.
func (x *Executor) clockFault(rng *rand.Rand, rule string, ev histories.Fault) (*fault, error) {
	var targets []Node
	req := agent.ClockRequest{Rate: 1}
	var strobe time.Duration
	var isolation *grudge // cut at the same time as the clocks change
	switch rule {
	case ClockSlowElectionLeader, ClockBumpElectionLeader:
		n, err := x.target(rng, TargetElectionLeader)
		if err != nil {
			return nil, err
		}
		targets = []Node{n}
		if rule == ClockSlowElectionLeader {
			req.Rate = campaignerSlowRates[rng.IntN(len(campaignerSlowRates))]
		} else {
			req.OffsetNS = int64(bumpOffsets[rng.IntN(len(bumpOffsets))])
		}
	case ClockSlowRaftLeader, ClockStrobeRaftLeader:
		n, err := x.target(rng, TargetRaftLeader)
		if err != nil {
			return nil, err
		}
		targets = []Node{n}
		if rule == ClockSlowRaftLeader {
			req.Rate = slowRates[rng.IntN(len(slowRates))]
		} else {
			req.OffsetNS = int64(bumpOffsets[rng.IntN(len(bumpOffsets))])
			strobe = strobePeriod
		}
	case ClockIsolateSlowRaftLeader:
		g, err := x.grudge(rng, Rule{Kind: KindPartition, Name: GrudgeIsolateRaftLeader})
		if err != nil {
			return nil, err
		}
		isolation = &g
		targets = []Node{byName(x.Members, g.targets[0])}
		req.Rate = campaignerSlowRates[0]
		ev.Params["cut-from"] = g.params["cut-from"]
	case ClockSlowAPIServer:
		n, err := x.target(rng, TargetRandomAPIServer)
		if err != nil {
			return nil, err
		}
		targets = []Node{n}
		req.Rate = campaignerSlowRates[rng.IntN(len(campaignerSlowRates))]
	case ClockSlowCampaigners:
		targets = x.Campaigners
		req.Rate = campaignerSlowRates[rng.IntN(len(campaignerSlowRates))]
	case ClockOthersSlow:
		n, err := x.target(rng, TargetRaftLeader)
		if err != nil {
			return nil, err
		}
		targets = without(x.Members, n)
		req.Rate = slowRates[rng.IntN(len(slowRates))]
		ev.Params["fast"] = n.Name()
	default:
		return nil, fmt.Errorf("unknown clock rule %q", rule)
	}
	ev.Targets = names(targets)
	ev.Params["rate"] = fmt.Sprint(req.Rate)
	if req.OffsetNS != 0 {
		ev.Params["offset"] = time.Duration(req.OffsetNS).String()
	}
	if strobe > 0 {
		ev.Params["strobe"] = strobe.String()
	}
	set := func(ctx context.Context, r agent.ClockRequest) error {
		return eachNode(targets, func(n Node) error { return n.Agent().Clock(ctx, r) })
	}
	// halt stops the strobe and waits for it, so that no flip lands
	// after the heal.
	stop := make(chan struct{})
	var once sync.Once
	var strobing sync.WaitGroup
	halt := func() {
		once.Do(func() { close(stop) })
		strobing.Wait()
	}
	return &fault{event: ev, halt: halt,
		apply: func(ctx context.Context) error {
			if err := set(ctx, req); err != nil {
				return err
			}
			if isolation != nil {
				if err := isolation.apply(ctx); err != nil {
					return err
				}
			}
			if strobe > 0 {
				strobing.Add(1)
				go func() {
					defer strobing.Done()
					x.strobe(req, strobe, set, stop)
				}()
			}
			return nil
		},
		heal: func(ctx context.Context) error {
			halt()
			if isolation != nil {
				if err := isolation.heal(ctx); err != nil {
					return err
				}
			}
			return eachNode(targets, func(n Node) error { return n.Agent().HealClock(ctx) })
		}}, nil
}

// strobe flips the wall clock between its offset and true time until
// stop closes.
func (x *Executor) strobe(req agent.ClockRequest, period time.Duration, set func(context.Context, agent.ClockRequest) error, stop chan struct{}) {
	t := time.NewTicker(period)
	defer t.Stop()
	on := true
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		on = !on
		r := req
		if !on {
			r.OffsetNS = 0
		}
		ctx, cancel := context.WithTimeout(context.Background(), period)
		if err := set(ctx, r); err != nil {
			x.Log.Warn("strobing a clock", "err", err)
		}
		cancel()
	}
}
