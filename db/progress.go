package db

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Progress is how far a store record has got: the revision or index up
// to which every change has been emitted. Records embed it to implement
// StoreRecord.Sync.
type Progress struct {
	mu      sync.Mutex
	seen    int64
	changed chan struct{} // closed and replaced when seen grows
}

// NewProgress is a record's progress before any change.
func NewProgress() *Progress { return &Progress{changed: make(chan struct{})} }

// Advance records that every change up to rev has been emitted.
func (p *Progress) Advance(rev int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rev > p.seen {
		p.seen = rev
		close(p.changed)
		p.changed = make(chan struct{})
	}
}

// Seen is the revision or index up to which every change has been
// emitted.
func (p *Progress) Seen() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen
}

// WaitFor returns once the record reaches target, calling poke (if set)
// every time it looks and finds it short.
func (p *Progress) WaitFor(ctx context.Context, target int64, poke func()) error {
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
