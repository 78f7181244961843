package cluster

import (
	"errors"
	"fmt"
	"testing"
)

// A run's removal that failed only because the daemon keeps an empty
// network is the daemon's leftover; any other failure among them is the
// run's.
func TestOnlyPhantoms(t *testing.T) {
	ph := &PhantomNetworkError{Network: "n"}
	other := errors.New("removing n1: boom")
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{ph, true},
		{fmt.Errorf("removing network x: %w", ph), true},
		{errors.Join(fmt.Errorf("removing network x: %w", ph)), true},
		{errors.Join(other, ph), false},
		{other, false},
	} {
		if got := OnlyPhantoms(tc.err); got != tc.want {
			t.Errorf("OnlyPhantoms(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
