package agent

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestSupervisorTellsUnaskedExits: a process that exits by itself is an
// unasked exit, logged as such and counted; one killed on request is not.
func TestSupervisorTellsUnaskedExits(t *testing.T) {
	var logs bytes.Buffer
	s := &supervisor{argv: []string{"sh", "-c", "exit 3"}, dataDir: t.TempDir(), log: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	waitStopped(t, s)
	if st := s.status(); st.UnaskedExits != 1 || st.ExitCode == nil || *st.ExitCode != 3 {
		t.Fatalf("after a process exited by itself: %+v", st)
	}
	if !strings.Contains(logs.String(), `msg="`+UnaskedExitLog+`"`) {
		t.Errorf("the agent's log does not say the exit was unasked:\n%s", logs.String())
	}
	s.argv = []string{"sleep", "30"}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	if err := s.kill(false); err != nil {
		t.Fatal(err)
	}
	if st := s.status(); st.UnaskedExits != 1 {
		t.Errorf("a kill on request counted as unasked: %+v", st)
	}
	if n := strings.Count(logs.String(), UnaskedExitLog); n != 1 {
		t.Errorf("%d unasked exits logged, want 1:\n%s", n, logs.String())
	}
}

// waitStopped waits for the exit to be handled: logged and counted.
func waitStopped(t *testing.T, s *supervisor) {
	t.Helper()
	s.mu.Lock()
	exited := s.exited
	s.mu.Unlock()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the process did not exit")
	}
}
