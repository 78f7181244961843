package agent

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// supervisor runs one process, restarts it on request, and pauses and
// kills it with its whole process group.
type supervisor struct {
	argv    []string
	env     []string
	dataDir string
	// stdout receives the process's stdout; nil means the agent's own.
	relay *relay
	log   *slog.Logger
	// release, if set, fails the syncs the stalling filesystem holds: a
	// process killed inside a FUSE request cannot exit until it is
	// answered.
	release func()
	// workDir is the process's working directory: dataDir, or "/" when
	// dataDir is the stalling filesystem's mount (see startWith).
	workDir string

	mu       sync.Mutex
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	exited   chan struct{} // closed when the current process exits
	running  bool
	paused   bool
	starts   int
	exitCode *int
	// asked: the current process is being killed on request; an exit
	// otherwise is unasked (a crash, the kernel's OOM killer).
	asked bool
	// unasked counts the exits nobody asked for.
	unasked int
}

// UnaskedExitLog is the message the agent logs when its process exits
// with no kill asked for: the harness scans members' logs for it (P10),
// whatever the database.
const UnaskedExitLog = "process exited unasked"

// start starts the process if it is not running.
func (s *supervisor) start() error { return s.startWith(nil) }

// startWith starts the process if it is not running, first replacing
// its command line when argv is given.
func (s *supervisor) startWith(argv []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		if len(argv) > 0 {
			return errors.New("process is running: kill it before starting it anew")
		}
		return nil
	}
	if len(argv) > 0 {
		s.argv = argv
	}
	if err := os.MkdirAll(s.dataDir, 0o755); err != nil {
		return fmt.Errorf("creating data dir: %w", err)
	}
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Dir = s.workDir
	if cmd.Dir == "" {
		cmd.Dir = s.dataDir
	}
	// Its own group, so pause and kill reach every process it starts.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	var stdout io.ReadCloser
	if s.relay != nil {
		in, err := cmd.StdinPipe()
		if err != nil {
			return fmt.Errorf("stdin pipe: %w", err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return fmt.Errorf("stdout pipe: %w", err)
		}
		s.stdin, stdout = in, out
	} else {
		cmd.Stdout = os.Stdout
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.argv[0], err)
	}
	s.cmd, s.running, s.paused, s.asked = cmd, true, false, false
	s.starts++
	exited := make(chan struct{})
	s.exited = exited
	s.log.Info("process started", "pid", cmd.Process.Pid, "starts", s.starts)
	var copied sync.WaitGroup
	if stdout != nil {
		copied.Add(1)
		go func() { defer copied.Done(); s.relay.fromProcess(stdout) }()
	}
	go func() {
		// Wait closes the pipes, so drain stdout first.
		copied.Wait()
		err := cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		s.mu.Lock()
		asked := s.asked
		if s.cmd == cmd {
			s.running, s.paused, s.exitCode, s.stdin = false, false, &code, nil
			if !asked {
				s.unasked++
			}
		}
		s.mu.Unlock()
		if asked {
			s.log.Info("process exited", "pid", cmd.Process.Pid, "code", code, "err", err)
		} else {
			var sig string
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				sig = ws.Signal().String()
			}
			s.log.Error(UnaskedExitLog, "pid", cmd.Process.Pid, "code", code, "signal", sig, "err", err)
		}
		close(exited)
	}()
	return nil
}

// signal sends sig to the process group.
func (s *supervisor) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return errors.New("process is not running")
	}
	if err := syscall.Kill(-s.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("sending %v: %w", sig, err)
	}
	switch sig {
	case syscall.SIGSTOP:
		s.paused = true
	case syscall.SIGCONT:
		s.paused = false
	}
	return nil
}

func (s *supervisor) pause() error { return s.signal(syscall.SIGSTOP) }

// resume is a no-op when the process is not running or not paused.
func (s *supervisor) resume() error {
	s.mu.Lock()
	paused := s.running && s.paused
	s.mu.Unlock()
	if !paused {
		return nil
	}
	return s.signal(syscall.SIGCONT)
}

// kill SIGKILLs the group, waits for the exit, and optionally empties
// the data directory. The process stays down until start.
func (s *supervisor) kill(wipe bool) error {
	s.mu.Lock()
	running, exited := s.running, s.exited
	var pid int
	if running {
		pid = s.cmd.Process.Pid
		s.asked = true
	}
	s.mu.Unlock()
	if running {
		if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("killing: %w", err)
		}
		if err := s.awaitExit(exited); err != nil {
			return err
		}
	}
	if wipe {
		if err := emptyDir(s.dataDir); err != nil {
			return fmt.Errorf("wiping data: %w", err)
		}
	}
	return nil
}

// awaitExit waits for a killed process to exit, releasing the syncs it
// is held in meanwhile (again and again: one may reach the gate after a
// release).
func (s *supervisor) awaitExit(exited chan struct{}) error {
	timeout := time.After(10 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.release != nil {
			s.release()
		}
		select {
		case <-exited:
			return nil
		case <-timeout:
			return errors.New("process did not exit 10s after SIGKILL")
		case <-tick.C:
		}
	}
}

// writeStdin sends one line to the current process.
func (s *supervisor) writeStdin(line []byte) error {
	s.mu.Lock()
	w := s.stdin
	s.mu.Unlock()
	if w == nil {
		return errors.New("process is not running")
	}
	_, err := w.Write(line)
	return err
}

func (s *supervisor) status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{Running: s.running, Paused: s.paused, Starts: s.starts, ExitCode: s.exitCode, UnaskedExits: s.unasked}
	if s.running {
		st.PID = s.cmd.Process.Pid
	}
	return st
}

func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
