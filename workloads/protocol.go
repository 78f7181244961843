package workloads

import (
	"github.com/election-harness/harness/histories"
)

// The campaigner protocol: the harness writes one Command per line to a
// campaigner's stdin and reads one Reply per line from its stdout. Replies
// to commands carry the command's ID; asynchronous events carry ID 0 and
// Type "event". Any campaigner binary that speaks this is usable with
// --recipe exec:PATH.

// Commands (Command.Op).
const (
	OpCampaign = histories.FCampaign // block until elected or timeout; ok carries Token
	OpResign   = histories.FResign   // give up leadership; ok or fail
	OpWrite    = histories.FWrite    // leader writes Value to the register, fenced by its term
	OpRead     = histories.FRead     // read the register; ok carries Value
	OpObserve  = histories.FObserve  // start streaming "observed" events; ok at once
	// OpClock reads the campaigner's clocks: ok carries Value "WALL MONO",
	// its wall clock in Unix nanoseconds and its monotonic nanoseconds
	// since it started. Tests use it to see a clock fault from inside.
	OpClock = histories.FClock
	// OpLeaseTTL asks for the least time the lease (session) of the term
	// the campaigner leads still lives, as the store promises it (the
	// time left of a TTL query, or the TTL of a renewal): ok carries the
	// Token and Value, a Go duration ("2s"). Built-in etcd campaigners
	// ask TimeToLive, which does not renew. A campaigner whose store
	// promises no such time replies fail with an error starting
	// "unsupported", and is not asked again.
	OpLeaseTTL = histories.FLeaseTTL
	// OpAct asks a campaigner, whatever the harness believes of it, to
	// act now if it believes it leads: check its leadership as its code
	// does, do the leader's work, and write Value to Key, fenced by its
	// term if its recipe fences. ok carries the Token of the term it
	// acted under (the write happened); fail with an error starting
	// NotLeader says it does not believe it leads, or its fence refused
	// the write (nothing written); info, the outcome is unknown. The
	// harness records an act as a register write (F "write") whose
	// invoke has no token and whose completion carries the reply's. A
	// campaigner that does not act replies fail with an error starting
	// "unsupported" (or "unknown op"), and is not asked again.
	OpAct = "act"
)

// ErrUnsupported prefixes the error of an op a campaigner does not do.
const ErrUnsupported = "unsupported"

// NotLeader prefixes the error of an act that wrote nothing because the
// campaigner does not believe it leads, or its fence refused the write.
const NotLeader = "not leader"

// Unsupported reports whether a fail reply's error says the campaigner
// does not do the op: it starts "unsupported" or "unknown op".
func Unsupported(errText string) bool { return histories.Declined(errText) }

// Reply types besides ok/fail/info.
const (
	ReplyEvent = "event"
)

// Events (Reply.Event).
const (
	EventReady    = "ready"    // the campaigner is connected and accepts commands
	EventLost     = "lost"     // leadership of Token is gone (session/lease lost)
	EventObserved = "observed" // the leader changed: Key, Value, Revision
	// EventRenewed (optional): the store renewed the lease Session (the
	// Session of the tokens of the terms it holds) for Value, a Go
	// duration, answering at Revision: a revision the answering member
	// had applied before it renewed (etcd fills a keepalive's header
	// before renewing). The checker places the renewal in time by that
	// revision, never by when the harness read the event.
	EventRenewed = "renewed"
)

// Command is a line from the harness to a campaigner.
type Command struct {
	ID int64  `json:"id"`
	Op string `json:"op"`
	// Key is the register key for read, write and act.
	Key string `json:"key,omitempty"`
	// Value: for campaign, the value to proclaim; for write and act, the
	// value.
	Value string `json:"value,omitempty"`
	// TimeoutMS bounds the operation inside the campaigner; the harness
	// waits a little longer before recording it as info.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
}

// Reply is a line from a campaigner to the harness.
type Reply struct {
	ID   int64          `json:"id,omitempty"`
	Type histories.Type `json:"type"` // ok, fail, info, or "event"
	// Event names an asynchronous event when Type is "event".
	Event    string           `json:"event,omitempty"`
	Token    *histories.Token `json:"token,omitempty"`
	Key      string           `json:"key,omitempty"`
	Value    string           `json:"value,omitempty"`
	Revision int64            `json:"rev,omitempty"`
	// CreateRevision is the observed leader key's create revision.
	CreateRevision int64 `json:"create_rev,omitempty"`
	// Session is the lease a renewed event renewed.
	Session string `json:"session,omitempty"`
	Error   string `json:"error,omitempty"`
}
