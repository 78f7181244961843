package wait

import (
	"context"
	"testing"
	"time"
)

// TestEveryTicksUntilCancelled: Every calls tick repeatedly and returns
// once the tick cancels its context.
func TestEveryTicksUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ticks := 0
	Every(ctx, time.Millisecond, func(time.Time) {
		ticks++
		if ticks == 3 {
			cancel()
		}
	})
	// A tick due as ctx ends may still come: Every's select picks either.
	if ticks < 3 || ctx.Err() != context.Canceled {
		t.Fatalf("Every returned after %d ticks (ctx: %v), want 3 or more and a cancelled ctx", ticks, ctx.Err())
	}
}
