package db

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// progress is how far a store record has got: the revision (etcd) or
// index (Consul) up to which every change has been emitted.
type progress struct {
	mu      sync.Mutex
	seen    int64
	changed chan struct{} // closed and replaced when seen grows
}

func newProgress() *progress { return &progress{changed: make(chan struct{})} }

func (p *progress) advance(rev int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rev > p.seen {
		p.seen = rev
		close(p.changed)
		p.changed = make(chan struct{})
	}
}

// waitFor returns once seen reaches target, calling poke (if set) every
// time it looks and finds it short.
func (p *progress) waitFor(ctx context.Context, target int64, poke func()) error {
	for {
		p.mu.Lock()
		seen, changed := p.seen, p.changed
		p.mu.Unlock()
		if seen >= target {
			return nil
		}
		if poke != nil {
			poke()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the record reached %d of %d: %w", seen, target, ctx.Err())
		case <-changed:
		case <-time.After(100 * time.Millisecond):
		}
	}
}
