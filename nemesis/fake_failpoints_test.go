package nemesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// fakeFailpoints is an in-memory failpoint control of every member: a
// build with the failpoints names, journaled as "NODE failpoint ...".
// A panic term crashes the member's fake process at once, and its
// restart has every failpoint off, as a real process does.
type fakeFailpoints struct {
	j      *journal
	agents map[string]*fakeAgent
	names  []string

	mu sync.Mutex
	on map[string]map[string]string // member, name: terms
	// starts is the process start a member's settings belong to.
	starts map[string]int
}

var _ Failpoints = (*fakeFailpoints)(nil)

func newFakeFailpoints(j *journal, agents map[string]*fakeAgent, names ...string) *fakeFailpoints {
	return &fakeFailpoints{j: j, agents: agents, names: names, on: map[string]map[string]string{}, starts: map[string]int{}}
}

// current forgets the settings of a process that has been restarted;
// an error when the member's process is not running.
func (f *fakeFailpoints) current(member string) (map[string]string, error) {
	a := f.agents[member]
	if a == nil {
		return nil, fmt.Errorf("no member %q", member)
	}
	st := a.status()
	if !st.Running {
		return nil, errors.New("connection refused")
	}
	if f.starts[member] != st.Starts || f.on[member] == nil {
		f.on[member], f.starts[member] = map[string]string{}, st.Starts
	}
	return f.on[member], nil
}

func (f *fakeFailpoints) Set(ctx context.Context, member, name, terms string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.j.add("%s failpoint set %s=%s", member, name, terms)
	on, err := f.current(member)
	if err != nil {
		return err
	}
	if !slices.Contains(f.names, name) {
		return fmt.Errorf("no failpoint %q", name)
	}
	on[name] = terms
	if terms == "panic" {
		a := f.agents[member]
		a.mu.Lock()
		a.st.Running = false
		a.mu.Unlock()
	}
	return nil
}

func (f *fakeFailpoints) Clear(ctx context.Context, member, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.j.add("%s failpoint clear %s", member, name)
	on, err := f.current(member)
	if err != nil {
		return err
	}
	delete(on, name)
	return nil
}

func (f *fakeFailpoints) List(ctx context.Context, member string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	on, err := f.current(member)
	if err != nil {
		return nil, err
	}
	all := map[string]string{}
	for _, n := range f.names {
		all[n] = on[n]
	}
	return all, nil
}

// left says which failpoints are on, "" when none.
func (f *fakeFailpoints) left() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for member := range f.agents {
		if on, err := f.current(member); err == nil {
			for _, p := range activeFailpoints(on) {
				out = append(out, member+" failpoint "+p)
			}
		}
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}
