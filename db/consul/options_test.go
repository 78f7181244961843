package consul

import (
	"testing"
	"time"
)

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		opts        map[string]string
		consistency string
		lockDelay   time.Duration
		wantErr     bool
	}{
		{nil, ConsistencyDefault, LockDelay, false},
		{map[string]string{OptionConsistency: "stale"}, ConsistencyStale, LockDelay, false},
		{map[string]string{OptionLockDelay: "1s"}, ConsistencyDefault, time.Second, false},
		{map[string]string{OptionConsistency: "strong"}, "", 0, true},
		{map[string]string{OptionLockDelay: "soon"}, "", 0, true},
		{map[string]string{"quorum": "2"}, "", 0, true},
	} {
		c, d, err := options(tc.opts)
		if (err != nil) != tc.wantErr || c != tc.consistency || d != tc.lockDelay {
			t.Errorf("options(%v) = %q, %v, %v; want %q, %v, error %v", tc.opts, c, d, err, tc.consistency, tc.lockDelay, tc.wantErr)
		}
	}
}
