package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/histories"
)

// KindLoss drops random packets both ways between the target and every
// member (nftables numgen).
const KindLoss = histories.FaultLoss

// lossPercents are the loss rates a loss fault picks from.
var lossPercents = []int{10, 30, 60}

var lossKind = faultKind{
	name:  KindLoss,
	does:  "10, 30 or 60 % of packets lost both ways between the target and every member",
	rules: badLinkRules(KindLoss),
	resolve: func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error) {
		cuts, err := x.badLink(rng, r, &ev)
		if err != nil {
			return nil, err
		}
		percent := lossPercents[rng.IntN(len(lossPercents))]
		ev.Params["percent"] = fmt.Sprint(percent)
		return cutsFault(ev, cuts,
			func(ctx context.Context, c cut) error {
				return c.node.Agent().Loss(ctx, agent.LossRequest{Peers: addrs(c.peers), Percent: percent})
			},
			func(ctx context.Context, c cut) error { return c.node.Agent().HealLoss(ctx) }), nil
	},
	left: func(st agent.Status) string {
		if len(st.Lossy) == 0 {
			return ""
		}
		return "loss to " + strings.Join(st.Lossy, ",")
	},
}
