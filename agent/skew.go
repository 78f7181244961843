package agent

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/election-harness/harness/agent/clock"
)

// skewer keeps the clock patch of the supervised process. A restarted
// process starts with true time; its old patch is forgotten.
type skewer struct {
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
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.patch == nil || k.patch.PID() != pid {
		p, err := clock.Inject(pid)
		if err != nil {
			return fmt.Errorf("patching the clocks of %d: %w", pid, err)
		}
		k.patch, k.skew = p, nil
	}
	if err := k.patch.Set(s); err != nil {
		return err
	}
	k.skew = &req
	return nil
}

// heal gives process pid true time again.
func (k *skewer) heal(pid int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	p := k.patch
	k.patch, k.skew = nil, nil
	if p == nil || p.PID() != pid || pid == 0 {
		return nil // never patched, or the patched process is gone
	}
	return p.Remove()
}

func (k *skewer) current(pid int) *ClockRequest {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.patch == nil || k.patch.PID() != pid {
		return nil
	}
	return k.skew
}
