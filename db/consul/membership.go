package consul

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/internal/wait"
)

var _ db.Membership = DB{}

// removePatience bounds RemoveMember's retries: the others may be
// electing a leader when the wipe comes (it can take the raft leader).
const removePatience = 30 * time.Second

// RemoveMember takes m, a server whose data is lost, out of the raft
// configuration and the gossip pool, as an operator replacing a dead
// server does (`consul operator raft remove-peer`, then `consul
// force-leave -prune`). It asks each other server in turn until one
// answers, then waits until no other server still lists m in gossip;
// a server already gone is done.
func (DB) RemoveMember(ctx context.Context, all []db.Member, m db.Member) error {
	raftAddr := netip.AddrPortFrom(m.IP, consulRaftPort).String()
	deadline := time.Now().Add(removePatience)
	var last error
	for {
		for _, o := range all {
			if o.Name == m.Name {
				continue
			}
			if last = removeThrough(ctx, o, m.Name, raftAddr); last == nil {
				break
			}
		}
		if last == nil {
			// A server that rejoins under its name before every other
			// has forgotten it can be taken for the one that left, and
			// the leader does not add it to raft.
			if last = stillListed(ctx, all, m.Name); last == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("removing server %s: %w", m.Name, last)
		}
		if !wait.For(ctx, 500*time.Millisecond) {
			return fmt.Errorf("removing server %s: %w (last: %v)", m.Name, ctx.Err(), last)
		}
	}
}

// removeThrough removes the server named name, whose raft address is
// raftAddr, through server o.
func removeThrough(ctx context.Context, o db.Member, name, raftAddr string) error {
	cli, err := client(consulAddr(o), 5*time.Second)
	if err != nil {
		return err
	}
	err = cli.Operator().RaftRemovePeerByAddress(raftAddr, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil && !strings.Contains(err.Error(), "not found in the Raft configuration") {
		return fmt.Errorf("through %s: raft remove-peer %s: %w", o.Name, raftAddr, err)
	}
	if err := cli.Agent().ForceLeavePrune(name); err != nil && !strings.Contains(err.Error(), "No node found") {
		return fmt.Errorf("through %s: force-leave -prune %s: %w", o.Name, name, err)
	}
	return nil
}

// stillListed says which other servers that answer still list the
// server named name among their gossip members or in the catalog (nil:
// none does).
func stillListed(ctx context.Context, all []db.Member, name string) error {
	var listed []string
	for _, o := range all {
		if o.Name == name {
			continue
		}
		cli, err := client(consulAddr(o), 5*time.Second)
		if err != nil {
			return err
		}
		members, err := cli.Agent().Members(false)
		if err != nil {
			continue // a server cut off or down has no say
		}
		if slices.ContainsFunc(members, func(am *api.AgentMember) bool { return am.Name == name }) {
			listed = append(listed, o.Name+" (gossip)")
			continue
		}
		// The leader deregisters a reaped server from the catalog: a
		// rejoin before that is taken for the old node, and is not
		// added to raft until the leader's next full reconcile (60 s).
		if node, _, err := cli.Catalog().Node(name, (&api.QueryOptions{}).WithContext(ctx)); err == nil && node != nil && node.Node != nil {
			listed = append(listed, o.Name+" (catalog)")
		}
	}
	if len(listed) > 0 {
		return fmt.Errorf("%s not yet reaped from gossip by %s", name, strings.Join(listed, ", "))
	}
	return nil
}

// AddMember returns the command line that starts m again on its empty
// data directory: a new server (a new node ID) that joins the others
// over gossip; the leader adds it to raft, and autopilot makes it a
// voter once it is stable. A server cannot be added before it runs,
// so nothing is asked of the others here.
func (d DB) AddMember(ctx context.Context, all []db.Member, m db.Member, dataDir string) ([]string, error) {
	if !slices.ContainsFunc(all, func(o db.Member) bool { return o.Name == m.Name }) {
		return nil, errors.New("adding server " + m.Name + ": not one of the run's members")
	}
	return d.MemberCommand(m, all, dataDir), nil
}

// awaitVoterPatience bounds AwaitMember: autopilot promotes a new
// server once it has been healthy for its stabilization time (10 s),
// and a join the leader missed waits for its full reconcile (60 s).
const awaitVoterPatience = 90 * time.Second

// AwaitMember waits until some other server's raft configuration lists
// m's address as a voter: a replaced server counts toward quorum only
// once autopilot has promoted it.
func (DB) AwaitMember(ctx context.Context, all []db.Member, m db.Member) error {
	raftAddr := netip.AddrPortFrom(m.IP, consulRaftPort).String()
	deadline := time.Now().Add(awaitVoterPatience)
	last := errors.New("no server answered")
	for {
		for _, o := range all {
			if o.Name == m.Name {
				continue
			}
			cli, err := client(consulAddr(o), 5*time.Second)
			if err != nil {
				return err
			}
			cfg, err := cli.Operator().RaftGetConfiguration((&api.QueryOptions{}).WithContext(ctx))
			if err != nil {
				last = fmt.Errorf("through %s: %w", o.Name, err)
				continue
			}
			i := slices.IndexFunc(cfg.Servers, func(s *api.RaftServer) bool { return s.Address == raftAddr })
			if i >= 0 && cfg.Servers[i].Voter {
				return nil
			}
			last = fmt.Errorf("through %s: %s is not a voter yet", o.Name, raftAddr)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for server %s to be a voter: %w", m.Name, last)
		}
		if !wait.For(ctx, time.Second) {
			return fmt.Errorf("waiting for server %s to be a voter: %w (last: %v)", m.Name, ctx.Err(), last)
		}
	}
}
