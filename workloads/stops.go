package workloads

import (
	"slices"
	"sync"
	"time"

	"github.com/election-harness/harness/histories"
)

// stopKinds are the fault kinds that stop a node they target, or cut it
// off: a campaigner under one cannot hear the harness, nor show what it
// believes.
var stopKinds = []string{histories.FaultPause, histories.FaultFreeze, histories.FaultKill, histories.FaultPartition, histories.FaultLoss}

// Stops tracks which campaigners a fault stops or cuts off now, and when
// each last ran again. The generator tells a leader nothing that ends
// its term while it is stopped, nor for a quiet time after: a resumed
// leader first shows what it believes. It is a histories.Recorder sink;
// safe for concurrent use.
type Stops struct {
	mu      sync.Mutex
	active  map[string]map[int64]bool // target -> the faults stopping it
	resumed map[string]time.Time      // target -> when its last stop ended
}

// NewStops returns a tracker with no campaigner stopped.
func NewStops() *Stops {
	return &Stops{active: map[string]map[int64]bool{}, resumed: map[string]time.Time{}}
}

// Observe follows fault starts and stops.
func (s *Stops) Observe(e histories.Event) {
	if e.Fault == nil || !slices.Contains(stopKinds, e.Fault.Kind) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.F {
	case histories.FFaultStart:
		for _, t := range e.Fault.Targets {
			if s.active[t] == nil {
				s.active[t] = map[int64]bool{}
			}
			s.active[t][e.Fault.ID] = true
		}
	case histories.FFaultStop:
		// A stop event may name no targets: the fault's start did.
		for t, ids := range s.active {
			if ids[e.Fault.ID] {
				delete(ids, e.Fault.ID)
				if len(ids) == 0 {
					delete(s.active, t)
					s.resumed[t] = time.Now()
				}
			}
		}
	}
}

// Quiet reports whether name must not be told to end its term now: a
// fault stops or cuts it off, or it ran again less than quiet ago.
func (s *Stops) Quiet(name string, quiet time.Duration) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.active[name]) > 0 {
		return true
	}
	r, ok := s.resumed[name]
	return ok && time.Since(r) < quiet
}
