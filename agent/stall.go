package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// A stalled disk: the data directory is served through a FUSE
// passthrough filesystem whose files' fsync and fdatasync (FUSE FSYNC,
// with or without its datasync flag) wait while a gate is closed. Reads
// and writes go on; only durability stops, as on a disk whose flushes
// hang. The process's other threads run: a raft loop blocked in its
// WAL's fdatasync while its lessor and its servers go on (etcd #15247),
// which SIGSTOP, freezing everything, cannot show.
//
// The kernel holds a file's inode lock through a FUSE fsync, so while
// one is held, writes to that same file wait too (reads, and other
// files, do not). A directory's fsync (FSYNCDIR) is let through: held,
// its lock would block every create, rename and unlink in the
// directory, which a hung disk's fsync does not do.

// StallFSName is the stalling filesystem's subtype: its mounts are of
// type "fuse.stall", which is how cleanup tells them from others (the
// engine's own fuse-overlayfs roots).
const StallFSName = "stall"

// errNoStallFS: the agent was started without the stalling filesystem.
var errNoStallFS = errors.New("the data directory is not on the stalling filesystem: the node was started without --stall-disk (a run whose --nemesis includes stall)")

// syncGate holds syncs while it is closed. Opening it lets every held
// sync through; release fails the ones held now (their process is
// being killed) and keeps the gate as it is.
type syncGate struct {
	mu sync.Mutex
	// opened is closed when the gate opens; nil while the gate is open.
	opened chan struct{}
	// released is closed by release; replaced then.
	released chan struct{}
	held     int   // syncs waiting now
	stalled  int64 // syncs ever held
}

func newSyncGate() *syncGate { return &syncGate{released: make(chan struct{})} }

// close holds every sync from now on until open.
func (g *syncGate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.opened == nil {
		g.opened = make(chan struct{})
	}
}

// open lets the held syncs through, and every later one.
func (g *syncGate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.opened != nil {
		close(g.opened)
		g.opened = nil
	}
}

// release fails the syncs held now with EINTR: a process killed in a
// FUSE request waits uninterruptibly for its answer, so the supervisor
// releases them after SIGKILL. The gate stays closed for the next
// process.
func (g *syncGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.released)
	g.released = make(chan struct{})
}

// wait returns 0 once the gate is open, EINTR if released first.
// Interrupts from the kernel (a signal to the caller) are ignored: a
// sync on a hung disk does not end because its caller got a signal, and
// a Go program's bare fdatasync (etcd's) would take EINTR for a failure.
func (g *syncGate) wait() syscall.Errno {
	g.mu.Lock()
	opened, released := g.opened, g.released
	if opened == nil {
		g.mu.Unlock()
		return 0
	}
	g.held++
	g.stalled++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.held--
		g.mu.Unlock()
	}()
	select {
	case <-opened:
		return 0
	case <-released:
		return syscall.EINTR
	}
}

// state is whether the gate is closed, the syncs it holds now, and how
// many it ever held.
func (g *syncGate) state() (closed bool, held int, stalled int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.opened != nil, g.held, g.stalled
}

// stallFS is the data directory's FUSE mount: files live in real, the
// process sees them at the mount point.
type stallFS struct {
	gate      *syncGate
	unsynced  *unsyncedLog
	stopFlush context.CancelFunc
	server    *fuse.Server
	dir       string
}

// realDir is where the files of a stalling data directory live.
func realDir(dataDir string) string { return dataDir + ".real" }

// mountStallFS mounts the passthrough filesystem over dataDir, its files
// kept in realDir(dataDir). It calls mount(2) itself (DirectMountStrict),
// so it needs CAP_SYS_ADMIN and /dev/fuse, but no fusermount.
func mountStallFS(dataDir string) (*stallFS, error) {
	real := realDir(dataDir)
	for _, d := range []string{real, dataDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("stalling filesystem: %w", err)
		}
	}
	root, err := fs.NewLoopbackRoot(real)
	if err != nil {
		return nil, fmt.Errorf("stalling filesystem: %w", err)
	}
	g := newSyncGate()
	log := newUnsyncedLog(real)
	rootNode := &stallNode{LoopbackNode: root.(*fs.LoopbackNode), gate: g, unsynced: log}
	server, err := fs.Mount(dataDir, rootNode, &fs.Options{MountOptions: fuse.MountOptions{
		DirectMountStrict: true,
		FsName:            real,
		Name:              StallFSName,
		// The kernel asks for security.capability before every write
		// unless told there are no xattrs: a round trip a write.
		DisableXAttrs: true,
		// Every write must reach the server, which keeps what unsynced
		// writes overwrote: no kernel passthrough to the real file.
		DisabledCapabilities: fuse.CAP_PASSTHROUGH,
	}})
	if err != nil {
		return nil, fmt.Errorf("mounting the stalling filesystem over %s (needs /dev/fuse and CAP_SYS_ADMIN): %w", dataDir, err)
	}
	flushCtx, stopFlush := context.WithCancel(context.Background())
	go log.flush(flushCtx)
	sfs := &stallFS{gate: g, unsynced: log, stopFlush: stopFlush, server: server, dir: dataDir}
	if err := fuseCloseOnExec(); err != nil {
		sfs.unmount()
		return nil, err
	}
	return sfs, nil
}

// fuseCloseOnExec marks this process's /dev/fuse descriptors close-on-exec.
// go-fuse opens /dev/fuse without O_CLOEXEC when it mounts by itself, so
// the supervised process would inherit the connection. The connection would
// then outlive the agent when it dies. A process exiting inside a request
// on the mount (a flush at close) would wait forever for an answer, and
// keep the container from stopping (`docker rm -f` is refused).
func fuseCloseOnExec() error {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("finding the /dev/fuse descriptor: %w", err)
	}
	found := false
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err != nil || target != "/dev/fuse" {
			continue
		}
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
			return fmt.Errorf("marking /dev/fuse (fd %d) close-on-exec: %w", fd, err)
		}
		found = true
	}
	if !found {
		return errors.New("mounted the stalling filesystem, but found no /dev/fuse descriptor to mark close-on-exec")
	}
	return nil
}

// unmount opens the gate and unmounts.
func (s *stallFS) unmount() error {
	s.stopFlush()
	s.gate.open()
	if err := s.server.Unmount(); err != nil {
		return fmt.Errorf("unmounting %s: %w", s.dir, err)
	}
	return nil
}

// stallNode is a passthrough node whose syncs wait at the gate and
// whose unsynced writes can be lost.
type stallNode struct {
	*fs.LoopbackNode
	gate     *syncGate
	unsynced *unsyncedLog
}

var (
	_ fs.NodeFsyncer     = (*stallNode)(nil)
	_ fs.NodeWrapChilder = (*stallNode)(nil)
)

// WrapChild makes every node under the root a stallNode too.
func (n *stallNode) WrapChild(ctx context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	if lb, ok := ops.(*fs.LoopbackNode); ok {
		return &stallNode{LoopbackNode: lb, gate: n.gate, unsynced: n.unsynced}
	}
	return ops
}

// Fsync holds a file's fsync or fdatasync (flags has FUSE_FSYNC_FDATASYNC)
// at the gate, then passes it on.
func (n *stallNode) Fsync(ctx context.Context, f fs.FileHandle, flags uint32) syscall.Errno {
	if errno := n.gate.wait(); errno != 0 {
		return errno
	}
	if fsy, ok := f.(fs.FileFsyncer); ok {
		errno := fsy.Fsync(ctx, flags)
		if errno == 0 {
			n.unsynced.synced(n.StableAttr().Ino)
		}
		return errno
	}
	// The kernel syncs a file without a handle (fsync on an O_PATH
	// descriptor cannot happen): nothing to pass on.
	return 0
}

// status puts the gate's state into st; nothing without the
// filesystem.
func (s *stallFS) status(st *Status) {
	if s == nil {
		return
	}
	st.StallFS = true
	st.DiskStalled, st.SyncsHeld, st.SyncsStalled = s.gate.state()
	st.Losses, st.LostFiles, st.LostBytes = s.unsynced.state()
}

// up lets changes through after a loss: the process is starting.
func (s *stallFS) up() {
	if s != nil {
		s.unsynced.up()
	}
}

// loseUnsynced undoes the writes not yet synced (see unsyncedLog).
func (s *stallFS) loseUnsynced() error {
	if s == nil {
		return errNoUnsyncedLog
	}
	return s.unsynced.loseUnsynced()
}

// stall closes the gate.
func (s *stallFS) stall() error {
	if s == nil {
		return errNoStallFS
	}
	s.gate.close()
	return nil
}

// unstall opens the gate and waits, briefly, until no sync is held.
// Without the filesystem there is nothing to heal.
func (s *stallFS) unstall() error {
	if s == nil {
		return nil
	}
	s.gate.open()
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, held, _ := s.gate.state()
		if held == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d syncs still held 2s after the gate opened", held)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// releaseHeld fails the syncs held now (see syncGate.release).
func (s *stallFS) releaseHeld() {
	if s != nil {
		s.gate.release()
	}
}
