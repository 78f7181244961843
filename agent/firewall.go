package agent

import (
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

// firewall cuts a node off from peers with nftables, through netlink:
// node images have no nft or iptables binary. Packets are dropped, never
// rejected, so peers see a silent network, as in a real partition.
type firewall struct {
	// opts select the network namespace (tests use another one).
	opts []nftables.ConnOption

	mu      sync.Mutex
	dropped []string
}

// apply replaces every rule with drops of traffic to and/or from peers,
// in one netlink batch.
func (f *firewall) apply(req PartitionRequest) error {
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
	var elems []nftables.SetElement
	for _, s := range req.Drop {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return fmt.Errorf("peer %q is not an IPv4 address", s)
		}
		b := a.As4()
		elems = append(elems, nftables.SetElement{Key: b[:]})
	}
	if len(elems) == 0 {
		return f.heal()
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := nftables.New(f.opts...)
	if err != nil {
		return fmt.Errorf("opening netlink: %w", err)
	}
	if err := deleteTable(c); err != nil {
		return err
	}
	t := c.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: tableName})
	peers := &nftables.Set{Table: t, Name: "peers", KeyType: nftables.TypeIPAddr}
	if err := c.AddSet(peers, elems); err != nil {
		return fmt.Errorf("adding peer set: %w", err)
	}
	if in {
		addDropChain(c, t, peers, "input", nftables.ChainHookInput, offsetSaddr)
	}
	if out {
		addDropChain(c, t, peers, "output", nftables.ChainHookOutput, offsetDaddr)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("installing partition rules (is CAP_NET_ADMIN granted?): %w", err)
	}
	f.dropped = slices.Clone(req.Drop)
	return nil
}

// addDropChain adds a base chain at hook with one rule: IPv4 packets
// whose address at offset is in peers are dropped.
func addDropChain(c *nftables.Conn, t *nftables.Table, peers *nftables.Set, name string, hook *nftables.ChainHook, offset uint32) {
	ch := c.AddChain(&nftables.Chain{Name: name, Table: t, Type: nftables.ChainTypeFilter, Hooknum: hook, Priority: nftables.ChainPriorityFilter})
	c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV4}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Lookup{SourceRegister: 1, SetName: peers.Name, SetID: peers.ID},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}})
}

// heal removes the agent's table, and with it every rule.
func (f *firewall) heal() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := nftables.New(f.opts...)
	if err != nil {
		return fmt.Errorf("opening netlink: %w", err)
	}
	if err := deleteTable(c); err != nil {
		return err
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("removing partition rules: %w", err)
	}
	f.dropped = nil
	return nil
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

func (f *firewall) peers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.dropped)
}
