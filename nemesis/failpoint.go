package nemesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/wait"
)

// KindFailpoint sets a failpoint on a member of a server built with them
// (gofail), such as a stuck raft loop, a crash at its write-ahead log, or
// slow applies. The server's own code misbehaves in one place while the
// rest of the process runs, which no signal or firewall can do.
const KindFailpoint = histories.FaultFailpoint

// Failpoint rules: what each models.
const (
	// FailpointRaftLeaderStuck: the raft leader's raft loop stuck before
	// it saves to its WAL (a stalled fsync) for longer than a lease,
	// while its lessor, its gRPC server and its probes go on: the old
	// leader that revokes leases kept alive elsewhere (etcd #15247).
	FailpointRaftLeaderStuck = "raft-leader-stuck"
	// FailpointCrashBeforeSave: the raft leader crashes before it saves
	// entries to its WAL, then restarts with its data.
	FailpointCrashBeforeSave = "crash-before-wal-save"
	// FailpointCrashAfterSave: it crashes after saving, before sending
	// or applying them, then restarts.
	FailpointCrashAfterSave = "crash-after-wal-save"
	// FailpointSlowApply: the raft leader applies each entry slowly, so
	// it lags behind what it commits.
	FailpointSlowApply = "slow-apply"
	// FailpointRenewPastRevoke stalls each lease renewal in the raft
	// leader's lessor, after it found the lease alive and before it
	// refreshes it. Every renewal reaches that lessor, the primary,
	// through a follower or not. The stall lasts until the lease has
	// expired and its revocation was applied. A version that does not
	// look the lease up again then answers the renewal with the full
	// TTL of a lease already gone, while the key of a term held under
	// it is deleted (etcd #20590, issue #20547).
	FailpointRenewPastRevoke = "renew-past-revoke"
)

// failpointAction is what a rule sets: the first of points the build
// has (names differ between versions), to terms.
type failpointAction struct {
	points []string
	// terms for a fault of duration d, in a store that ends an
	// unrenewed lease within leaseExpiry.
	terms func(d, leaseExpiry time.Duration) string
	// crash: the process dies of it and is restarted when it heals.
	crash bool
}

var failpointActions = map[string]failpointAction{
	// Once: a sleep set again would stall the loop a second time.
	FailpointRaftLeaderStuck: {points: []string{"raftBeforeSave"}, terms: func(d, _ time.Duration) string { return fmt.Sprintf("1*sleep(%d)", d.Milliseconds()) }},
	FailpointCrashBeforeSave: {points: []string{"raftBeforeSave"}, terms: func(_, _ time.Duration) string { return "panic" }, crash: true},
	FailpointCrashAfterSave:  {points: []string{"raftAfterSave"}, terms: func(_, _ time.Duration) string { return "panic" }, crash: true},
	// 200 ms an entry: a lag of seconds under the workload's writes, not
	// a stop.
	FailpointSlowApply: {points: []string{"beforeApplyOneEntryNormal", "beforeCommit"}, terms: func(_, _ time.Duration) string { return "sleep(200)" }},
	// Every renewal reaching the failpoint while the fault lasts sleeps
	// a second longer than the store takes to end a lease. It found its
	// lease alive, so the lease expires within a TTL of the stall's
	// start. It is revoked within leaseExpiry, which for etcd is the
	// TTL plus the expiry loop's 500 ms tick and the revoke's proposal.
	// A renewal waking later finds the revocation applied, which a
	// fixed version sees and answers "not found".
	//
	// A shorter stall could wake after the expiry but before the revoke
	// is applied. There a fixed version too refreshes the doomed lease
	// and answers it renewed, and P8 would flag a correct store. gofail
	// runs one sleep of a failpoint at a time, so stalled renewals
	// queue and wake later still, never sooner.
	//
	// Only the sleep is the fault. The failpoint stays on for the
	// fault's duration so that every campaigner's next renewal (within
	// a third of the TTL) is caught. Sized so, the stalled answer
	// reaches etcd's Go client after its own keepalive deadline
	// (receipt + TTL), which drops it. See docs/detection-notes.md.
	FailpointRenewPastRevoke: {points: []string{"beforeCheckpointInLeaseRenew"}, terms: func(_, leaseExpiry time.Duration) string {
		return fmt.Sprintf("sleep(%d)", (leaseExpiry + time.Second).Milliseconds())
	}},
}

var failpointKind = faultKind{
	name: KindFailpoint,
	does: "a failpoint of a server built with them (--failpoints) set on a member; cleared, and restarted if it crashed, when the fault ends",
	rules: []Rule{
		{Kind: KindFailpoint, Name: FailpointRaftLeaderStuck, Weight: 3, Does: "the raft leader's raft loop stuck before its WAL save (raftBeforeSave sleep) for longer than a lease, the rest of its process running (#15247)", MinMembers: 1},
		{Kind: KindFailpoint, Name: FailpointCrashBeforeSave, Weight: 1, Does: "the raft leader crashes before saving entries to its WAL (raftBeforeSave panic), restarted with its data", MinMembers: 1},
		{Kind: KindFailpoint, Name: FailpointCrashAfterSave, Weight: 1, Does: "the raft leader crashes after saving entries to its WAL (raftAfterSave panic), restarted with its data", MinMembers: 1},
		{Kind: KindFailpoint, Name: FailpointSlowApply, Weight: 1, Does: "the raft leader applies every entry 200 ms late (beforeApplyOneEntryNormal, else beforeCommit, sleep)", MinMembers: 1},
		// Weight 0: it stalls every lease renewal, a fault aimed at one
		// bug (#20590) that would crowd out the others when dealt.
		{Kind: KindFailpoint, Name: FailpointRenewPastRevoke, Weight: 0, Does: "the raft leader's lessor stalls each lease renewal between finding the lease and refreshing it (beforeCheckpointInLeaseRenew sleep) until the lease has expired and been revoked (#20590)", MinMembers: 1},
	},
	// A loop stuck for less than a lease shows nothing a pause does not:
	// the old leader's lessor must see leases expire while it is stuck.
	minDuration: func(rule string, p Pace) time.Duration {
		if rule == FailpointRaftLeaderStuck && p.LeaseExpiry > 0 {
			return p.LeaseExpiry + time.Second
		}
		// The failpoint must be on when each campaigner next renews,
		// a third of the TTL after its last renewal (etcd's client),
		// and half the lease expiry is longer than that.
		if rule == FailpointRenewPastRevoke && p.LeaseExpiry > 0 {
			return p.LeaseExpiry / 2
		}
		return 0
	},
	resolve: func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error) {
		if x.Failpoints == nil {
			return nil, errors.New("failpoint needs a server built with failpoints (--failpoints)")
		}
		act, ok := failpointActions[r.Name]
		if !ok {
			return nil, fmt.Errorf("failpoint rule %q sets nothing", r.Name)
		}
		if r.Name == FailpointRenewPastRevoke && x.LeaseExpiry <= 0 {
			return nil, errors.New("failpoint renew-past-revoke needs the store's lease expiry to size its stall")
		}
		n, err := x.target(rng, TargetRaftLeader)
		if err != nil {
			return nil, err
		}
		dur, err := time.ParseDuration(ev.Params["duration"])
		if err != nil {
			return nil, fmt.Errorf("failpoint: duration %q: %w", ev.Params["duration"], err)
		}
		ev.Targets = []string{n.Name()}
		ev.Params["failpoint"] = strings.Join(act.points, " or ")
		terms := act.terms(dur, x.LeaseExpiry)
		ev.Params["terms"] = terms
		member := n.Name()
		var point string
		return &fault{event: ev,
			apply: func(ctx context.Context) error {
				all, err := x.Failpoints.List(ctx, member)
				if err != nil {
					return err
				}
				for _, p := range act.points {
					if _, ok := all[p]; ok {
						point = p
						break
					}
				}
				if point == "" {
					return fmt.Errorf("the build of %s has none of the failpoints %s", member, strings.Join(act.points, ", "))
				}
				return x.Failpoints.Set(ctx, member, point, terms)
			},
			heal: func(ctx context.Context) error {
				if point != "" {
					// A crashed process serves nothing: its restart has
					// the failpoint off.
					if err := x.Failpoints.Clear(ctx, member, point); err != nil && !act.crash {
						return err
					}
				}
				if act.crash {
					if err := n.Agent().Start(ctx); err != nil {
						return err
					}
				}
				return x.failpointsOff(ctx, member)
			}}, nil
	},
}

// failpointsOff waits until the member lists no failpoint on (a
// restarted member serves its control once it has started).
func (x *Executor) failpointsOff(ctx context.Context, member string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		all, err := x.Failpoints.List(ctx, member)
		if err == nil {
			on := activeFailpoints(all)
			if len(on) == 0 {
				return nil
			}
			err = fmt.Errorf("failpoints still on: %s", strings.Join(on, ", "))
		}
		if !wait.For(ctx, 200*time.Millisecond) {
			return err
		}
	}
}

// clearFailpoints turns off every failpoint of a member and checks that
// none is on: part of HealAll, whatever the nemesis believes it set.
func (x *Executor) clearFailpoints(ctx context.Context, member string) error {
	if x.Failpoints == nil {
		return nil
	}
	all, err := x.Failpoints.List(ctx, member)
	if err != nil {
		return err
	}
	for _, p := range activeFailpoints(all) {
		name, _, _ := strings.Cut(p, "=")
		if err := x.Failpoints.Clear(ctx, member, name); err != nil {
			return err
		}
	}
	return x.failpointsOff(ctx, member)
}

// activeFailpoints lists the failpoints that are on, NAME=TERMS, sorted.
func activeFailpoints(all map[string]string) []string {
	var on []string
	for name, terms := range all {
		if terms != "" {
			on = append(on, name+"="+terms)
		}
	}
	slices.Sort(on)
	return on
}
