package clock

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// jumpLen is the patch at each vDSO function: movabs rax, hook; jmp rax.
const jumpLen = 12

func jumpTo(addr uintptr) []byte {
	b := []byte{0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xe0}
	binary.LittleEndian.PutUint64(b[2:10], uint64(addr))
	return b
}

// hookAt says where in the injected code each vDSO function goes.
var hookAt = map[string]uintptr{"__vdso_clock_gettime": offClockGettime, "__vdso_gettimeofday": offGettimeofday}

// Inject redirects process pid's vDSO clock_gettime and gettimeofday to
// injected code with no skew yet. It needs ptrace rights over pid
// (CAP_SYS_PTRACE in a container).
func Inject(pid int) (*Patch, error) {
	vdso, image, err := readVDSO(pid)
	if err != nil {
		return nil, err
	}
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		return nil, fmt.Errorf("reading the vDSO of %d: %w", pid, err)
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		return nil, fmt.Errorf("reading the vDSO's symbols: %w", err)
	}
	p := &Patch{pid: pid, params: identity}
	for _, s := range syms {
		if _, ok := hookAt[s.Name]; !ok {
			continue
		}
		if s.Size < jumpLen {
			return nil, fmt.Errorf("vDSO %s is %d bytes, too short to patch", s.Name, s.Size)
		}
		addr := vdso + uintptr(s.Value)
		if s.Value >= uint64(vdso) { // a prelinked vDSO
			addr = uintptr(s.Value)
		}
		if addr < vdso || addr+jumpLen > vdso+uintptr(len(image)) {
			return nil, fmt.Errorf("vDSO %s at %#x lies outside the vDSO", s.Name, addr)
		}
		p.sites = append(p.sites, site{name: s.Name, addr: addr, orig: append([]byte(nil), image[addr-vdso:addr-vdso+jumpLen]...)})
	}
	if len(p.sites) != len(hookAt) {
		return nil, fmt.Errorf("the vDSO of %d lacks clock_gettime or gettimeofday", pid)
	}
	syscallAt := bytes.Index(image, []byte{0x0f, 0x05})
	if syscallAt < 0 {
		return nil, errors.New("no syscall instruction in the vDSO to borrow")
	}
	err = stopped(pid, func(tids []int) error {
		page, err := remoteMmap(pid, vdso+uintptr(syscallAt))
		if err != nil {
			return err
		}
		p.page = page
		code := append(identity.bytes(), hookCode[48:]...)
		if err := writeMem(pid, page, code); err != nil {
			return err
		}
		for _, s := range p.sites {
			if err := stepOut(tids, s.addr); err != nil {
				return err
			}
		}
		for _, s := range p.sites {
			if err := writeMem(pid, s.addr, jumpTo(page+hookAt[s.name])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Set makes the process's clocks do s from now on.
func (p *Patch) Set(s Skew) error {
	if err := s.Validate(); err != nil {
		return err
	}
	var rt, mono unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_REALTIME, &rt); err != nil {
		return err
	}
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono); err != nil {
		return err
	}
	next := p.params.next(s, rt.Nano(), mono.Nano())
	// Stopped, so that no thread reads half old and half new parameters.
	err := stopped(p.pid, func([]int) error { return writeMem(p.pid, p.page, next.bytes()) })
	if err != nil {
		return err
	}
	p.params = next
	return nil
}

// Remove puts the vDSO's original bytes back: the process reads true
// time again (a fast monotonic clock goes back to it).
func (p *Patch) Remove() error {
	return stopped(p.pid, func(tids []int) error {
		for _, s := range p.sites {
			if err := stepOut(tids, s.addr); err != nil {
				return err
			}
			if err := writeMem(p.pid, s.addr, s.orig); err != nil {
				return err
			}
		}
		return nil
	})
}

// readVDSO finds the process's vDSO and reads it.
func readVDSO(pid int) (uintptr, []byte, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return 0, nil, fmt.Errorf("reading the memory map of %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasSuffix(line, "[vdso]") {
			continue
		}
		lo, hi, ok := strings.Cut(strings.Fields(line)[0], "-")
		if !ok {
			break
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			break
		}
		image := make([]byte, end-start)
		if err := readMem(pid, uintptr(start), image); err != nil {
			return 0, nil, err
		}
		return uintptr(start), image, nil
	}
	return 0, nil, fmt.Errorf("process %d has no vDSO", pid)
}

func readMem(pid int, addr uintptr, b []byte) error {
	f, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return permission(fmt.Errorf("opening the memory of %d: %w", pid, err))
	}
	defer f.Close()
	if _, err := f.ReadAt(b, int64(addr)); err != nil {
		return fmt.Errorf("reading the memory of %d at %#x: %w", pid, addr, err)
	}
	return nil
}

// writeMem writes through /proc/PID/mem, which may write read-only text
// (the vDSO) as a debugger does: the process gets its own copy of the
// page, and nobody else's clock moves.
func writeMem(pid int, addr uintptr, b []byte) error {
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/mem", pid), os.O_RDWR, 0)
	if err != nil {
		return permission(fmt.Errorf("opening the memory of %d: %w", pid, err))
	}
	defer f.Close()
	if _, err := f.WriteAt(b, int64(addr)); err != nil {
		return permission(fmt.Errorf("writing the memory of %d at %#x: %w", pid, addr, err))
	}
	return nil
}

// permission names the capability when the kernel says no.
func permission(err error) error {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("%w: clock skew needs ptrace rights over the process (grant CAP_SYS_PTRACE)", err)
	}
	return err
}

// stopped runs fn with every thread of pid stopped under ptrace, from
// one locked OS thread (ptrace requests must come from the tracer), and
// detaches afterwards whatever fn did.
func stopped(pid int, fn func(tids []int) error) (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	attached := map[int]int{} // tid -> signal to give back on detach
	var order []int
	defer func() {
		for _, tid := range order {
			if _, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_DETACH, uintptr(tid), 0, uintptr(attached[tid]), 0, 0); e != 0 && e != unix.ESRCH && err == nil {
				err = fmt.Errorf("detaching from thread %d: %w", tid, e)
			}
		}
	}()
	// Threads may start while we attach: list until no new one shows up.
	for round := 0; ; round++ {
		tids, err := tasks(pid)
		if err != nil {
			return err
		}
		fresh := 0
		for _, tid := range tids {
			if _, ok := attached[tid]; ok {
				continue
			}
			if err := unix.PtraceSeize(tid); err != nil {
				if errors.Is(err, unix.ESRCH) {
					continue // the thread ended
				}
				return permission(fmt.Errorf("attaching to thread %d of %d: %w", tid, pid, err))
			}
			attached[tid] = 0
			order = append(order, tid)
			if err := unix.PtraceInterrupt(tid); err != nil {
				return fmt.Errorf("stopping thread %d: %w", tid, err)
			}
			sig, err := waitStop(tid)
			if err != nil {
				return err
			}
			attached[tid] = sig
			fresh++
		}
		if fresh == 0 {
			return fn(order)
		}
		if round > 50 {
			return fmt.Errorf("process %d keeps starting threads", pid)
		}
	}
}

// waitStop waits for tid to stop and returns a signal it was about to
// receive, which detaching must give back (0 if none).
func waitStop(tid int) (int, error) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(tid, &ws, unix.WALL, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("waiting for thread %d to stop: %w", tid, err)
		}
		if !ws.Stopped() {
			return 0, fmt.Errorf("thread %d did not stop: %v", tid, ws)
		}
		sig := ws.StopSignal()
		if ws.TrapCause() == unix.PTRACE_EVENT_STOP || sig == unix.SIGTRAP {
			return 0, nil
		}
		// A signal-delivery stop came first: keep the signal for later.
		return int(sig), nil
	}
}

func tasks(pid int) ([]int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, fmt.Errorf("listing the threads of %d: %w", pid, err)
	}
	var out []int
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, tid)
		}
	}
	return out, nil
}

// stepOut single-steps any thread whose next instruction lies in the
// bytes about to be patched at addr, until it has left them.
func stepOut(tids []int, addr uintptr) error {
	for _, tid := range tids {
		for i := 0; ; i++ {
			var regs unix.PtraceRegs
			if err := unix.PtraceGetRegs(tid, &regs); err != nil {
				return fmt.Errorf("reading the registers of thread %d: %w", tid, err)
			}
			if uintptr(regs.Rip) < addr || uintptr(regs.Rip) >= addr+jumpLen {
				break
			}
			if i > 1000 {
				return fmt.Errorf("thread %d stays inside the code to patch", tid)
			}
			if err := unix.PtraceSingleStep(tid); err != nil {
				return fmt.Errorf("stepping thread %d: %w", tid, err)
			}
			if _, err := waitStop(tid); err != nil {
				return err
			}
		}
	}
	return nil
}

// remoteMmap makes the stopped thread pid run mmap for one page of
// read-write-execute memory, by pointing it at a syscall instruction
// with the arguments in its registers, stepping once, and putting its
// registers back.
func remoteMmap(pid int, syscallInsn uintptr) (uintptr, error) {
	var saved unix.PtraceRegs
	if err := unix.PtraceGetRegs(pid, &saved); err != nil {
		return 0, fmt.Errorf("reading the registers of %d: %w", pid, err)
	}
	regs := saved
	regs.Rax = unix.SYS_MMAP
	regs.Orig_rax = ^uint64(0) // not in a syscall: no restart logic
	regs.Rdi = 0
	regs.Rsi = uint64(os.Getpagesize())
	regs.Rdx = unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC
	regs.R10 = unix.MAP_PRIVATE | unix.MAP_ANONYMOUS
	regs.R8 = ^uint64(0)
	regs.R9 = 0
	regs.Rip = uint64(syscallInsn)
	if err := unix.PtraceSetRegs(pid, &regs); err != nil {
		return 0, fmt.Errorf("setting the registers of %d: %w", pid, err)
	}
	restore := func() error {
		if err := unix.PtraceSetRegs(pid, &saved); err != nil {
			return fmt.Errorf("restoring the registers of %d: %w", pid, err)
		}
		return nil
	}
	if err := unix.PtraceSingleStep(pid); err != nil {
		return 0, errors.Join(fmt.Errorf("stepping %d through mmap: %w", pid, err), restore())
	}
	if _, err := waitStop(pid); err != nil {
		return 0, errors.Join(err, restore())
	}
	if err := unix.PtraceGetRegs(pid, &regs); err != nil {
		return 0, errors.Join(fmt.Errorf("reading the mmap result: %w", err), restore())
	}
	if err := restore(); err != nil {
		return 0, err
	}
	if r := int64(regs.Rax); r < 0 && r > -4096 {
		return 0, fmt.Errorf("mmap in %d: %w", pid, unix.Errno(-r))
	}
	return uintptr(regs.Rax), nil
}
