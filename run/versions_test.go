package run

import (
	"slices"
	"strings"
	"testing"
)

func TestVersions(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    []string
		members []string // n1..n3 start on
	}{
		{"v3.6.16", []string{"v3.6.16"}, []string{"v3.6.16", "v3.6.16", "v3.6.16"}},
		{"v3.5.35,v3.6.16", []string{"v3.5.35", "v3.6.16"}, []string{"v3.5.35", "v3.6.16", "v3.5.35"}},
		{"v3.6.16..v3.5.35", []string{"v3.6.16", "v3.5.35"}, []string{"v3.6.16", "v3.6.16", "v3.6.16"}},
		{"", nil, []string{"", "", ""}},
	} {
		c := Config{Version: tc.version}
		if got := c.Versions(); !slices.Equal(got, tc.want) {
			t.Errorf("%q: Versions() = %q, want %q", tc.version, got, tc.want)
		}
		for i, want := range tc.members {
			if got := c.MemberVersion(i); got != want {
				t.Errorf("%q: member %d starts on %q, want %q", tc.version, i, got, want)
			}
		}
	}
}

// Runs of several versions that cannot mean what they say are refused
// before anything starts, with the reason.
func TestValidateRefusesVersions(t *testing.T) {
	for _, tc := range []struct {
		db, version, nemesis string
		binary               string
		want                 string
	}{
		{"etcd", "v3.6.16", "upgrade,partition", "", "give two, --version OLD,NEW"},
		{"etcd", "v3.5.35,v3.7.3", "upgrade,partition", "", "one minor version at a time"},
		{"etcd", "v3.5.19,v3.6.16", "partition", "", "v3.5.20 or later"},
		{"etcd", "v3.5.35,v3.6.x", "partition", "", "not of the form"},
		{"etcd", "v3.5.35,v3.6.16", "partition", "/bin/true", "leave out --binary and --image"},
		{"consul", "v1.20.6,v1.21.0", "pause", "", "cannot move between versions"},
		{"consul", "v1.20.6,v1.21.0", "upgrade", "", "not supported for consul"},
		{"etcd", "v3.5.35,v3.6.16", "upgrade,partition,pause", "", ""},
		{"etcd", "v3.6.16..v3.5.35", "upgrade", "", ""},
	} {
		c := NewConfig()
		c.DB, c.Version, c.Nemesis, c.Binary = tc.db, tc.version, strings.Split(tc.nemesis, ","), tc.binary
		c.TimeLimit = Duration(240e9)
		_, err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %s %s: %v, want accepted", tc.db, tc.version, tc.nemesis, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %s %s: %v, want an error saying %q", tc.db, tc.version, tc.nemesis, err, tc.want)
		}
	}
}

func TestMemberArgv(t *testing.T) {
	got := memberArgv([]string{"/etcd", "--name", "n1"}, "/etcd", "v3.5.35")
	if want := []string{"/etcd-v3.5.35", "--name", "n1"}; !slices.Equal(got, want) {
		t.Errorf("memberArgv = %q, want %q", got, want)
	}
}
