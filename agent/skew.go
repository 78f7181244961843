package agent

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/election-harness/harness/agent/clock"
)

// tracerTimeout bounds one step of the clock tracer.
const tracerTimeout = 10 * time.Second

// skewer keeps the clock patch of the supervised process; the ptrace
// work is done by a tracer process (clock.Remote). A restarted process
// starts with true time; its old patch is forgotten.
type skewer struct {
	tracer []string // argv of the tracer command

	mu    sync.Mutex
	patch *clock.Patch
	skew  *ClockRequest
}

// set skews the clocks of process pid (0: not running).
func (k *skewer) set(pid int, req ClockRequest) error {
	s := clock.Skew{Offset: time.Duration(req.OffsetNS), MonotonicOffset: time.Duration(req.MonotonicOffsetNS), Rate: req.Rate}
	if err := s.Validate(); err != nil {
		return err
	}
	if pid == 0 {
		return errors.New("process is not running")
	}
	if len(k.tracer) == 0 {
		return errors.New("this agent has no clock tracer")
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.patch != nil && k.patch.PID() != pid {
		k.patch, k.skew = nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), tracerTimeout)
	defer cancel()
	p, err := clock.Remote(ctx, k.tracer, clock.Request{PID: pid, Patch: k.patch, Skew: &s})
	k.patch = p
	if err != nil {
		return err
	}
	k.skew = &req
	return nil
}

// heal gives process pid true time again.
func (k *skewer) heal(pid int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.patch == nil || k.patch.PID() != pid || pid == 0 {
		k.patch, k.skew = nil, nil // never patched, or the patched process is gone
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), tracerTimeout)
	defer cancel()
	p, err := clock.Remote(ctx, k.tracer, clock.Request{PID: pid, Patch: k.patch})
	k.patch = p
	if err != nil {
		return err
	}
	k.skew = nil
	return nil
}

func (k *skewer) current(pid int) *ClockRequest {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.patch == nil || k.patch.PID() != pid {
		return nil
	}
	return k.skew
}
