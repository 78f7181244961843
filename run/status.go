package run

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/wait"
	"github.com/election-harness/harness/workloads"
)

// statusLine shows a run's progress: on a terminal one line rewritten in
// place twice a second; otherwise a line every ten seconds (CI logs).
type statusLine struct {
	w     io.Writer
	tty   bool
	rec   *histories.Recorder
	live  *workloads.Live
	total time.Duration
	start time.Time

	mu     sync.Mutex
	phase  string
	faults map[int64]string
	done   bool
}

func newStatusLine(w io.Writer, rec *histories.Recorder, live *workloads.Live, total time.Duration) *statusLine {
	s := &statusLine{w: w, tty: isTerminal(w), rec: rec, live: live, total: total, start: time.Now(), phase: "running", faults: map[int64]string{}}
	rec.OnRecord(s.observe)
	return s
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (s *statusLine) observe(e histories.Event) {
	if e.Fault == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.F {
	case histories.FFaultStart:
		s.faults[e.Fault.ID] = e.Fault.Kind + " " + strings.Join(e.Fault.Targets, ",")
	case histories.FFaultStop:
		delete(s.faults, e.Fault.ID)
	}
}

func (s *statusLine) setPhase(p string) {
	s.mu.Lock()
	s.phase = p
	s.mu.Unlock()
}

func (s *statusLine) line() string {
	s.mu.Lock()
	phase := s.phase
	var faults []string
	for _, f := range s.faults {
		faults = append(faults, f)
	}
	s.mu.Unlock()
	sort.Strings(faults)
	ops, ok, terms := s.live.Counts()
	raft, term := s.live.RaftLeader()
	if raft == "" {
		raft = "-"
	}
	leader, tok := s.live.ElectionLeader()
	lead := "none"
	if leader != "" {
		lead = fmt.Sprintf("%s@%d", leader, tok.Seq)
	}
	f := "none"
	if len(faults) > 0 {
		f = strings.Join(faults, "; ")
	}
	el := time.Since(s.start).Truncate(time.Second)
	return fmt.Sprintf("[%v/%v %s] ops %d (ok %d) | raft leader %s term %d | election leader %s, %d terms | faults: %s",
		el, s.total, phase, ops, ok, raft, term, lead, terms, f)
}

func (s *statusLine) run(ctx context.Context) {
	every := 10 * time.Second
	if s.tty {
		every = 500 * time.Millisecond
	}
	// Once finish has ended the line, the ticks stop with it.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	wait.Every(ctx, every, func(time.Time) {
		s.mu.Lock()
		done := s.done
		s.mu.Unlock()
		if done {
			stop()
			return
		}
		if s.tty {
			fmt.Fprintf(s.w, "\r\033[K%s", s.line())
		} else {
			fmt.Fprintln(s.w, s.line())
		}
	})
}

// finish ends the live line so later output starts on a fresh line.
func (s *statusLine) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done = true
	if s.tty {
		fmt.Fprintln(s.w)
	}
}
