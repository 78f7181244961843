package cluster

import (
	"slices"
	"strings"
	"testing"
)

// The stalling filesystem's mounts are found by their type and named by
// their device's minor number; other mounts, FUSE ones (fuse-overlayfs
// roots) too, and malformed lines are passed over.
func TestFUSEConnectionIDs(t *testing.T) {
	mountinfo := strings.Join([]string{
		"22 1 0:21 / /proc rw,nosuid - proc proc rw",
		"36 35 0:45 / /data rw,nosuid,nodev,relatime shared:20 - fuse.stall /data.real rw,user_id=0,group_id=0",
		"37 35 0:46 / /other rw master:3 - fuse.stall /dev/fuse rw",
		"39 1 0:47 / / rw - fuse.fuse-overlayfs fuse-overlayfs rw",
		"40 35 0:48 / /plain rw - fuse /dev/fuse rw",
		"38 35 8:1 / /etc/hosts rw - ext4 /dev/sda1 rw",
		"malformed",
	}, "\n")
	ids, err := fuseConnectionIDs(strings.NewReader(mountinfo))
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint32{45, 46}; !slices.Equal(ids, want) {
		t.Errorf("connections %v, want %v", ids, want)
	}
}
