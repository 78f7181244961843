package agent

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// tableName is the one nftables table the agent owns in its namespace.
const tableName = "harness"

// IPv4 header offsets of the source and destination addresses.
const (
	offsetSaddr = 12
	offsetDaddr = 16
)

// rules is everything the agent's table should hold: peers cut off in
// each direction, and peers whose outgoing packets are lost at random.
type rules struct {
	dropIn, dropOut []netip.Addr
	lossy           []netip.Addr
	lossPercent     int
}

func (r rules) empty() bool { return len(r.dropIn)+len(r.dropOut)+len(r.lossy) == 0 }

// firewall cuts a node off from peers, and loses packets to peers, with
// nftables through netlink: node images have no nft or iptables binary.
// Packets are dropped, never rejected, so peers see a silent network, as
// in a real partition. Every change rebuilds the agent's table in one
// netlink batch, so the rules are never half applied.
type firewall struct {
	// opts select the network namespace (tests use another one).
	opts []nftables.ConnOption

	mu    sync.Mutex
	state rules
}

// partition replaces the cuts with drops of traffic to and/or from peers.
func (f *firewall) partition(req PartitionRequest) error {
	var in, out bool
	switch req.Direction {
	case DirectionBoth, "":
		in, out = true, true
	case DirectionIn:
		in = true
	case DirectionOut:
		out = true
	default:
		return fmt.Errorf("unknown direction %q (want %s, %s or %s)", req.Direction, DirectionBoth, DirectionIn, DirectionOut)
	}
	peers, err := parsePeers(req.Drop)
	if err != nil {
		return err
	}
	return f.change(func(next *rules) {
		next.dropIn, next.dropOut = nil, nil
		if in {
			next.dropIn = peers
		}
		if out {
			next.dropOut = peers
		}
	})
}

// loss replaces the lossy peers: each packet to them is dropped with the
// given probability.
func (f *firewall) loss(req LossRequest) error {
	if req.Percent < 0 || req.Percent > 100 {
		return fmt.Errorf("loss of %d%%: want 0 to 100", req.Percent)
	}
	peers, err := parsePeers(req.Peers)
	if err != nil {
		return err
	}
	return f.change(func(next *rules) {
		next.lossy, next.lossPercent = peers, req.Percent
		if req.Percent == 0 {
			next.lossy = nil
		}
	})
}

// healPartition removes the cuts and keeps any loss.
func (f *firewall) healPartition() error {
	return f.change(func(next *rules) { next.dropIn, next.dropOut = nil, nil })
}

// heal removes the agent's table, and with it every rule.
func (f *firewall) heal() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.install(rules{})
}

// change installs the current rules as edit changes them. The lock
// makes each change start from the rules the last one installed.
func (f *firewall) change(edit func(next *rules)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := f.state
	edit(&next)
	return f.install(next)
}

// install replaces the table with one holding exactly r. Called with mu.
func (f *firewall) install(r rules) error {
	c, err := nftables.New(f.opts...)
	if err != nil {
		return fmt.Errorf("opening netlink: %w", err)
	}
	if err := deleteTable(c); err != nil {
		return err
	}
	if !r.empty() {
		t := c.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: tableName})
		input := addChain(c, t, "input", nftables.ChainHookInput)
		output := addChain(c, t, "output", nftables.ChainHookOutput)
		if err := addSetRule(c, t, input, "cut_in", r.dropIn, offsetSaddr, nil); err != nil {
			return err
		}
		if err := addSetRule(c, t, output, "cut_out", r.dropOut, offsetDaddr, nil); err != nil {
			return err
		}
		if err := addSetRule(c, t, output, "lossy", r.lossy, offsetDaddr, lossExprs(r.lossPercent)); err != nil {
			return err
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("installing rules (is CAP_NET_ADMIN granted?): %w", err)
	}
	f.state = r
	return nil
}

func addChain(c *nftables.Conn, t *nftables.Table, name string, hook *nftables.ChainHook) *nftables.Chain {
	return c.AddChain(&nftables.Chain{Name: name, Table: t, Type: nftables.ChainTypeFilter, Hooknum: hook, Priority: nftables.ChainPriorityFilter})
}

// addSetRule adds, when peers is not empty, a set of them and a rule
// dropping IPv4 packets whose address at offset is in the set, after
// the extra conditions.
func addSetRule(c *nftables.Conn, t *nftables.Table, ch *nftables.Chain, name string, peers []netip.Addr, offset uint32, extra []expr.Any) error {
	if len(peers) == 0 {
		return nil
	}
	var elems []nftables.SetElement
	for _, p := range peers {
		b := p.As4()
		elems = append(elems, nftables.SetElement{Key: b[:]})
	}
	set := &nftables.Set{Table: t, Name: name, KeyType: nftables.TypeIPAddr}
	if err := c.AddSet(set, elems); err != nil {
		return fmt.Errorf("adding set %s: %w", name, err)
	}
	exprs := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV4}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID},
	}
	exprs = append(append(exprs, extra...), &expr.Verdict{Kind: expr.VerdictDrop})
	c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: exprs})
	return nil
}

// lossExprs match a packet with the given probability: a random number
// below percent out of 100. (The kernels this runs on may lack netem.)
func lossExprs(percent int) []expr.Any {
	data := make([]byte, 4)
	binary.NativeEndian.PutUint32(data, uint32(percent))
	return []expr.Any{
		&expr.Numgen{Register: 1, Modulus: 100, Type: unix.NFT_NG_RANDOM},
		&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: data},
	}
}

// deleteTable queues the deletion of the agent's table if it exists.
func deleteTable(c *nftables.Conn) error {
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return fmt.Errorf("listing nftables tables (is CAP_NET_ADMIN granted?): %w", err)
	}
	for _, t := range tables {
		if t.Name == tableName {
			c.DelTable(t)
		}
	}
	return nil
}

func parsePeers(ss []string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range ss {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return nil, fmt.Errorf("peer %q is not an IPv4 address", s)
		}
		out = append(out, a)
	}
	return out, nil
}

// faults describes the rules in force, for the agent's status.
func (f *firewall) faults() (dropped, lossy []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range slices.Concat(f.state.dropIn, f.state.dropOut) {
		if s := a.String(); !slices.Contains(dropped, s) {
			dropped = append(dropped, s)
		}
	}
	for _, a := range f.state.lossy {
		lossy = append(lossy, a.String())
	}
	return dropped, lossy
}
