package checker

import (
	"fmt"
	"math"

	"github.com/election-harness/harness/histories"
)

// never is the completion time of an operation whose outcome is unknown:
// it may take effect at any later time.
const never = math.MaxInt64

// op is an invocation and its completion.
type op struct {
	invoke histories.Event
	// done is the completion; for an operation the history never
	// completed (a crash), a synthetic info at time never.
	done histories.Event
}

func (o *op) process() string { return o.invoke.Process }

// history is a history indexed for the checks.
type history struct {
	events   []histories.Event
	ops      map[string][]*op // by function, in invoke order
	probes   []histories.Event
	store    []histories.Event
	lost     []histories.Event
	observed []histories.Event
	phases   map[string]histories.Event // the last of each phase
	end      int64                      // time of the last event
	// recordComplete: the store's record was read to the end of the run.
	recordComplete bool
	// recordKind is how the record was taken (FStoreRecord), "" if the
	// history does not say.
	recordKind string
}

// index builds the checks' view of a history. A history the reader
// would refuse (a completion with no open invocation of the same
// process and function, an op id reused while open) is an error: the
// checker never guesses what a malformed history meant.
func index(h []histories.Event) (*history, error) {
	x := &history{events: h, ops: map[string][]*op{}, phases: map[string]histories.Event{}}
	open := map[int64]*op{}
	for _, e := range h {
		x.end = e.Time
		switch {
		case e.Type == histories.Invoke:
			if open[e.Op] != nil {
				return nil, fmt.Errorf("event %d: op %d invoked again while still open", e.Index, e.Op)
			}
			o := &op{invoke: e}
			open[e.Op] = o
			x.ops[e.F] = append(x.ops[e.F], o)
		case e.IsCompletion():
			o := open[e.Op]
			if o == nil {
				return nil, fmt.Errorf("event %d: %s of op %d, which has no open invocation", e.Index, e.Type, e.Op)
			}
			if o.invoke.Process != e.Process || o.invoke.F != e.F {
				return nil, fmt.Errorf("event %d: completion of op %d by %s %s, but it was invoked by %s as %s", e.Index, e.Op, e.Process, e.F, o.invoke.Process, o.invoke.F)
			}
			o.done = e
			delete(open, e.Op)
		case e.F == histories.FStatus:
			x.probes = append(x.probes, e)
		case e.F == histories.FStorePut || e.F == histories.FStoreDelete || e.F == histories.FStoreGap:
			x.store = append(x.store, e)
		case e.F == histories.FLost:
			x.lost = append(x.lost, e)
		case e.F == histories.FObserved:
			x.observed = append(x.observed, e)
		case e.F == histories.FStoreRecord:
			x.recordKind = e.Value
		case e.F == histories.FPhase:
			x.phases[e.Value] = e
		}
	}
	for _, o := range open {
		d := o.invoke
		d.Type, d.Time, d.Error = histories.Info, never, "no completion in the history"
		o.done = d
	}
	_, x.recordComplete = x.phases[histories.PhaseRecord]
	return x, nil
}
