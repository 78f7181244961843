package nemesis

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/histories"
)

// journal is one ordered record of what the in-memory twins were asked,
// across every node, the membership and the history, so that a test can
// say what happened before what. A nil journal records nothing.
type journal struct {
	mu    sync.Mutex
	lines []string
}

func (j *journal) add(format string, args ...any) {
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = append(j.lines, fmt.Sprintf(format, args...))
}

// all is a copy of the journal so far.
func (j *journal) all() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.lines)
}

// count is how many lines start with prefix.
func (j *journal) count(prefix string) int {
	n := 0
	for _, l := range j.all() {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// fakeAgent is an in-memory agent: it keeps the faults it is asked for
// as the real agent's Status reports them, and journals every call as
// "NODE CALL" (heals too). failHeals makes that many Heal calls fail
// before one succeeds.
type fakeAgent struct {
	node string
	j    *journal

	mu        sync.Mutex
	st        agent.Status
	argv      []string // the command line of the last StartWith
	failHeals int
	// heldAfterHeal is how many syncs HealStall leaves held (a sync
	// the filesystem never lets go).
	heldAfterHeal int
	// heldOnStall is how many syncs Stall catches at once (writes in
	// flight when the gate closes).
	heldOnStall int
}

var _ Agent = (*fakeAgent)(nil)

func newFakeAgent(node string, j *journal) *fakeAgent {
	// As in a run that stalls disks: the data directory can be stalled.
	return &fakeAgent{node: node, j: j, st: agent.Status{Name: node, Running: true, Starts: 1, StallFS: true}}
}

// do journals a call and applies change to the status under the lock.
func (a *fakeAgent) do(call string, change func(st *agent.Status) error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.j.add("%s %s", a.node, call)
	return change(&a.st)
}

func (a *fakeAgent) status() agent.Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.st
}

func (a *fakeAgent) Status(ctx context.Context) (agent.Status, error) {
	if err := ctx.Err(); err != nil {
		return agent.Status{}, err
	}
	return a.status(), nil
}

func (a *fakeAgent) Partition(ctx context.Context, req agent.PartitionRequest) error {
	return a.do("partition "+req.Direction+" "+strings.Join(req.Drop, ","), func(st *agent.Status) error {
		st.Dropped = req.Drop
		return nil
	})
}

func (a *fakeAgent) HealPartition(ctx context.Context) error {
	return a.do("heal-partition", func(st *agent.Status) error { st.Dropped = nil; return nil })
}

func (a *fakeAgent) Loss(ctx context.Context, req agent.LossRequest) error {
	return a.do(fmt.Sprintf("loss %d%% %s", req.Percent, strings.Join(req.Peers, ",")), func(st *agent.Status) error {
		st.Lossy = req.Peers
		return nil
	})
}

func (a *fakeAgent) HealLoss(ctx context.Context) error {
	return a.do("heal-loss", func(st *agent.Status) error { st.Lossy = nil; return nil })
}

func (a *fakeAgent) Delay(ctx context.Context, req agent.DelayRequest) error {
	return a.do(fmt.Sprintf("delay %dms %s", req.DelayMS, strings.Join(req.Peers, ",")), func(st *agent.Status) error {
		st.Delayed = req.Peers
		return nil
	})
}

func (a *fakeAgent) HealDelay(ctx context.Context) error {
	return a.do("heal-delay", func(st *agent.Status) error { st.Delayed = nil; return nil })
}

func (a *fakeAgent) Clock(ctx context.Context, req agent.ClockRequest) error {
	return a.do(fmt.Sprintf("clock offset=%v rate=%v", req.OffsetNS, req.Rate), func(st *agent.Status) error {
		st.Clock = &req
		return nil
	})
}

func (a *fakeAgent) HealClock(ctx context.Context) error {
	return a.do("heal-clock", func(st *agent.Status) error { st.Clock = nil; return nil })
}

func (a *fakeAgent) Stall(ctx context.Context) error {
	return a.do("stall", func(st *agent.Status) error {
		if !st.StallFS {
			return errors.New("the data directory is not on the stalling filesystem")
		}
		st.DiskStalled, st.SyncsHeld = true, a.heldOnStall
		return nil
	})
}

func (a *fakeAgent) HealStall(ctx context.Context) error {
	return a.do("heal-stall", func(st *agent.Status) error { st.DiskStalled, st.SyncsHeld = false, a.heldAfterHeal; return nil })
}

func (a *fakeAgent) Pause(ctx context.Context) error {
	return a.do("pause", func(st *agent.Status) error { st.Paused = true; return nil })
}

func (a *fakeAgent) Resume(ctx context.Context) error {
	return a.do("resume", func(st *agent.Status) error { st.Paused = false; return nil })
}

func (a *fakeAgent) Kill(ctx context.Context, wipe bool) error {
	return a.do("kill wipe="+strconv.FormatBool(wipe), func(st *agent.Status) error {
		st.Running, st.Paused = false, false
		return nil
	})
}

func (a *fakeAgent) KillLosingUnsynced(ctx context.Context) error {
	return a.do("kill lose-unsynced", func(st *agent.Status) error {
		st.Running, st.Paused = false, false
		st.Losses++
		return nil
	})
}

func (a *fakeAgent) Start(ctx context.Context) error {
	return a.do("start", func(st *agent.Status) error { start(st); return nil })
}

func (a *fakeAgent) StartWith(ctx context.Context, argv []string) error {
	return a.do("start-with "+strings.Join(argv, " "), func(st *agent.Status) error {
		a.argv = argv
		start(st)
		return nil
	})
}

func (a *fakeAgent) Heal(ctx context.Context) error {
	return a.do("heal", func(st *agent.Status) error {
		if a.failHeals > 0 {
			a.failHeals--
			return errors.New("injected heal failure")
		}
		st.Dropped, st.Lossy, st.Delayed, st.Clock, st.Paused = nil, nil, nil, nil, false
		st.DiskStalled, st.SyncsHeld = false, 0
		start(st)
		return nil
	})
}

// start starts a process that is not running, as the supervisor does.
func start(st *agent.Status) {
	if !st.Running {
		st.Running = true
		st.Starts++
	}
}

// fakeNode is a node whose agent is a fakeAgent and whose backend
// freezer only journals.
type fakeNode struct {
	name  string
	ip    netip.Addr
	agent *fakeAgent
	j     *journal

	mu        sync.Mutex
	frozen    bool
	throttled float64
}

func (n *fakeNode) Name() string   { return n.name }
func (n *fakeNode) IP() netip.Addr { return n.ip }
func (n *fakeNode) Agent() Agent   { return n.agent }

func (n *fakeNode) Freeze(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.j.add("%s freeze", n.name)
	n.frozen = true
	return nil
}

func (n *fakeNode) Throttle(ctx context.Context, cpus float64) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if cpus > 0 {
		n.j.add("%s throttle", n.name)
	}
	n.throttled = cpus
	return nil
}

func (n *fakeNode) Thaw(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.j.add("%s thaw", n.name)
	n.frozen = false
	return nil
}

// nodes are n fake nodes named prefix1..prefixN, with addresses of their
// own, journaling nowhere.
func nodes(prefix string, n int) []Node {
	return journaledNodes(nil, prefix, n)
}

// journaledNodes are n fake nodes journaling into j.
func journaledNodes(j *journal, prefix string, n int) []Node {
	net := byte(0) // members 10.0.0.i, campaigners (any other prefix) 10.0.100.i
	if prefix != "n" {
		net = 100
	}
	var out []Node
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("%s%d", prefix, i)
		out = append(out, &fakeNode{name: name, ip: netip.AddrFrom4([4]byte{10, 0, net, byte(i)}), agent: newFakeAgent(name, j), j: j})
	}
	return out
}

// fakeMembership journals membership changes, and gives a rejoined
// member the argv "rejoin NAME".
type fakeMembership struct {
	j          *journal
	failRejoin error
}

func (m *fakeMembership) Remove(ctx context.Context, member string) error {
	m.j.add("membership remove %s", member)
	return nil
}

func (m *fakeMembership) Rejoin(ctx context.Context, member string) ([]string, error) {
	m.j.add("membership rejoin %s", member)
	if m.failRejoin != nil {
		return nil, m.failRejoin
	}
	return []string{"rejoin", member}, nil
}

func (m *fakeMembership) Rejoined(ctx context.Context, member string) error {
	m.j.add("membership rejoined %s", member)
	return nil
}

// journalHistory journals every fault event the recorder records, as
// "history F ID KIND".
func journalHistory(j *journal, rec *histories.Recorder) {
	rec.OnRecord(func(e histories.Event) {
		if e.Fault != nil && e.F != histories.FFaultPlan {
			j.add("history %s %d %s", e.F, e.Fault.ID, e.Fault.Kind)
		}
	})
}

// fakeVersions journals moves between versions "old" and "new" (the
// final), with members starting on start (default "new"), and gives a member moved to V
// the argv "server-V NAME".
type fakeVersions struct {
	j     *journal
	mu    sync.Mutex
	on    map[string]string
	start string
	// failPrepare fails every Prepare.
	failPrepare error
}

func (v *fakeVersions) Final() string { return "new" }

func (v *fakeVersions) Of(member string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if on, ok := v.on[member]; ok {
		return on
	}
	if v.start != "" {
		return v.start
	}
	return "new"
}

func (v *fakeVersions) Other(member string) string { return "old" }

func (v *fakeVersions) Prepare(ctx context.Context, member, to string) ([]string, error) {
	v.j.add("versions prepare %s %s", member, to)
	if v.failPrepare != nil {
		return nil, v.failPrepare
	}
	return []string{"server-" + to, member}, nil
}

func (v *fakeVersions) Moved(ctx context.Context, member, to string) error {
	v.j.add("versions moved %s %s", member, to)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.on == nil {
		v.on = map[string]string{}
	}
	v.on[member] = to
	return nil
}

// offFinal lists the members not on the final version.
func (v *fakeVersions) offFinal(members []Node) []string {
	var out []string
	for _, m := range members {
		if v.Of(m.Name()) != v.Final() {
			out = append(out, m.Name()+" on "+v.Of(m.Name()))
		}
	}
	return out
}
