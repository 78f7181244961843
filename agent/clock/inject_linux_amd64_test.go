package clock

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The helper process prints its wall clock and its monotonic time since
// it started, in nanoseconds, for every line it reads.
func TestMain(m *testing.M) {
	if os.Getenv("CLOCK_TRACER") == "1" {
		if err := Serve(os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv("CLOCK_HELPER") == "1" {
		start := time.Now()
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			fmt.Println(time.Now().UnixNano(), time.Since(start).Nanoseconds())
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type helper struct {
	cmd *exec.Cmd
	in  *os.File
	out *bufio.Scanner
}

func startHelper(t *testing.T) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "CLOCK_HELPER=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	h := &helper{cmd: cmd, out: bufio.NewScanner(stdout)}
	h.in = stdin.(*os.File)
	h.read(t) // it runs
	return h
}

// read asks the helper for its clocks.
func (h *helper) read(t *testing.T) (wall time.Time, mono time.Duration) {
	t.Helper()
	if _, err := h.in.Write([]byte("\n")); err != nil {
		t.Fatal(err)
	}
	if !h.out.Scan() {
		t.Fatalf("the helper stopped: %v", h.out.Err())
	}
	f := strings.Fields(h.out.Text())
	w, _ := strconv.ParseInt(f[0], 10, 64)
	m, _ := strconv.ParseInt(f[1], 10, 64)
	return time.Unix(0, w), time.Duration(m)
}

func TestInjectOffsetRateAndRemove(t *testing.T) {
	h := startHelper(t)
	p, err := Inject(h.cmd.Process.Pid)
	if err != nil {
		t.Fatalf("inject: %v", err)
	}
	// Injected with no skew: the helper reads true time.
	if w, _ := h.read(t); absDiff(w, time.Now()) > 50*time.Millisecond {
		t.Fatalf("unskewed helper reads %v, host %v", w, time.Now())
	}

	// A bump: the wall clock reads 5s ahead; the host's does not move.
	if err := p.Set(Skew{Offset: 5 * time.Second, Rate: 1}); err != nil {
		t.Fatal(err)
	}
	host := time.Now()
	w, _ := h.read(t)
	if d := w.Sub(host) - 5*time.Second; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("offset: helper %v ahead of the host, want 5s ±50ms", w.Sub(host))
	}
	if d := time.Since(host); d > time.Second {
		t.Errorf("the host clock moved: %v", d)
	}

	// A drift: both families at half speed.
	for _, rate := range []float64{0.5, 2} {
		if err := p.Set(Skew{Rate: rate}); err != nil {
			t.Fatal(err)
		}
		w0, m0 := h.read(t)
		h0 := time.Now()
		time.Sleep(time.Second)
		w1, m1 := h.read(t)
		real := time.Since(h0).Seconds()
		for name, got := range map[string]float64{"wall": w1.Sub(w0).Seconds() / real, "monotonic": (m1 - m0).Seconds() / real} {
			if got < rate*0.95 || got > rate*1.05 {
				t.Errorf("rate %v: the helper's %s clock ran at %.3f", rate, name, got)
			}
		}
	}

	// Removed: the wall clock is true again, the monotonic one never went back.
	_, before := h.read(t)
	if err := p.Remove(); err != nil {
		t.Fatal(err)
	}
	w, after := h.read(t)
	if absDiff(w, time.Now()) > 50*time.Millisecond {
		t.Errorf("after removal the helper reads %v, host %v", w, time.Now())
	}
	t.Logf("monotonic across removal: %v -> %v", before, after)
}

func TestInjectErrors(t *testing.T) {
	if _, err := Inject(1 << 22); err == nil || !strings.Contains(err.Error(), "4194304") {
		t.Errorf("injecting into a process that does not exist: %v", err)
	}
	if err := permission(fmt.Errorf("writing: %w", syscall.EPERM)); !strings.Contains(err.Error(), "CAP_SYS_PTRACE") {
		t.Errorf("a refusal does not name the capability: %v", err)
	}
}

func absDiff(a, b time.Time) time.Duration {
	d := a.Sub(b)
	if d < 0 {
		return -d
	}
	return d
}

// TestRemoteWhileTheParentWaits is the agent's situation: the parent
// waits for its child to exit while a tracer process skews the child's
// clocks. The parent's wait must not see the tracer's ptrace stops.
func TestRemoteWhileTheParentWaits(t *testing.T) {
	h := startHelper(t)
	exited := make(chan error, 1)
	go func() { exited <- h.cmd.Wait() }()
	tracer := []string{"/usr/bin/env", "CLOCK_TRACER=1", os.Args[0]}
	ctx := context.Background()
	skew := Skew{Offset: -3 * time.Second, Rate: 1}
	p, err := Remote(ctx, tracer, Request{PID: h.cmd.Process.Pid, Skew: &skew})
	if err != nil {
		t.Fatalf("remote inject: %v", err)
	}
	if w, _ := h.read(t); absDiff(w.Add(3*time.Second), time.Now()) > 50*time.Millisecond {
		t.Errorf("the helper reads %v, want 3s behind %v", w, time.Now())
	}
	if p, err = Remote(ctx, tracer, Request{PID: h.cmd.Process.Pid, Patch: p}); err != nil || p != nil {
		t.Fatalf("remote remove: %v, %v", p, err)
	}
	if w, _ := h.read(t); absDiff(w, time.Now()) > 50*time.Millisecond {
		t.Errorf("after removal the helper reads %v", w)
	}
	select {
	case err := <-exited:
		t.Fatalf("the parent's wait returned while the child runs: %v", err)
	default:
	}
}
