package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/election-harness/harness/internal/wait"
)

// Lost unsynced writes, as LazyFS plays them: the stalling filesystem
// also remembers, for each file, what every write since the file's last
// fsync overwrote and how long the file was then. Writes reach the real
// file at once, so the process reads them back as it would from the
// page cache; a power loss (loseUnsynced, run while the process is
// dead) undoes them, newest first, and cuts the file back to its synced
// length. A file created and never synced is left empty.
//
// Like the kernel's flusher, the log also writes back: a file's writes
// unsynced for writebackAfter count as on disk. A store that never
// syncs loses its last seconds then, not everything since it started.
//
// What is not played: directory entries are never lost (a create or
// rename not followed by a directory fsync survives), and writes are
// lost whole, never torn within a page.

// errNoUnsyncedLog: the node has no filesystem to lose writes from.
var errNoUnsyncedLog = errors.New("the data directory is not on the agent's filesystem: the node was started without --stall-disk (a run whose --nemesis includes stall or lose-unsynced)")

// writebackAfter is how long a file's writes stay unsynced without an
// fsync: the kernel's flusher wakes every 5 s (dirty_writeback_centisecs).
const writebackAfter = 5 * time.Second

// unsyncedLog is, per file, what its writes since its last sync
// overwrote.
type unsyncedLog struct {
	real string // the real directory the mount serves
	// writing is held, shared, by every change in flight, and alone by
	// a loss: it waits for them, and no change lands while it undoes.
	writing sync.RWMutex
	// down: a loss was played and the process has not started since.
	// Changes then are refused: they are the dead process's stragglers,
	// lost with the power.
	down  bool
	mu    sync.Mutex
	files map[uint64]*unsyncedFile // by inode number
	// losses counts loseUnsynced calls; lostBytes, the bytes of writes
	// they undid; lostFiles, the files they changed.
	losses, lostFiles int
	lostBytes         int64
}

// unsyncedFile is one file's writes since its last sync.
type unsyncedFile struct {
	inode *fs.Inode
	ino   uint64
	// reader reads what writes are about to overwrite.
	reader *os.File
	// syncedSize is the file's length at its last sync.
	syncedSize int64
	// overwritten holds the old bytes of each unsynced write within
	// syncedSize, oldest first.
	overwritten []overwrite
	// written counts the bytes written since the last sync.
	written int64
	// since is when the first of them was written.
	since time.Time
}

type overwrite struct {
	off  int64
	data []byte
}

func newUnsyncedLog(real string) *unsyncedLog {
	return &unsyncedLog{real: real, files: map[uint64]*unsyncedFile{}}
}

// beforeChange records what a write of n bytes at off, or a change of
// length to off (n < 0), is about to overwrite in node's file.
func (l *unsyncedLog) beforeChange(node *stallNode, off, n int64) syscall.Errno {
	if l.down {
		return syscall.EIO
	}
	ino := node.StableAttr().Ino
	l.mu.Lock()
	defer l.mu.Unlock()
	uf := l.files[ino]
	if uf == nil {
		// Its own descriptor: the writer's may be write-only, and it
		// follows the file through renames.
		inode := node.EmbeddedInode()
		r, err := os.Open(filepath.Join(l.real, inode.Path(nil)))
		if err != nil {
			return errnoOf(err)
		}
		st, err := r.Stat()
		if err != nil {
			r.Close()
			return errnoOf(err)
		}
		uf = &unsyncedFile{inode: inode, ino: ino, reader: r, syncedSize: st.Size(), since: time.Now()}
		l.files[ino] = uf
	}
	if n < 0 { // a truncation to off: keep what it cuts off
		n = uf.syncedSize - off
	} else {
		uf.written += n
	}
	if end := min(off+n, uf.syncedSize); off < end {
		old := make([]byte, end-off)
		got, err := uf.reader.ReadAt(old, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return errnoOf(err)
		}
		uf.overwritten = append(uf.overwritten, overwrite{off: off, data: old[:got]})
	}
	return 0
}

// synced forgets a file's unsynced writes: its fsync succeeded.
func (l *unsyncedLog) synced(ino uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if uf := l.files[ino]; uf != nil {
		uf.reader.Close()
		delete(l.files, ino)
	}
}

// writeBack forgets the writes of every file first written before
// cutoff: the flusher has written them back.
func (l *unsyncedLog) writeBack(cutoff time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ino, uf := range l.files {
		if uf.since.Before(cutoff) {
			uf.reader.Close()
			delete(l.files, ino)
		}
	}
}

// flush writes back every writebackAfter/5 until ctx is done.
func (l *unsyncedLog) flush(ctx context.Context) {
	wait.Every(ctx, writebackAfter/5, func(now time.Time) {
		l.writeBack(now.Add(-writebackAfter))
	})
}

// loseUnsynced undoes every write not yet synced, in every file, and
// tells the kernel to drop what it caches of them. It waits for the
// changes in flight, and refuses later ones until up: the process is
// dead, and what it still had on its way to the disk is lost too. The
// kernel is told outside every lock: a change in flight holds its
// pages while it waits for the server.
func (l *unsyncedLog) loseUnsynced() error {
	l.writing.Lock()
	l.down = true
	l.mu.Lock()
	files := l.files
	l.files = map[uint64]*unsyncedFile{}
	l.mu.Unlock()
	var errs []error
	var changed []*unsyncedFile
	for _, uf := range files {
		ok, err := l.undo(uf)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			changed = append(changed, uf)
		}
		uf.reader.Close()
	}
	l.writing.Unlock()
	l.mu.Lock()
	l.losses++
	for _, uf := range changed {
		l.lostFiles++
		l.lostBytes += uf.written
	}
	l.mu.Unlock()
	for _, uf := range changed {
		// Drop the kernel's pages and attributes of the file.
		uf.inode.NotifyContent(0, 0)
	}
	return errors.Join(errs...)
}

// up lets changes through again: the process is starting.
func (l *unsyncedLog) up() {
	l.writing.Lock()
	l.down = false
	l.writing.Unlock()
}

// undo restores one file to its last synced state, through its
// reader's descriptor: wherever it was renamed to, or unlinked.
func (l *unsyncedLog) undo(uf *unsyncedFile) (bool, error) {
	name := uf.reader.Name()
	f, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", uf.reader.Fd()), os.O_WRONLY, 0)
	if err != nil {
		return false, fmt.Errorf("losing unsynced writes of %s: %w", name, err)
	}
	defer f.Close()
	for i := len(uf.overwritten) - 1; i >= 0; i-- {
		o := uf.overwritten[i]
		if _, err := f.WriteAt(o.data, o.off); err != nil {
			return true, fmt.Errorf("losing unsynced writes of %s: %w", name, err)
		}
	}
	if err := f.Truncate(uf.syncedSize); err != nil {
		return true, fmt.Errorf("losing unsynced writes of %s: %w", name, err)
	}
	// The loss itself must last: the next process reads this state.
	if err := f.Sync(); err != nil {
		return true, fmt.Errorf("losing unsynced writes of %s: %w", name, err)
	}
	return true, nil
}

// state is how many losses were played, and the files and bytes they
// undid.
func (l *unsyncedLog) state() (losses, files int, bytes int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.losses, l.lostFiles, l.lostBytes
}

func errnoOf(err error) syscall.Errno {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return syscall.EIO
}

var (
	_ fs.NodeWriter         = (*stallNode)(nil)
	_ fs.NodeWritever       = (*stallNode)(nil)
	_ fs.NodeSetattrer      = (*stallNode)(nil)
	_ fs.NodeAllocater      = (*stallNode)(nil)
	_ fs.NodeCopyFileRanger = (*stallNode)(nil)
)

// Write records what the write overwrites, then passes it on.
func (n *stallNode) Write(ctx context.Context, f fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	n.unsynced.writing.RLock()
	defer n.unsynced.writing.RUnlock()
	if errno := n.unsynced.beforeChange(n, off, int64(len(data))); errno != 0 {
		return 0, errno
	}
	if w, ok := f.(fs.FileWriter); ok {
		return w.Write(ctx, data, off)
	}
	return 0, syscall.ENOTSUP
}

// Writev is Write for data in several slices.
func (n *stallNode) Writev(ctx context.Context, f fs.FileHandle, data [][]byte, off int64) (uint32, syscall.Errno) {
	n.unsynced.writing.RLock()
	defer n.unsynced.writing.RUnlock()
	var size int64
	for _, d := range data {
		size += int64(len(d))
	}
	if errno := n.unsynced.beforeChange(n, off, size); errno != 0 {
		return 0, errno
	}
	if w, ok := f.(fs.FileWritever); ok {
		return w.Writev(ctx, data, off)
	}
	w, ok := f.(fs.FileWriter)
	if !ok {
		return 0, syscall.ENOTSUP
	}
	joined := make([]byte, 0, size)
	for _, d := range data {
		joined = append(joined, d...)
	}
	return w.Write(ctx, joined, off)
}

// Setattr records what a truncation cuts off (or that the file grew),
// then passes the change on.
func (n *stallNode) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	n.unsynced.writing.RLock()
	defer n.unsynced.writing.RUnlock()
	if size, ok := in.GetSize(); ok {
		if errno := n.unsynced.beforeChange(n, int64(size), -1); errno != 0 {
			return errno
		}
	}
	return n.LoopbackNode.Setattr(ctx, f, in, out)
}

// Allocate records the file's synced length before it grows.
func (n *stallNode) Allocate(ctx context.Context, f fs.FileHandle, off, size uint64, mode uint32) syscall.Errno {
	n.unsynced.writing.RLock()
	defer n.unsynced.writing.RUnlock()
	if errno := n.unsynced.beforeChange(n, int64(off), 0); errno != 0 {
		return errno
	}
	if a, ok := f.(fs.FileAllocater); ok {
		return a.Allocate(ctx, off, size, mode)
	}
	return syscall.ENOTSUP
}

// CopyFileRange is refused: its writes would bypass the log, and
// callers fall back to reads and writes.
func (n *stallNode) CopyFileRange(ctx context.Context, fhIn fs.FileHandle, offIn uint64, out *fs.Inode, fhOut fs.FileHandle, offOut uint64, size uint64, flags uint64) (uint32, syscall.Errno) {
	return 0, syscall.EXDEV
}
