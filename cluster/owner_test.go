package cluster

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name with spaces and parentheses: fields count from its
	// last ')'.
	line := "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1234 56 18446744073709551615"
	start, zombie, err := parseStat(line)
	if err != nil || start != 987654 || zombie {
		t.Fatalf("parseStat = %d, %v, %v; want 987654, false", start, zombie, err)
	}
	_, zombie, _ = parseStat(strings.Replace(line, ") S ", ") Z ", 1))
	if !zombie {
		t.Errorf("state Z is not a zombie")
	}
	if _, _, err := parseStat("12 (x) S 1 2"); err == nil {
		t.Errorf("a short line parsed")
	}
}

func TestOwnerCheck(t *testing.T) {
	me, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	if l, why := me.Check(); l != OwnerAlive {
		t.Fatalf("this process: %v (%s), want alive", l, why)
	}
	// The same PID with another start time: a reused PID, not the owner.
	reused := me
	reused.Start++
	if l, why := reused.Check(); l != OwnerGone || !strings.Contains(why, "another process") {
		t.Errorf("reused PID: %v (%s), want gone", l, why)
	}
	// A process that exited.
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	start, err := ProcessStart(pid)
	if err != nil && !errors.Is(err, errZombie) {
		t.Fatal(err)
	}
	cmd.Wait()
	dead := Owner{Host: me.Host, Boot: me.Boot, PID: pid, Start: start}
	if l, why := dead.Check(); l != OwnerGone {
		t.Errorf("exited process: %v (%s), want gone", l, why)
	}
	other := me
	other.Host = me.Host + "-elsewhere"
	if l, _ := other.Check(); l != OwnerElsewhere {
		t.Errorf("another host's owner: %v, want elsewhere", l)
	}
	back, ok := OwnerFromLabels(me.Labels())
	if !ok || back != me {
		t.Errorf("labels round trip: %+v %v, want %+v", back, ok, me)
	}
	if _, ok := OwnerFromLabels(map[string]string{LabelRun: "x"}); ok {
		t.Errorf("no owner labels read as an owner")
	}
}

func TestCleanDecides(t *testing.T) {
	me, _ := Self()
	now := time.Now()
	run := func(id string, owner *Owner, age time.Duration) *runObjects {
		l := map[string]string{LabelHarness: "1", LabelRun: id}
		if owner != nil {
			for k, v := range owner.Labels() {
				l[k] = v
			}
		}
		return &runObjects{id: id, labels: l, created: now.Add(-age)}
	}
	gone := me
	gone.Start++
	far := me
	far.Host += "-elsewhere"
	for _, c := range []struct {
		name string
		r    *runObjects
		opts CleanOptions
		want bool
	}{
		{"live", run("a", &me, time.Hour), CleanOptions{}, false},
		{"live, old", run("a", &me, time.Hour), CleanOptions{OlderThan: time.Minute}, false},
		{"live, --run without --force", run("a", &me, time.Hour), CleanOptions{Run: "a"}, false},
		{"live, --run --force", run("a", &me, time.Hour), CleanOptions{Run: "a", Force: true}, true},
		{"owner gone", run("b", &gone, time.Second), CleanOptions{}, true},
		{"another host's", run("c", &far, time.Hour), CleanOptions{}, false},
		{"another host's, old", run("c", &far, time.Hour), CleanOptions{OlderThan: time.Minute}, true},
		{"another host's, young", run("c", &far, time.Second), CleanOptions{OlderThan: time.Minute}, false},
		{"no owner", run("d", nil, time.Hour), CleanOptions{}, false},
		{"no owner, old", run("d", nil, time.Hour), CleanOptions{OlderThan: time.Minute}, true},
	} {
		if got, why := decide(c.r, c.opts, now); got != c.want {
			t.Errorf("%s: remove = %v (%s), want %v", c.name, got, why, c.want)
		}
	}
}
