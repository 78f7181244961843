package nemesis

import (
	"context"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/histories"
)

// KindDelay holds packets both ways between the target and every member
// (the agent's TUN device, not netem).
const KindDelay = histories.FaultDelay

// delays are the delays a delay fault picks from; jitter is a quarter.
var delays = []time.Duration{50 * time.Millisecond, 200 * time.Millisecond, time.Second}

var delayKind = faultKind{
	name:  KindDelay,
	does:  "packets held 50 ms, 200 ms or 1 s (± a quarter) both ways between the target and every member",
	rules: badLinkRules(KindDelay),
	resolve: func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error) {
		cuts, err := x.badLink(rng, r, &ev)
		if err != nil {
			return nil, err
		}
		delay := delays[rng.IntN(len(delays))]
		ev.Params["delay"], ev.Params["jitter"] = delay.String(), (delay / 4).String()
		return cutsFault(ev, cuts,
			func(ctx context.Context, c cut) error {
				return c.node.Agent().Delay(ctx, agent.DelayRequest{Peers: addrs(c.peers), DelayMS: delay.Milliseconds(), JitterMS: (delay / 4).Milliseconds()})
			},
			func(ctx context.Context, c cut) error { return c.node.Agent().HealDelay(ctx) }), nil
	},
	left: func(st agent.Status) string {
		if len(st.Delayed) == 0 {
			return ""
		}
		return "delay to " + strings.Join(st.Delayed, ",")
	},
}
