package agent

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// returnsWithin runs fn and reports whether it returned within d, and
// its result (a channel to read later if it did not).
func returnsWithin[T any](d time.Duration, fn func() T) (chan T, bool) {
	ch := make(chan T, 1)
	go func() { ch <- fn() }()
	select {
	case v := <-ch:
		ch <- v
		return ch, true
	case <-time.After(d):
		return ch, false
	}
}

// needFUSE skips a test where the stalling filesystem cannot be mounted.
func needFUSE(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("no /dev/fuse here (%v): the stalling filesystem cannot be mounted", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting FUSE with mount(2) needs root (CAP_SYS_ADMIN)")
	}
}

func TestSyncGate(t *testing.T) {
	g := newSyncGate()
	if _, ok := returnsWithin(time.Second, g.wait); !ok {
		t.Fatal("an open gate held a sync")
	}
	g.close()
	held, ok := returnsWithin(200*time.Millisecond, g.wait)
	if ok {
		t.Fatal("a closed gate let a sync through")
	}
	waitHeld(t, g, 1)
	g.open()
	select {
	case errno := <-held:
		if errno != 0 {
			t.Fatalf("a sync let through failed: %v", errno)
		}
	case <-time.After(time.Second):
		t.Fatal("opening the gate let no sync through")
	}
	waitHeld(t, g, 0)
	if closed, _, stalled := g.state(); closed || stalled != 1 {
		t.Fatalf("state after open: closed %v, stalled %d; want open, 1", closed, stalled)
	}

	// Released: the sync fails, the gate stays closed.
	g.close()
	held, _ = returnsWithin(0, g.wait)
	waitHeld(t, g, 1)
	g.release()
	select {
	case errno := <-held:
		if errno != syscall.EINTR {
			t.Fatalf("a released sync returned %v, want EINTR", errno)
		}
	case <-time.After(time.Second):
		t.Fatal("release let no sync go")
	}
	if _, ok := returnsWithin(200*time.Millisecond, g.wait); ok {
		t.Fatal("after a release the gate let a new sync through")
	}
	g.open()
}

func waitHeld(t *testing.T, g *syncGate, want int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, held, _ := g.state()
		if held == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d syncs held, want %d", held, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStallFS mounts the stalling filesystem (root and /dev/fuse, no
// Docker) and proves that a file's fsync and fdatasync wait while the
// gate is closed, that writes, reads and a directory's fsync do not,
// and that opening the gate lets them through.
func TestStallFS(t *testing.T) {
	needFUSE(t)
	data := filepath.Join(t.TempDir(), "data")
	s, err := mountStallFS(data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.unmount(); err != nil {
			t.Error(err)
		}
	})
	// A process the agent starts must not inherit the connection.
	out, err := exec.Command("/bin/sh", "-c", "ls -l /proc/self/fd/").CombinedOutput()
	if err != nil {
		t.Fatalf("listing a child's descriptors: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "/dev/fuse") {
		t.Fatalf("a child process inherits /dev/fuse:\n%s", out)
	}
	// Two files: the kernel holds a file's inode lock through its
	// fsync, so a second sync of the same file waits in the kernel. One
	// deeper down, as etcd's WAL is (member/wal).
	if err := os.MkdirAll(filepath.Join(data, "member", "wal"), 0o755); err != nil {
		t.Fatal(err)
	}
	var files [2]*os.File
	for i, name := range []string{"wal0", filepath.Join("member", "wal", "wal1")} {
		f, err := os.Create(filepath.Join(data, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.Write([]byte("entry")); err != nil {
			t.Fatal(err)
		}
		files[i] = f
	}
	dir, err := os.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	syncs := map[string]func() error{
		"fsync":     files[0].Sync,
		"fdatasync": func() error { return syscall.Fdatasync(int(files[1].Fd())) },
	}
	for name, sync := range syncs {
		if _, ok := returnsWithin(5*time.Second, sync); !ok {
			t.Fatalf("%s with the gate open did not return", name)
		}
	}

	if err := s.stall(); err != nil {
		t.Fatal(err)
	}
	var held []chan error
	for name, sync := range syncs {
		ch, ok := returnsWithin(300*time.Millisecond, sync)
		if ok {
			t.Fatalf("%s returned with the gate closed: %v", name, <-ch)
		}
		held = append(held, ch)
	}
	waitHeld(t, s.gate, len(syncs))
	// The rest of the filesystem works: a new file written and read, a
	// held file read, the directory synced.
	if ch, ok := returnsWithin(2*time.Second, func() error {
		if err := os.WriteFile(filepath.Join(data, "other"), []byte("x"), 0o644); err != nil {
			return err
		}
		if _, err := os.ReadFile(filepath.Join(data, "other")); err != nil {
			return err
		}
		if _, err := os.ReadFile(filepath.Join(data, "wal0")); err != nil {
			return err
		}
		return dir.Sync()
	}); !ok {
		t.Fatal("a write, a read or a directory's fsync waited while files' syncs were held")
	} else if err := <-ch; err != nil {
		t.Fatal(err)
	}
	var st Status
	s.status(&st)
	if !st.StallFS || !st.DiskStalled || st.SyncsHeld != len(syncs) {
		t.Fatalf("status while stalled: %+v", st)
	}

	if err := s.unstall(); err != nil {
		t.Fatal(err)
	}
	for _, ch := range held {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatalf("a held sync failed once let through: %v", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("a held sync did not return after the gate opened")
		}
	}
	st = Status{}
	s.status(&st)
	if st.DiskStalled || st.SyncsHeld != 0 || st.SyncsStalled != int64(len(syncs)) {
		t.Fatalf("status after heal: %+v", st)
	}
	if b, err := os.ReadFile(filepath.Join(realDir(data), "other")); err != nil || string(b) != "x" {
		t.Fatalf("the file written through the mount is not in the real directory: %q, %v", b, err)
	}
}

// TestProcessStartsOutsideTheStallingMount: the agent starts its process
// with a working directory off the mount, again and again. A child that
// chdirs into the agent's own FUSE mount between clone and exec can hang
// the whole agent (the runtime cannot schedule the FUSE server); a
// restart after a loss did, now and then, and so once did a first start.
func TestProcessStartsOutsideTheStallingMount(t *testing.T) {
	needFUSE(t)
	data := filepath.Join(t.TempDir(), "data")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := &agent{name: "n1", log: log, sup: &supervisor{argv: []string{"sleep", "30"}, dataDir: data, log: log}}
	if err := a.useStallFS(data); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.stall.unmount(); err != nil {
			t.Error(err)
		}
	})
	for i := range 20 {
		if err := a.start(); err != nil {
			t.Fatal(err)
		}
		pid := a.sup.status().PID
		cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		if err != nil {
			t.Fatal(err)
		}
		if cwd == data || strings.HasPrefix(cwd, data+"/") {
			t.Fatalf("start %d: the process works in %s, on the stalling filesystem's mount", i, cwd)
		}
		if err := a.kill(KillRequest{}); err != nil {
			t.Fatal(err)
		}
	}
}
