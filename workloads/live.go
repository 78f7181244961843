package workloads

import (
	"sync"
	"time"

	"github.com/election-harness/harness/histories"
)

// Live is what the run knows right now: who leads raft and the election,
// and how many operations completed. The nemesis targets faults from it
// and the status line shows it. Safe for concurrent use.
type Live struct {
	mu          sync.Mutex
	raftLeader  string // member name
	raftTerm    uint64
	leaders     map[string]histories.Token // campaigners that believe they lead
	writing     map[string]time.Time       // campaigners with a write invoked, not answered: when
	lastLeader  string
	ops         int64
	okOps       int64
	electedSeen map[int64]bool
	elections   int64
	// leaderSinceHeal is set once a campaigner has led and written after
	// the heal phase.
	healed          bool
	leaderSinceHeal bool
}

// NewLive returns an empty live state.
func NewLive() *Live {
	return &Live{leaders: map[string]histories.Token{}, writing: map[string]time.Time{}, electedSeen: map[int64]bool{}}
}

// Observe updates the live state from one recorded event; it is a
// histories.Recorder sink.
func (l *Live) Observe(e histories.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.IsCompletion() {
		l.ops++
		if e.Type == histories.OK {
			l.okOps++
		}
	}
	if e.F == histories.FWrite {
		if e.Type == histories.Invoke {
			l.writing[e.Process] = time.Now()
		} else {
			delete(l.writing, e.Process)
		}
	}
	switch {
	case e.F == histories.FStatus && e.Type == histories.OK && e.Member != nil:
		if e.Member.IsLeader && e.Member.Term >= l.raftTerm {
			l.raftLeader, l.raftTerm = e.Member.Name, e.Member.Term
		} else if e.Member.Term > l.raftTerm {
			l.raftLeader, l.raftTerm = "", e.Member.Term
		}
	case e.F == histories.FCampaign && e.Type == histories.OK && e.Token != nil:
		l.leaders[e.Process] = *e.Token
		l.lastLeader = e.Process
		if !l.electedSeen[e.Token.Seq] {
			l.electedSeen[e.Token.Seq] = true
			l.elections++
		}
	case e.F == histories.FResign && e.Type == histories.Invoke,
		e.F == histories.FLost,
		e.F == histories.FCampaign && e.Type == histories.Invoke:
		delete(l.leaders, e.Process)
	case e.F == histories.FWrite && e.Type == histories.OK && l.healed:
		if _, ok := l.leaders[e.Process]; ok {
			l.leaderSinceHeal = true
		}
	case e.F == histories.FPhase && e.Value == histories.PhaseHeal:
		l.healed = true
	}
}

// RaftLeader is the member that last claimed raft leadership at the
// highest term seen, "" if unknown.
func (l *Live) RaftLeader() (string, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.raftLeader, l.raftTerm
}

// ElectionLeader is the campaigner that most recently won and still
// believes it leads, "" if none.
func (l *Live) ElectionLeader() (string, *histories.Token) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.leaders[l.lastLeader]; ok {
		return l.lastLeader, &t
	}
	for name, t := range l.leaders {
		return name, &t
	}
	return "", nil
}

// actingWindow is how soon after a leader's write is invoked it counts as
// acting. Within it, a built-in campaigner is still working between its
// leadership check and its store call (workloads.DefaultWork). So a leader
// stopped then writes when it wakes. Later, its write may be on the wire
// already, and the stop changes nothing.
const actingWindow = 50 * time.Millisecond

// ElectionLeaderActing is a campaigner that believes it leads and whose
// write was invoked less than actingWindow ago and not yet answered (the
// most recent winner first), "" if none.
func (l *Live) ElectionLeaderActing() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	acting := func(name string) bool {
		at, ok := l.writing[name]
		return ok && time.Since(at) < actingWindow
	}
	if _, ok := l.leaders[l.lastLeader]; ok && acting(l.lastLeader) {
		return l.lastLeader
	}
	for name := range l.leaders {
		if acting(name) {
			return name
		}
	}
	return ""
}

// Counts returns completed operations, ok operations and distinct terms won.
func (l *Live) Counts() (ops, ok, elections int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ops, l.okOps, l.elections
}

// LeaderSinceHeal reports whether a leader has written since the heal.
func (l *Live) LeaderSinceHeal() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leaderSinceHeal
}
