package etcd

import "testing"

func TestRenewMode(t *testing.T) {
	for _, tc := range []struct {
		opts    map[string]string
		want    string
		wantErr bool
	}{
		{nil, RenewKeepAlive, false},
		{map[string]string{OptionRenew: RenewOnce}, RenewOnce, false},
		{map[string]string{OptionRenew: RenewKeepAlive}, RenewKeepAlive, false},
		{map[string]string{OptionRenew: "twice"}, "", true},
		{map[string]string{"lock-delay": "1s"}, "", true},
	} {
		got, err := renewMode(tc.opts)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("renewMode(%v) = %q, %v; want %q, error %v", tc.opts, got, err, tc.want, tc.wantErr)
		}
	}
}
