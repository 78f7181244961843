package cluster

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Labels naming the process that owns a run (the harness that created
// its containers and networks), so that `harness clean` removes only
// what a dead process left. A PID alone is not enough: once its owner
// has exited the kernel can hand it to another process, so the owner is
// the PID with its start time (field 22 of /proc/PID/stat, clock ticks
// since boot) on one boot of one host.
const (
	LabelOwnerHost  = "io.election-harness.owner.host"
	LabelOwnerBoot  = "io.election-harness.owner.boot"
	LabelOwnerPID   = "io.election-harness.owner.pid"
	LabelOwnerStart = "io.election-harness.owner.start"
)

// Owner identifies a process on a host.
type Owner struct {
	Host  string // os.Hostname
	Boot  string // /proc/sys/kernel/random/boot_id
	PID   int
	Start uint64 // /proc/PID/stat field 22
}

func (o Owner) String() string {
	return fmt.Sprintf("PID %d (start time %d) on %s", o.PID, o.Start, o.Host)
}

// Labels are the owner's labels.
func (o Owner) Labels() map[string]string {
	return map[string]string{
		LabelOwnerHost:  o.Host,
		LabelOwnerBoot:  o.Boot,
		LabelOwnerPID:   strconv.Itoa(o.PID),
		LabelOwnerStart: strconv.FormatUint(o.Start, 10),
	}
}

// OwnerFromLabels reads an owner back; ok is false when the labels name
// none (made by a harness that did not record owners) or are malformed.
func OwnerFromLabels(l map[string]string) (Owner, bool) {
	host, pid, start := l[LabelOwnerHost], l[LabelOwnerPID], l[LabelOwnerStart]
	if host == "" || pid == "" || start == "" {
		return Owner{}, false
	}
	p, err1 := strconv.Atoi(pid)
	s, err2 := strconv.ParseUint(start, 10, 64)
	if err1 != nil || err2 != nil || p <= 0 {
		return Owner{}, false
	}
	return Owner{Host: host, Boot: l[LabelOwnerBoot], PID: p, Start: s}, true
}

var (
	selfOnce  sync.Once
	self      Owner
	selfError error
)

// Self is this process as an owner.
func Self() (Owner, error) {
	selfOnce.Do(func() {
		host, err := os.Hostname()
		if err != nil {
			selfError = fmt.Errorf("reading the host name: %w", err)
			return
		}
		start, err := ProcessStart(os.Getpid())
		if err != nil {
			selfError = err
			return
		}
		self = Owner{Host: host, Boot: bootID(), PID: os.Getpid(), Start: start}
	})
	return self, selfError
}

func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// errNoProcess: no process has this PID.
var errNoProcess = errors.New("no such process")

// errZombie: the process has exited, and its parent has not yet
// reaped it.
var errZombie = errors.New("exited (a zombie)")

// ProcessStart is field 22 of /proc/PID/stat, the process's start time
// in clock ticks since boot. A zombie has exited: errZombie.
func ProcessStart(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, os.ErrNotExist) {
		return 0, errNoProcess
	}
	if err != nil {
		return 0, fmt.Errorf("reading /proc/%d/stat: %w", pid, err)
	}
	start, zombie, err := parseStat(string(b))
	if err == nil && zombie {
		return start, errZombie
	}
	return start, err
}

// parseStat takes field 22 (start time) and field 3 (state: Z for a
// zombie) of a /proc/PID/stat line. Field 2, the command name in
// parentheses, may hold spaces and parentheses itself: the fields that
// follow start after its last ')'.
func parseStat(stat string) (start uint64, zombie bool, err error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false, fmt.Errorf("malformed /proc stat line %q", stat)
	}
	// After ") " come fields 3, 4, ...: field 22 is the 20th.
	f := strings.Fields(stat[i+1:])
	if len(f) < 20 {
		return 0, false, fmt.Errorf("malformed /proc stat line: %d fields after the command", len(f))
	}
	v, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("malformed start time in /proc stat line: %w", err)
	}
	return v, f[0] == "Z", nil
}

// Liveness is what this host can tell of an owner.
type Liveness int

const (
	// OwnerAlive: the owner is this host's process, still running.
	OwnerAlive Liveness = iota
	// OwnerGone: the owner was this host's process and has exited (its
	// PID is free, or another process has it, or the host rebooted).
	OwnerGone
	// OwnerElsewhere: the owner is another host's process; nothing here
	// says whether it runs.
	OwnerElsewhere
)

// Check says whether o runs, with why.
func (o Owner) Check() (Liveness, string) {
	me, err := Self()
	if err != nil {
		return OwnerElsewhere, fmt.Sprintf("cannot tell whether %v runs: %v", o, err)
	}
	if o.Host != me.Host {
		return OwnerElsewhere, fmt.Sprintf("owner %v is on another host", o)
	}
	if o.Boot != "" && me.Boot != "" && o.Boot != me.Boot {
		return OwnerGone, fmt.Sprintf("owner %v ran before this host rebooted", o)
	}
	start, err := ProcessStart(o.PID)
	switch {
	case errors.Is(err, errNoProcess), errors.Is(err, errZombie) && start == o.Start:
		return OwnerGone, fmt.Sprintf("owner %v has exited", o)
	case errors.Is(err, errZombie):
		return OwnerGone, fmt.Sprintf("owner %v has exited (PID %d is now another process, started at %d, exited too)", o, o.PID, start)
	case err != nil:
		return OwnerAlive, fmt.Sprintf("cannot tell whether owner %v runs (%v): kept", o, err)
	case start != o.Start:
		return OwnerGone, fmt.Sprintf("owner %v has exited (PID %d is now another process, started at %d)", o, o.PID, start)
	}
	return OwnerAlive, fmt.Sprintf("owner %v is running", o)
}
