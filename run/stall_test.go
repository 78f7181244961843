package run

import (
	"testing"

	"github.com/election-harness/harness/cluster"
	"github.com/election-harness/harness/db/etcd"
)

// Only a run whose nemesis stalls disks puts its members' data on the
// stalling filesystem (FUSE costs throughput; other runs must not
// change); campaigners never.
func TestOnlyStallingRunsMountTheStallingFilesystem(t *testing.T) {
	for _, tc := range []struct {
		nemesis []string
		want    bool
	}{
		{nil, false},
		{[]string{"partition", "pause", "kill"}, false},
		{[]string{"stall"}, true},
		{[]string{"pause", "stall:raft-leader"}, true},
	} {
		spec := ClusterSpec(Config{Nodes: 3, Campaigners: 2, Nemesis: tc.nemesis, Recipe: "etcd-election"}, etcd.DB{})
		for _, n := range spec.Nodes {
			want := tc.want && n.Role == cluster.RoleMember
			if n.StallDisk != want {
				t.Errorf("nemesis %v: node %s (%s) StallDisk %v, want %v", tc.nemesis, n.Name, n.Role, n.StallDisk, want)
			}
		}
	}
}
