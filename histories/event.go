package histories

import (
	"fmt"
	"strings"
	"time"
)

// Type is Jepsen's operation type.
type Type string

const (
	// Invoke marks the start of an operation.
	Invoke Type = "invoke"
	// OK means the operation definitely happened.
	OK Type = "ok"
	// Fail means the operation definitely did not happen.
	Fail Type = "fail"
	// Info means the outcome is unknown (indeterminate), or the event is a
	// notification that is not an operation at all (faults, phases).
	Info Type = "info"
)

// Functions (Event.F) recorded by the harness. Campaigner operations come
// in invoke/completion pairs linked by Event.Op; the rest are single events.
const (
	// Campaigner operations.
	FCampaign = "campaign"  // ok carries the Token of the won term
	FResign   = "resign"    // carries the Token being resigned
	FWrite    = "write"     // Key, Value, and the Token the leader fenced with
	FRead     = "read"      // Key; ok carries the Value read ("" = absent)
	FLeaseTTL = "lease-ttl" // the leader asks how long its lease still lives; ok carries Token and Value, that time
	FObserve  = "observe"   // start streaming FObserved events
	FClock    = "clock"     // read the campaigner's clocks (tests)

	// Asynchronous campaigner notifications (Type info, no invoke).
	FLost     = "lost"     // the campaigner learned it no longer leads Token
	FObserved = "observed" // an observer saw leader Key/Value at Revision
	// FRenewed: the store renewed the campaigner's lease Session for
	// Value (a Go duration, the renewal's TTL), answering at Revision, a
	// revision the answering member had applied before the renewal
	// began. The revision, not the event's time, places the renewal in
	// time: the event is recorded when the harness reads it, which a
	// paused campaigner delays.
	FRenewed = "renewed"

	// Probes of every member's own raft view (Type ok or fail).
	FStatus = "status"
	// FServing is a probe of a kube-apiserver node's readiness (Type ok:
	// it said ready; fail: Error says what it answered instead).
	FServing = "serving"

	// The store's own record, read back from the database (Type ok).
	FStorePut    = "store-put"
	FStoreDelete = "store-delete"
	// FStoreGap (Type info) says the record missed changes of Key made
	// before revision Revision and after the key's previous store event:
	// a store without history (Consul) is read by polling, and a state
	// can come and go between two polls. Value says what was missed.
	FStoreGap = "store-gap"
	// FStoreRegressed (Type info, Process "store") says the store went
	// back in time: read linearizably, its revision (Revision) was below
	// one its record had already seen (Value). It lost changes it had
	// acknowledged.
	FStoreRegressed = "store-regressed"
	// FStoreState (Type ok, Process "store") is every key under the
	// run's prefix as the store holds it at Revision, the end of its
	// record (Changes: key, value, mod and create revision): the record's
	// history of changes must build exactly this state.
	FStoreState = "store-state"
	// FStoreRecord (Type info, Process "store") says, before the record's
	// first change, how the record was taken: Value RecordEveryChange (a
	// watch from the first revision: every change, in order, so a write
	// missing from a complete record did not happen) or RecordSampled
	// (polled states: changes between two polls can be missed).
	FStoreRecord = "store-record"

	// Nemesis (Type info, Process "nemesis").
	FFaultStart = "fault-start"
	FFaultStop  = "fault-stop"
	// FFaultPlan is one planned fault, recorded when the nemesis starts:
	// Fault.Params holds its rule, start offset and duration. Same seed,
	// same plan.
	FFaultPlan = "fault-plan"

	// Run phases (Type info, Process "harness"): Value names the phase.
	FPhase = "phase"

	// FMemberVersion (Type info) says member Member.Name runs the server
	// of version Value from now on: for every member when the workload
	// starts (Process "harness") in a run of several versions, and each
	// time the upgrade fault moves one (Process "nemesis").
	FMemberVersion = "member-version"
	// FVersionCheck (Type info, Process "harness") is the end of a run of
	// several versions: Value says the version every member runs and the
	// cluster version they report; Error, what was not so.
	FVersionCheck = "version-check"
	// FMemberHash (Type ok or fail, Process "harness") is one member's
	// digest of the run's data at the end of the run: Member.Name, the
	// digest as Value, the revision (etcd) or index (Consul) it covers as
	// Revision; fail with Error when the member could not say. P9
	// judges that every member holds the same data at the same revision.
	FMemberHash = "member-hash"
	// FMemberLog (Type ok or fail, Process "harness") is the scan of one
	// member's log at the end of the run for the lines its database
	// writes when it crashes (a panic, a fatal error, found corruption):
	// ok, none; fail, the first such line as Value and where it was as
	// Error. P10 judges them.
	FMemberLog = "member-log"

	// A watcher per member follows the run's keys through that member
	// alone (Process WatchProcess(member), Member.Name the member); P11
	// judges what each delivered against the store's record.
	//
	// FWatchStart (Type info): a watch opened, to deliver every change
	// from Revision on (a resume after the watch ended, too).
	FWatchStart = "watch-start"
	// FWatched (Type ok): one watch response, its Changes in the order
	// delivered, Revision its header's revision; a progress notification
	// has no changes and Value "progress": every change up to Revision
	// has been delivered.
	FWatched = "watched"
	// FWatchEnd (Type info): the watch stopped. Error says why when the
	// store or the client library ended it (compacted: Revision is the
	// compact revision); none when the harness closed it at the end.
	FWatchEnd = "watch-end"
)

// WatchProgress is FWatched's Value for a progress notification.
const WatchProgress = "progress"

// WatchProcess is the Process of the watcher pinned to member.
func WatchProcess(member string) string { return "watch:" + member }

// Change is one event a watch delivered: a put of Value, or a delete, of
// Key at Revision; CreateRevision is the key's create revision (etcd:
// equal to Revision for the put that created it).
type Change struct {
	Key            string `json:"key"`
	Delete         bool   `json:"delete,omitempty"`
	Value          string `json:"value,omitempty"`
	Revision       int64  `json:"rev"`
	CreateRevision int64  `json:"create_rev,omitempty"`
}

// Fault kinds (Fault.Kind): the nemesis names its faults with these, and
// a check that treats a kind apart (P7 judges no run with clock faults)
// names it with the same constant.
const (
	FaultPartition = "partition" // nftables drops, by grudge
	FaultPause     = "pause"     // SIGSTOP of the node's process
	FaultFreeze    = "freeze"    // cgroup freezer of the whole node
	FaultKill      = "kill"      // SIGKILL, restarted with its data
	FaultWipe      = "wipe"      // a member's data lost: removed, and rejoined empty
	FaultLoss      = "loss"      // random packet loss on a node's links
	FaultDelay     = "delay"     // packets held on a node's links
	FaultClock     = "clock"     // per-process clock offset, rate or strobe
	FaultFailpoint = "failpoint" // a server failpoint set (gofail): a stuck raft loop, a crash at the WAL
	FaultUpgrade   = "upgrade"   // a member restarted on its data with another server version
	FaultStall     = "stall"     // a member's fsyncs held (FUSE), the rest of its process running
	FaultThrottle  = "throttle"  // a node's CPU quota cut to a few percent: it runs, slowly
	// FaultLoseUnsynced: a power loss: SIGKILL with the writes not yet
	// fsynced undone, restarted on what remains.
	FaultLoseUnsynced = "lose-unsynced"
	// FaultCompact: the store's history compacted again and again.
	FaultCompact = "compact"
	// FaultDefrag: a member's backend defragmented.
	FaultDefrag = "defrag"
	// FaultEndTerm: the harness ended a term's session from outside
	// (Params "key": the term's key), as the campaigner check does; not a
	// nemesis fault, and no property blames the store for that end.
	FaultEndTerm = "end-term"
)

// Phases recorded with FPhase.
const (
	PhaseStart      = "start"       // workload begins
	PhaseHeal       = "heal"        // all faults healed
	PhaseQuiet      = "quiet"       // quiet period after heal ends
	PhaseFinalReads = "final-reads" // final reads begin
	PhaseEnd        = "end"         // run ends normally
	PhaseRecord     = "record"      // store's own record follows
)

// How a store's record was taken (FStoreRecord's Value).
const (
	RecordEveryChange = "every-change"
	RecordSampled     = "sampled"
)

// Phases are every phase FPhase may name.
var Phases = []string{PhaseStart, PhaseHeal, PhaseQuiet, PhaseFinalReads, PhaseEnd, PhaseRecord}

// Operations are the functions recorded as operations: an invoke and at
// most one completion (ok, fail or info), linked by an op id. Every other
// function is a single event, without an op id.
var Operations = []string{FCampaign, FResign, FWrite, FRead, FLeaseTTL, FObserve, FClock}

// singles are the single events and the types each may have.
var singles = map[string][]Type{
	FLost:           {Info},
	FObserved:       {Info},
	FRenewed:        {Info},
	FStatus:         {OK, Fail},
	FServing:        {OK, Fail},
	FStorePut:       {OK},
	FStoreDelete:    {OK},
	FStoreGap:       {Info},
	FStoreRegressed: {Info},
	FStoreState:     {OK},
	FStoreRecord:    {Info},
	FFaultStart:     {Info},
	FFaultStop:      {Info},
	FFaultPlan:      {Info},
	FPhase:          {Info},

	FMemberVersion: {Info},
	FVersionCheck:  {Info},
	FMemberHash:    {OK, Fail},
	FMemberLog:     {OK, Fail},
	FWatchStart:    {Info},
	FWatched:       {OK},
	FWatchEnd:      {Info},
}

// Process names that are not campaigners.
const (
	ProcessNemesis = "nemesis"
	ProcessHarness = "harness"
	ProcessStore   = "store"
)

// Event is one line of history.jsonl.
type Event struct {
	// Index is the event's position in the history, from 0.
	Index int64 `json:"index"`
	// Time is nanoseconds since the run started, on the harness's
	// monotonic clock. Never a node's clock.
	Time int64 `json:"time"`
	Type Type  `json:"type"`
	// Process is who acted: a campaigner ("c1"), a probed member ("probe:n1"),
	// "nemesis", "harness" or "store".
	Process string `json:"process"`
	F       string `json:"f"`
	// Op links an invocation to its completion; unique per history, 0
	// for single events.
	Op int64 `json:"op,omitempty"`

	Key   string `json:"key,omitempty"`
	Value string `json:"value,omitempty"`
	// Token is the election term token a campaign won, or a leader used.
	Token *Token `json:"token,omitempty"`
	// Revision is the store's revision or index for store events and
	// observations (etcd: mod revision; Consul: ModifyIndex).
	Revision int64 `json:"rev,omitempty"`
	// CreateRevision is the key's create revision for store events (etcd:
	// create revision; Consul: CreateIndex).
	CreateRevision int64 `json:"create_rev,omitempty"`
	// PrevRevision is, for a store event of a store that says so (etcd's
	// previous key-value), the revision of the key's change before this
	// one; 0 if the key did not exist.
	PrevRevision int64 `json:"prev_rev,omitempty"`
	// Session is the lease or session that owned a stored key.
	Session string `json:"session,omitempty"`

	Member *MemberStatus `json:"member,omitempty"`
	Fault  *Fault        `json:"fault,omitempty"`
	// Changes are the events of one watch response (FWatched).
	Changes []Change `json:"changes,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// Token identifies one election term as the store granted it.
type Token struct {
	// Key is the leader key that proves the term (etcd: the campaigner's
	// key under the election prefix; Consul: the lock key).
	Key string `json:"key"`
	// Seq orders terms: etcd, the key's create revision; Consul, the
	// lock's ModifyIndex at acquisition. Higher is later.
	Seq int64 `json:"seq"`
	// Session is the lease (etcd) or session (Consul) that holds the key.
	Session string `json:"session,omitempty"`
	// Index is Consul's LockIndex; 0 for etcd.
	Index int64 `json:"index,omitempty"`
}

func (t Token) String() string {
	if t.Index != 0 {
		return fmt.Sprintf("%s@%d/%d", t.Key, t.Seq, t.Index)
	}
	return fmt.Sprintf("%s@%d", t.Key, t.Seq)
}

// MemberStatus is one member's own view of raft, as a probe saw it.
type MemberStatus struct {
	Name     string `json:"name"`
	ID       string `json:"id,omitempty"`
	Term     uint64 `json:"term"`
	Leader   string `json:"leader,omitempty"` // the leader's ID, "" if none
	IsLeader bool   `json:"is_leader"`
	// Version is the server's own version and ClusterVersion the
	// cluster version it reports ("3.6.16", "3.6.0"), where the
	// database says; a member upgraded in the run reports the change.
	Version        string `json:"version,omitempty"`
	ClusterVersion string `json:"cluster_version,omitempty"`
}

// Fault describes one injected fault.
type Fault struct {
	// ID links a fault's start and stop.
	ID   int64  `json:"id"`
	Kind string `json:"kind"` // one of the Fault* kinds
	// Targets are the node names the fault acts on.
	Targets []string `json:"targets,omitempty"`
	// Params are kind-specific (the grudge, durations...).
	Params map[string]string `json:"params,omitempty"`
}

// Duration converts an event time to a time.Duration since run start.
func (e Event) Duration() time.Duration { return time.Duration(e.Time) }

// IsCompletion reports whether the event completes an invoked operation.
func (e Event) IsCompletion() bool {
	return e.Op != 0 && (e.Type == OK || e.Type == Fail || e.Type == Info)
}

// Declined reports whether a failed operation's error says the
// campaigner does not do it: it starts "unsupported" or "unknown op"
// (docs/campaigner-protocol.md). An optional command declined so is not
// asked again, and what it would show is not checked.
func Declined(errText string) bool {
	return strings.HasPrefix(errText, "unsupported") || strings.HasPrefix(errText, "unknown op")
}
