package nemesis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/wait"
)

// Node is what the nemesis needs of a node: its name, address, agent,
// and the backend's cgroup freezer and CPU quota (which hold the agent
// too, so they are the backend's to do and undo, not the agent's).
type Node = NodeOf[Agent]

// NodeOf is a Node whose Agent method returns the agent type A. Adapt
// turns one into a Node, as Go has no covariant method results.
type NodeOf[A Agent] interface {
	Name() string
	IP() netip.Addr
	Agent() A
	Freeze(ctx context.Context) error
	Thaw(ctx context.Context) error
	// Throttle caps the node's CPU at cpus of one CPU; 0 lifts the cap.
	Throttle(ctx context.Context, cpus float64) error
}

// Agent is what the nemesis asks of a node's agent: exactly the calls
// the fault kinds make. *agent.Client is the real one (over HTTP);
// tests use an in-memory twin.
type Agent interface {
	// Status is the agent's view of its node: what remains of faults.
	Status(ctx context.Context) (agent.Status, error)
	Partition(ctx context.Context, req agent.PartitionRequest) error
	HealPartition(ctx context.Context) error
	Loss(ctx context.Context, req agent.LossRequest) error
	HealLoss(ctx context.Context) error
	Delay(ctx context.Context, req agent.DelayRequest) error
	HealDelay(ctx context.Context) error
	Clock(ctx context.Context, req agent.ClockRequest) error
	HealClock(ctx context.Context) error
	// Stall holds the syncs of the node's data directory; HealStall
	// lets them through.
	Stall(ctx context.Context) error
	HealStall(ctx context.Context) error
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
	// Kill SIGKILLs the process; wipe also empties its data.
	Kill(ctx context.Context, wipe bool) error
	// KillLosingUnsynced SIGKILLs it and undoes the writes its data
	// directory had not synced (a power loss).
	KillLosingUnsynced(ctx context.Context) error
	// Start restarts the process as it was last started.
	Start(ctx context.Context) error
	// StartWith starts it with a new command line (a rejoined member).
	StartWith(ctx context.Context, argv []string) error
	// Heal removes every fault the agent can see.
	Heal(ctx context.Context) error
}

var _ Agent = (*agent.Client)(nil)

// Adapt makes a Node of a node whose Agent method returns a concrete
// agent type (the cluster's nodes return *agent.Client):
// nemesis.Adapt[*agent.Client](n). Go has no covariant method results,
// so such a node is not a Node by itself.
func Adapt[A Agent](n NodeOf[A]) Node {
	return adapted[A]{n}
}

type adapted[A Agent] struct {
	n NodeOf[A]
}

func (a adapted[A]) Name() string                     { return a.n.Name() }
func (a adapted[A]) IP() netip.Addr                   { return a.n.IP() }
func (a adapted[A]) Agent() Agent                     { return a.n.Agent() }
func (a adapted[A]) Freeze(ctx context.Context) error { return a.n.Freeze(ctx) }
func (a adapted[A]) Thaw(ctx context.Context) error   { return a.n.Thaw(ctx) }
func (a adapted[A]) Throttle(ctx context.Context, cpus float64) error {
	return a.n.Throttle(ctx, cpus)
}

// Leaders tells the nemesis who leads right now.
type Leaders interface {
	RaftLeader() (string, uint64)
	ElectionLeader() (string, *histories.Token)
	// ElectionLeaderActing is the election leader while it acts on its
	// leadership (early in a write: between its check and its store
	// call), "" otherwise.
	ElectionLeaderActing() string
}

// defaultAimWait bounds how long a stop of the election leader waits for
// the leader to act, when Executor.AimWait is not set.
const defaultAimWait = 3 * time.Second

// Membership changes who is a member, for member loss and rejoin.
type Membership interface {
	// Remove takes the member out of the cluster.
	Remove(ctx context.Context, member string) error
	// Rejoin removes the member if it is still one (its old identity
	// must not return with an empty log), adds it back as a new, empty
	// member, and returns the argv that starts it.
	Rejoin(ctx context.Context, member string) ([]string, error)
	// Rejoined waits until the member, started again, is a full member:
	// until then one more loss can cost the cluster its quorum.
	Rejoined(ctx context.Context, member string) error
}

// Maintenance is what an operator does to a store while it serves:
// compaction and defragmentation.
type Maintenance interface {
	// CompactBehind compacts the store's history to keep revisions
	// behind its head, never past what the store's record has read, and
	// returns the revision compacted to (0: nothing yet).
	CompactBehind(ctx context.Context, keep int64) (int64, error)
	// Defragment rewrites the member's backend.
	Defragment(ctx context.Context, member string) error
}

// Failpoints sets members' failpoints (a server built with them), by
// member name.
type Failpoints interface {
	// Set turns failpoint name of member on with terms.
	Set(ctx context.Context, member, name, terms string) error
	// Clear turns it off; one already off is cleared.
	Clear(ctx context.Context, member, name string) error
	// List is every failpoint of the member's build, with its terms
	// ("" when off); an error when it serves no failpoint control (not
	// running).
	List(ctx context.Context, member string) (map[string]string, error)
}

// Executor applies planned steps to a cluster and heals them.
type Executor struct {
	Members     []Node
	Campaigners []Node
	// APIServers are the kube-apiserver nodes in front of the members,
	// in a run whose recipe elects through them; nil otherwise.
	APIServers []Node
	Leaders    Leaders
	Membership Membership // nil: wipe faults are refused
	Failpoints Failpoints // nil: failpoint faults are refused
	// Maintenance compacts the store and defragments members; nil:
	// compact and defrag faults are refused.
	Maintenance Maintenance
	// Versions moves members between a run's versions; nil: upgrade
	// faults are refused.
	Versions Versions
	Recorder *histories.Recorder
	Log      *slog.Logger
	// AimWait bounds how long a stop of the election leader waits for a
	// leader to act: as long as a failover can take (the store's lease
	// expiry), so that a stop planned while no one leads still finds
	// the next leader instead of a campaigner at random.
	AimWait time.Duration
	// LeaseExpiry is the longest the store takes to end an unrenewed
	// lease (db.DB's LeaseExpiry for the run's TTL): how long a renewal
	// stalled by failpoint renew-past-revoke sleeps. 0: that rule is
	// refused.
	LeaseExpiry time.Duration

	mu     sync.Mutex
	nextID int64
	active map[int64]*fault
	// wiped are members removed and not yet rejoined.
	wiped map[string]bool
}

// fault is one applied fault and how to undo it.
type fault struct {
	event histories.Fault
	apply func(ctx context.Context) error
	heal  func(ctx context.Context) error
	// halt, if set, stops what the fault keeps doing in the background
	// (a strobing clock); HealAll calls it before healing the nodes.
	halt func()
}

// Run applies steps on schedule, from start, until ctx is done. Each step
// is healed when its duration ends; on return no step of it is active.
func (x *Executor) Run(ctx context.Context, start time.Time, steps []Step) {
	for i, s := range steps {
		x.Recorder.Record(histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultPlan,
			Fault: &histories.Fault{ID: int64(i + 1), Kind: s.Kind, Params: map[string]string{
				"rule": s.Rule, "start": s.Start.String(), "duration": s.Duration.String()}}})
	}
	for _, s := range steps {
		if !wait.Until(ctx, start.Add(s.Start)) {
			return
		}
		f, err := x.Start(ctx, s)
		if err != nil {
			x.Log.Warn("fault not applied", "kind", s.Kind, "rule", s.Rule, "err", err)
			continue
		}
		// From when it started: a fault that waited for its moment still
		// lasts as long as planned.
		wait.For(ctx, s.Duration)
		// Heal even when the run is ending: a fresh context, so a cancelled
		// run still undoes its fault.
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), healBound(s.Kind))
		if err := x.Stop(hctx, f.ID); err != nil {
			x.Log.Warn("fault not healed; HealAll will retry", "id", f.ID, "err", err)
		}
		cancel()
	}
}

// defaultHealWithin bounds a fault's heal unless its kind says otherwise.
const defaultHealWithin = 15 * time.Second

// healBound is how long the heal of a fault of kind may take.
func healBound(kind string) time.Duration {
	if k := kindNamed(kind); k != nil && k.healWithin > 0 {
		return k.healWithin
	}
	return defaultHealWithin
}

// HealWithin is the longest heal of any kind in a --nemesis list
// (entries KIND or KIND:RULE): what healing everything may take.
func HealWithin(entries []string) time.Duration {
	longest := defaultHealWithin
	for _, e := range entries {
		kind, _, _ := strings.Cut(e, ":")
		longest = max(longest, healBound(kind))
	}
	return longest
}

// Start resolves and applies one step, recording its start. It returns
// the fault as resolved (its ID is Stop's argument).
func (x *Executor) Start(ctx context.Context, s Step) (histories.Fault, error) {
	rng := rand.New(rand.NewPCG(s.Pick, 1))
	if k := kindNamed(s.Kind); k != nil && k.stopsANode && s.Rule == TargetElectionLeader {
		x.awaitActingLeader(ctx)
	}
	f, err := x.resolve(rng, s)
	if err != nil {
		return histories.Fault{}, err
	}
	x.mu.Lock()
	x.nextID++
	f.event.ID = x.nextID
	if x.active == nil {
		x.active = map[int64]*fault{}
	}
	x.active[f.event.ID] = f
	x.mu.Unlock()
	// Record before applying: a fault's effect must never precede its
	// start in the history.
	x.Recorder.Record(histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart, Fault: &f.event})
	if err := f.apply(ctx); err != nil {
		x.Recorder.Record(histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart,
			Fault: &f.event, Error: fmt.Sprintf("applying: %v", err)})
		x.Log.Warn("fault partly applied", "kind", s.Kind, "err", err)
	}
	return f.event, nil
}

// Stop heals one fault and records its stop.
func (x *Executor) Stop(ctx context.Context, id int64) error {
	x.mu.Lock()
	f := x.active[id]
	x.mu.Unlock()
	if f == nil {
		return nil
	}
	err := f.heal(ctx)
	ev := histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStop, Fault: &f.event}
	if err != nil {
		ev.Error = err.Error()
	} else {
		x.mu.Lock()
		delete(x.active, id)
		x.mu.Unlock()
	}
	x.Recorder.Record(ev)
	return err
}

// HealAll removes every fault from every node, whatever the nemesis
// believes is active: rules, pauses and stopped processes. It retries
// each node until ctx is done and returns the nodes it could not heal.
func (x *Executor) HealAll(ctx context.Context) error {
	x.mu.Lock()
	for id, f := range x.active {
		if f.halt != nil {
			f.halt()
		}
		x.Recorder.Record(histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStop, Fault: &f.event})
		delete(x.active, id)
	}
	x.mu.Unlock()
	nodes := append(append(append([]Node{}, x.Members...), x.Campaigners...), x.APIServers...)
	errs := make([]error, len(nodes))
	// A wiped member must rejoin as a new member before its agent heals
	// it: restarted as it first was, it would not find its cluster. It
	// can take its full place only once no partition cuts it off.
	var rejoined []string
	for _, n := range x.Members {
		if x.isWiped(n.Name()) {
			if err := x.rejoin(ctx, n); err != nil {
				return fmt.Errorf("rejoining %s: %w", n.Name(), err)
			}
			rejoined = append(rejoined, n.Name())
		}
	}
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				// A frozen node's agent cannot answer: thaw it first, and
				// lift any CPU cap. Then ask the agent what remains: healed
				// means nothing does.
				err := errors.Join(n.Thaw(ctx), n.Throttle(ctx, 0), n.Agent().Heal(ctx))
				if err == nil {
					err = remaining(ctx, n)
				}
				if err == nil && byName(x.Members, n.Name()) != nil {
					err = x.clearFailpoints(ctx, n.Name())
				}
				if err == nil {
					errs[i] = nil
					return
				}
				errs[i] = fmt.Errorf("healing %s: %w", n.Name(), err)
				if !wait.For(ctx, 300*time.Millisecond) {
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, name := range rejoined {
		if err := x.Membership.Rejoined(ctx, name); err != nil {
			return fmt.Errorf("rejoining %s: %w", name, err)
		}
	}
	// Last, with every other fault gone: every member back on the final
	// version, one at a time, as a rolling upgrade goes.
	if err := x.toFinal(ctx); err != nil {
		return fmt.Errorf("moving members to version %s: %w", x.Versions.Final(), err)
	}
	return nil
}

// resolve finds the step's kind and rule and has the kind resolve it.
func (x *Executor) resolve(rng *rand.Rand, s Step) (*fault, error) {
	ev := histories.Fault{Kind: s.Kind, Params: map[string]string{"rule": s.Rule, "duration": s.Duration.String()}}
	k := kindNamed(s.Kind)
	if k == nil {
		return nil, fmt.Errorf("unknown fault kind %q", s.Kind)
	}
	r, ok := LookupRule(s.Kind, s.Rule)
	if !ok {
		return nil, fmt.Errorf("unknown %s rule %q", s.Kind, s.Rule)
	}
	// A rule that cannot do what it says with this cluster is not
	// applied (one with a fallback is carried out as that).
	if len(x.Members) < r.MinMembers && r.Fallback == "" {
		return nil, fmt.Errorf("%s:%s %s", s.Kind, s.Rule, r.RunsWith(len(x.Members)))
	}
	return k.resolve(x, rng, r, ev)
}

// stopTarget resolves the node a stop (pause, freeze, kill) acts on,
// and names it in ev; a stop of the election leader caught acting on
// its leadership is marked aim: mid-write.
func (x *Executor) stopTarget(rng *rand.Rand, r Rule, ev *histories.Fault) (Node, error) {
	n, err := x.target(rng, r.Name)
	if err != nil {
		return nil, err
	}
	ev.Targets = []string{n.Name()}
	if r.Name == TargetElectionLeader && x.Leaders.ElectionLeaderActing() == n.Name() {
		ev.Params["aim"] = "mid-write"
	}
	return n, nil
}

// resolveStop is the resolve of a stop kind (pause, freeze, kill): the
// node stopTarget picks, stopped and started again by the actions that
// actions gives for it.
func resolveStop(actions func(n Node) (apply, heal func(context.Context) error)) func(*Executor, *rand.Rand, Rule, histories.Fault) (*fault, error) {
	return func(x *Executor, rng *rand.Rand, r Rule, ev histories.Fault) (*fault, error) {
		n, err := x.stopTarget(rng, r, &ev)
		if err != nil {
			return nil, err
		}
		apply, heal := actions(n)
		return &fault{event: ev, apply: apply, heal: heal}, nil
	}
}

// remaining says which faults a node's agent still reports, kind by
// kind.
func remaining(ctx context.Context, n Node) error {
	st, err := n.Agent().Status(ctx)
	if err != nil {
		return err
	}
	var left []string
	for _, k := range allKinds {
		if k.left == nil {
			continue
		}
		if l := k.left(st); l != "" {
			left = append(left, l)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("still has %s", strings.Join(left, ", "))
	}
	return nil
}

// awaitActingLeader waits, up to AimWait, until the election leader is
// acting on its leadership: a leader stopped between its check and its
// write is the one that wakes and acts on a lease that ended while it
// slept, which a leader stopped between writes may notice first.
func (x *Executor) awaitActingLeader(ctx context.Context) {
	bound := x.AimWait
	if bound <= 0 {
		bound = defaultAimWait
	}
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	for x.Leaders.ElectionLeaderActing() == "" {
		if !wait.For(ctx, 5*time.Millisecond) {
			return
		}
	}
}

// eachNode applies do to every node, and joins the errors.
func eachNode(nodes []Node, do func(n Node) error) error {
	return each(nodes, Node.Name, do)
}

func each[T any](items []T, name func(T) string, do func(T) error) error {
	var errs []error
	for _, it := range items {
		if err := do(it); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name(it), err))
		}
	}
	return errors.Join(errs...)
}

// target resolves a single-node rule, falling back to a random node of
// the same role when the leader is not known right now.
func (x *Executor) target(rng *rand.Rand, rule string) (Node, error) {
	switch rule {
	case TargetRaftLeader, TargetRaftLeaderLong:
		name, _ := x.Leaders.RaftLeader()
		return namedOrPick(rng, x.Members, name)
	case TargetRandomMember:
		return pick(rng, x.Members)
	case TargetElectionLeader:
		// A leader acting on its leadership right now is the better aim.
		if name := x.Leaders.ElectionLeaderActing(); name != "" {
			if n := byName(x.Campaigners, name); n != nil {
				return n, nil
			}
		}
		name, _ := x.Leaders.ElectionLeader()
		return namedOrPick(rng, x.Campaigners, name)
	case TargetRandomCampaigner:
		return pick(rng, x.Campaigners)
	case TargetRandomAPIServer:
		if len(x.APIServers) == 0 {
			return nil, errors.New("no apiserver in this run")
		}
		return pick(rng, x.APIServers)
	}
	return nil, fmt.Errorf("unknown target rule %q", rule)
}

// namedOrPick is the node of nodes named name or, when name is "" or
// names none of them (a leader not known right now), a random one.
func namedOrPick(rng *rand.Rand, nodes []Node, name string) (Node, error) {
	if name != "" {
		if n := byName(nodes, name); n != nil {
			return n, nil
		}
	}
	return pick(rng, nodes)
}

func pick(rng *rand.Rand, nodes []Node) (Node, error) {
	if len(nodes) == 0 {
		return nil, errors.New("no node to target")
	}
	return nodes[rng.IntN(len(nodes))], nil
}

func byName(nodes []Node, name string) Node {
	for _, n := range nodes {
		if n.Name() == name {
			return n
		}
	}
	return nil
}

// front is what a campaigner talks to: the members, and the apiservers
// in front of them in a run that has them.
func (x *Executor) front() []Node {
	return append(append([]Node{}, x.Members...), x.APIServers...)
}

func without(nodes []Node, x Node) []Node {
	var out []Node
	for _, n := range nodes {
		if n.Name() != x.Name() {
			out = append(out, n)
		}
	}
	return out
}

func names(nodes []Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Name()
	}
	return out
}

func addrs(nodes []Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.IP().String()
	}
	return out
}
