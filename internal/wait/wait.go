// Package wait sleeps in a way a cancelled context interrupts.
package wait

import (
	"context"
	"time"
)

// For waits d; false if ctx ended first.
func For(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Until waits until t; false if ctx ended first.
func Until(ctx context.Context, t time.Time) bool { return For(ctx, time.Until(t)) }

// Every calls tick with the time of each tick, every d, until ctx ends.
// The first call comes after d, as with a time.Ticker, and a tick that
// runs long makes the ticks it overlapped collapse into one.
func Every(ctx context.Context, d time.Duration, tick func(now time.Time)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			tick(now)
		}
	}
}
