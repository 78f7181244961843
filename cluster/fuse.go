package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/docker/docker/client"
	"golang.org/x/sys/unix"

	"github.com/election-harness/harness/agent"
)

// fuseConnections is where the kernel lists FUSE connections (fusectl).
const fuseConnections = "/sys/fs/fuse/connections"

// abortFUSE aborts the stalling filesystem's FUSE connections mounted in
// the container whose init process is pid, a node being removed. Other
// FUSE mounts are left alone: the engine's storage driver can be
// fuse-overlayfs, whose mount is the container's root.
// A connection whose server (the node's agent) stopped answering holds
// its callers in uninterruptible sleep, and the container cannot die
// until the connection is aborted. The node is going away, so aborting
// costs nothing. Errors are for the caller to report if the removal
// fails too.
func abortFUSE(pid int) error {
	if pid <= 0 {
		return nil
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		return nil // the process is gone: nothing is mounted in it
	}
	defer f.Close()
	ids, err := fuseConnectionIDs(f)
	if err != nil || len(ids) == 0 {
		return err
	}
	if entries, _ := os.ReadDir(fuseConnections); len(entries) == 0 {
		if err := unix.Mount("fusectl", fuseConnections, "fusectl", 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mounting fusectl on %s: %w", fuseConnections, err)
		}
	}
	var errs []error
	for _, id := range ids {
		path := filepath.Join(fuseConnections, strconv.FormatUint(uint64(id), 10), "abort")
		if err := os.WriteFile(path, []byte("1"), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("aborting FUSE connection %d: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// fuseConnectionIDs reads a mountinfo file and returns the connection
// number of each stalling filesystem's mount in it: its device's minor
// number (FUSE mounts have anonymous devices, major 0).
func fuseConnectionIDs(r io.Reader) ([]uint32, error) {
	var ids []uint32
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		// ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPER
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+1 >= len(fields) || len(fields) < 3 {
			continue
		}
		if fields[sep+1] != "fuse."+agent.StallFSName {
			continue
		}
		_, minor, ok := strings.Cut(fields[2], ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(minor, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("mountinfo: device %q: %w", fields[2], err)
		}
		ids = append(ids, uint32(n))
	}
	return ids, sc.Err()
}

// abortContainerFUSE aborts the FUSE connections of container id, if it
// runs (abortFUSE).
func abortContainerFUSE(ctx context.Context, cli client.APIClient, id string) error {
	info, err := cli.ContainerInspect(ctx, id)
	if err != nil || info.State == nil || !inContainer(info.State.Pid, id) {
		return nil
	}
	return abortFUSE(info.State.Pid)
}

// inContainer says whether pid, as this process sees it, is container
// id's process: the engine's PIDs are its host's, and a harness in a
// container of its own sees other processes under those numbers.
func inContainer(pid int, id string) bool {
	cgroup, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	return err == nil && id != "" && strings.Contains(string(cgroup), id)
}
