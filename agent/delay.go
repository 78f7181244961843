package agent

import (
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The kernels this runs on may lack netem, so delay is done in the
// agent: packets to the delayed peers are routed into a TUN device, held
// for the delay (plus or minus the jitter), and sent on through a raw
// socket whose mark makes them skip the TUN route. A link delayed both
// ways is delayed at both ends (each delays what it sends).
const (
	delayDevice   = "hdelay"
	delayTable    = 100
	delayMark     = 0x4e48 // "NH": packets the agent sends on
	delayPriority = 100
)

// delayer holds at most one delay: to a set of peers.
type delayer struct {
	mu  sync.Mutex
	cur *delayRun
}

type delayRun struct {
	peers  []netip.Addr
	tun    *os.File
	link   netlink.Link
	rule   *netlink.Rule
	raw    int
	stop   chan struct{}
	done   sync.WaitGroup
	delay  time.Duration
	jitter time.Duration
}

// set replaces the delay: packets to req.Peers wait DelayMS ± JitterMS.
func (d *delayer) set(req DelayRequest) error {
	peers, err := parsePeers(req.Peers)
	if err != nil {
		return err
	}
	if req.DelayMS < 0 || req.JitterMS < 0 || req.JitterMS > req.DelayMS {
		return fmt.Errorf("delay %dms ± %dms: want 0 ≤ jitter ≤ delay", req.DelayMS, req.JitterMS)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.stopLocked(); err != nil {
		return err
	}
	if len(peers) == 0 || req.DelayMS == 0 {
		return nil
	}
	r, err := startDelay(peers, time.Duration(req.DelayMS)*time.Millisecond, time.Duration(req.JitterMS)*time.Millisecond)
	if err != nil {
		return fmt.Errorf("delaying packets (is CAP_NET_ADMIN granted?): %w", err)
	}
	d.cur = r
	return nil
}

// heal removes the delay: the device, its routes and the rule.
func (d *delayer) heal() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stopLocked()
}

func (d *delayer) peers() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cur == nil {
		return nil
	}
	var out []string
	for _, p := range d.cur.peers {
		out = append(out, p.String())
	}
	return out
}

func (d *delayer) stopLocked() error {
	r := d.cur
	d.cur = nil
	if r == nil {
		return nil
	}
	close(r.stop)
	var errs []error
	if err := netlink.RuleDel(r.rule); err != nil {
		errs = append(errs, fmt.Errorf("removing the delay rule: %w", err))
	}
	errs = append(errs, r.tun.Close()) // the device, and its routes, go with it
	r.done.Wait()
	unix.Close(r.raw)
	if err := netlink.LinkDel(r.link); err != nil && !errors.Is(err, unix.ENODEV) {
		var nf netlink.LinkNotFoundError
		if !errors.As(err, &nf) {
			errs = append(errs, fmt.Errorf("removing the delay device: %w", err))
		}
	}
	return errors.Join(errs...)
}

func startDelay(peers []netip.Addr, delay, jitter time.Duration) (r *delayRun, err error) {
	r = &delayRun{peers: peers, raw: -1, stop: make(chan struct{}), delay: delay, jitter: jitter}
	defer func() {
		if err != nil {
			r.cleanup()
		}
	}()
	// The route to the first peer says which address the node sends from.
	routes, err := netlink.RouteGet(net.IP(peers[0].AsSlice()))
	if err != nil || len(routes) == 0 {
		return nil, fmt.Errorf("finding the route to %s: %v", peers[0], err)
	}
	src, mtu := routes[0].Src, 1500
	if l, err := netlink.LinkByIndex(routes[0].LinkIndex); err == nil {
		mtu = l.Attrs().MTU
	}
	if err := ensureTunDevice(); err != nil {
		return nil, err
	}
	tun := &netlink.Tuntap{LinkAttrs: netlink.LinkAttrs{Name: delayDevice, MTU: mtu}, Mode: netlink.TUNTAP_MODE_TUN,
		Flags: netlink.TUNTAP_DEFAULTS | netlink.TUNTAP_NO_PI, NonPersist: true, Queues: 1}
	if err := netlink.LinkAdd(tun); err != nil {
		return nil, fmt.Errorf("creating %s: %w", delayDevice, err)
	}
	r.link = tun
	if len(tun.Fds) == 0 {
		return nil, fmt.Errorf("creating %s: no queue", delayDevice)
	}
	r.tun = tun.Fds[0]
	if err := netlink.LinkSetUp(tun); err != nil {
		return nil, fmt.Errorf("bringing %s up: %w", delayDevice, err)
	}
	for _, p := range peers {
		dst := &net.IPNet{IP: net.IP(p.AsSlice()), Mask: net.CIDRMask(32, 32)}
		if err := netlink.RouteAdd(&netlink.Route{LinkIndex: tun.Index, Dst: dst, Src: src, Table: delayTable, Scope: netlink.SCOPE_LINK}); err != nil {
			return nil, fmt.Errorf("routing %s through %s: %w", p, delayDevice, err)
		}
	}
	rule := netlink.NewRule()
	rule.Table, rule.Mark, rule.Invert, rule.Priority, rule.Family = delayTable, delayMark, true, delayPriority, unix.AF_INET
	if err := netlink.RuleAdd(rule); err != nil {
		return nil, fmt.Errorf("adding the delay rule: %w", err)
	}
	r.rule = rule
	if r.raw, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW); err != nil {
		return nil, fmt.Errorf("opening a raw socket: %w", err)
	}
	if err := unix.SetsockoptInt(r.raw, unix.SOL_SOCKET, unix.SO_MARK, delayMark); err != nil {
		return nil, fmt.Errorf("marking the raw socket: %w", err)
	}
	q := make(chan heldPacket, 4096)
	r.done.Add(2)
	go r.read(q)
	go r.send(q)
	return r, nil
}

// cleanup undoes a half-made start.
func (r *delayRun) cleanup() {
	if r.rule != nil {
		netlink.RuleDel(r.rule)
	}
	if r.tun != nil {
		r.tun.Close()
	}
	if r.link != nil {
		netlink.LinkDel(r.link)
	}
	if r.raw >= 0 {
		unix.Close(r.raw)
	}
}

// ensureTunDevice makes /dev/net/tun, which a scratch image lacks.
func ensureTunDevice() error {
	if _, err := os.Stat("/dev/net/tun"); err == nil {
		return nil
	}
	if err := os.MkdirAll("/dev/net", 0o755); err != nil {
		return err
	}
	if err := unix.Mknod("/dev/net/tun", unix.S_IFCHR|0o600, int(unix.Mkdev(10, 200))); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("making /dev/net/tun: %w", err)
	}
	return nil
}

type heldPacket struct {
	due time.Time
	b   []byte
}

// read takes packets off the device and gives each its due time.
func (r *delayRun) read(q chan<- heldPacket) {
	defer r.done.Done()
	defer close(q)
	buf := make([]byte, 65536)
	for {
		n, err := r.tun.Read(buf)
		if err != nil {
			return // closed
		}
		d := r.delay
		if r.jitter > 0 {
			d += time.Duration(rand.Int64N(int64(2*r.jitter)+1)) - r.jitter
		}
		select {
		case q <- heldPacket{due: time.Now().Add(d), b: slices.Clone(buf[:n])}:
		case <-r.stop:
			return
		}
	}
}

// send sends each packet on when it is due, in due order.
func (r *delayRun) send(q <-chan heldPacket) {
	defer r.done.Done()
	var held packetHeap
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if len(held) > 0 {
			timer.Reset(time.Until(held[0].due))
		}
		select {
		case p, ok := <-q:
			if !ok {
				return
			}
			heap.Push(&held, p)
		case <-timer.C:
			for len(held) > 0 && !held[0].due.After(time.Now()) {
				r.sendOn(heap.Pop(&held).(heldPacket).b)
			}
		case <-r.stop:
			return
		}
	}
}

func (r *delayRun) sendOn(pkt []byte) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return // not IPv4
	}
	var to unix.SockaddrInet4
	copy(to.Addr[:], pkt[16:20])
	_ = unix.Sendto(r.raw, pkt, 0, &to) // a lost packet is what a network does
}

type packetHeap []heldPacket

func (h packetHeap) Len() int           { return len(h) }
func (h packetHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h packetHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *packetHeap) Push(x any)        { *h = append(*h, x.(heldPacket)) }
func (h *packetHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	*h = old[:len(old)-1]
	return p
}
