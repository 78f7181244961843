package etcd

import (
	"strings"
	"testing"
)

func TestCheckMove(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		want     string // "" allowed; else a part of the refusal
	}{
		{"v3.5.35", "v3.6.16", ""},
		{"v3.6.16", "v3.5.35", ""},
		{"v3.6.16", "v3.7.3", ""},
		{"v3.7.3", "v3.6.16", ""},
		{"v3.6.15", "v3.6.16", ""},
		{"v3.5.20", "v3.6.0", ""},
		{"v3.5.19", "v3.6.16", "v3.5.20 or later"},
		{"v3.6.16", "v3.5.16", "v3.5.20 or later"},
		{"v3.5.35", "v3.7.3", "one minor version at a time"},
		{"v3.7.3", "v3.5.35", "one minor version at a time"},
		{"v3.4.30", "v3.5.35", "v3.5 and later"},
		{"v3.6", "v3.6.16", "not of the form"},
	} {
		err := DB{}.CheckMove(tc.from, tc.to)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckMove(%s, %s): %v, want allowed", tc.from, tc.to, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("CheckMove(%s, %s): %v, want an error saying %q", tc.from, tc.to, err, tc.want)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want semver
	}{{"v3.6.16", semver{3, 6, 16}}, {"3.5.0", semver{3, 5, 0}}, {"v3.7.0-rc.0", semver{3, 7, 0}}} {
		if got, err := parseVersion(tc.in); err != nil || got != tc.want {
			t.Errorf("parseVersion(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if (semver{3, 6, 0}).cluster() != "3.6.0" {
		t.Error("cluster version of 3.6")
	}
}
