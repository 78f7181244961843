package agent

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLoseUnsynced mounts the agent's filesystem (root and /dev/fuse, no
// Docker) and proves that a loss undoes exactly the writes not synced:
// an overwrite and an append after a file's fsync, a truncation, a file
// never synced, and a file renamed after its writes; synced bytes stay,
// and the mount shows the restored state at once.
func TestLoseUnsynced(t *testing.T) {
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
	path := func(name string) string { return filepath.Join(data, name) }
	open := func(name string) *os.File {
		f, err := os.OpenFile(path(name), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	write := func(f *os.File, off int64, b string) {
		if _, err := f.WriteAt([]byte(b), off); err != nil {
			t.Fatal(err)
		}
	}
	sync := func(f *os.File) {
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			t.Fatal(err)
		}
	}

	wal := open("wal") // synced, then overwritten and appended to
	write(wal, 0, "entry-1;entry-2;")
	sync(wal)
	write(wal, 8, "ENTRY-2;entry-3;")
	write(wal, 0, "E")
	cut := open("cut") // synced, then truncated
	write(cut, 0, "0123456789")
	sync(cut)
	if err := cut.Truncate(4); err != nil {
		t.Fatal(err)
	}
	write(cut, 2, "xy")
	fresh := open("fresh") // never synced
	write(fresh, 0, "lost")
	moved := open("tmp") // synced, written, renamed (as a WAL segment is)
	write(moved, 0, "kept")
	sync(moved)
	write(moved, 4, "+lost")
	if err := os.Rename(path("tmp"), path("segment")); err != nil {
		t.Fatal(err)
	}
	steady := open("steady") // written and synced: nothing to lose
	write(steady, 0, "synced")
	sync(steady)

	if err := s.loseUnsynced(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"wal":     "entry-1;entry-2;",
		"cut":     "0123456789",
		"fresh":   "",
		"segment": "kept",
		"steady":  "synced",
	}
	for name, w := range want {
		// Through the mount (the kernel's cache must be dropped) and
		// in the real directory.
		for _, p := range []string{path(name), filepath.Join(realDir(data), name)} {
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, []byte(w)) {
				t.Errorf("%s after the loss = %q, want %q", p, got, w)
			}
		}
	}
	var st Status
	s.status(&st)
	if st.Losses != 1 || st.LostFiles != 4 || st.LostBytes != int64(len("ENTRY-2;entry-3;")+1+2+len("lost")+len("+lost")) {
		t.Errorf("status after the loss: losses %d, files %d, bytes %d", st.Losses, st.LostFiles, st.LostBytes)
	}

	// Until the process starts again, writes are the dead one's
	// stragglers: refused, lost with the power.
	if _, err := wal.WriteAt([]byte("straggler"), 0); err == nil {
		t.Error("a write between the loss and the next start was let through")
	}
	s.up()
	// Writes after a loss are logged afresh: synced ones stay.
	write(wal, 16, "entry-3;")
	sync(wal)
	write(wal, 24, "entry-4;")
	if err := s.loseUnsynced(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path("wal")); string(got) != "entry-1;entry-2;entry-3;" {
		t.Errorf("wal after the second loss = %q", got)
	}
	s.up()

	// Writes the flusher wrote back are not lost.
	write(wal, 32, "entry-5;")
	s.unsynced.writeBack(time.Now().Add(time.Second))
	if err := s.loseUnsynced(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path("wal")); string(got) != "entry-1;entry-2;entry-3;"+"\x00\x00\x00\x00\x00\x00\x00\x00"+"entry-5;" {
		t.Errorf("wal after a loss of written-back writes = %q", got)
	}
}
