package conformance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/run"
	"github.com/election-harness/harness/workloads"
)

// Timeouts of the check's commands.
const (
	readyTimeout    = 30 * time.Second
	campaignTimeout = 20 * time.Second
	opTimeout       = 5 * time.Second
	// waitingProof is how long a second campaign must stay unanswered
	// while another campaigner leads.
	waitingProof = 2 * time.Second
	// observeWithin bounds the wait for an observed event.
	observeWithin = 5 * time.Second
)

// Script returns the run script that holds the run's first two
// campaigners to the rules, one step after another, and writes what it
// found into report. It returns an error only when the check itself
// could not go on (fewer than two campaigners, a database that cannot
// end a term); a broken rule is in the report.
func Script(report *Report) run.Script {
	return func(ctx context.Context, env run.ScriptEnv) error {
		if len(env.Campaigners) < 2 {
			return fmt.Errorf("the campaigner check needs two campaigners, not %d", len(env.Campaigners))
		}
		terms, ok := env.DB.(db.Terms)
		if !ok {
			return fmt.Errorf("%s cannot end a term from outside: the campaigner check does not run on it", env.DB.Name())
		}
		c := &check{env: env, terms: terms, report: report,
			c1: newPeer(env.Names[0], env.Campaigners[0]), c2: newPeer(env.Names[1], env.Campaigners[1])}
		return c.run(ctx)
	}
}

// check is one run of the rules.
type check struct {
	env    run.ScriptEnv
	terms  db.Terms
	report *Report
	c1, c2 *peer
}

// run walks the rules; a rule whose premise broke ends the walk, and the
// rules after it are not reached. An error is the check's own: it could
// not end the term.
func (c *check) run(ctx context.Context) error {
	defer c.report.rest("an earlier rule broke, or the run ended")
	for _, p := range []*peer{c.c1, c.c2} {
		if _, ok := p.await(ctx, readyTimeout, func(r workloads.Reply) bool { return r.Event == workloads.EventReady }); !ok {
			c.report.set(RuleReady, Broken, fmt.Sprintf("%s sent no ready event within %v", p.name, readyTimeout))
			return nil
		}
	}
	c.report.set(RuleReady, Held, "")

	won := p1Campaign(ctx, c)
	if won == nil {
		return nil
	}
	tok1 := *won
	c.observe(ctx, tok1)
	key := c.env.Config.RegisterKey
	if !c.writeAndRead(ctx, tok1, key) {
		return nil
	}
	c.act(ctx, c.c1, tok1, key)

	again := c.c1.invoke(ctx, c.c1.name, workloads.Command{Op: workloads.OpCampaign, Value: c.c1.name, TimeoutMS: ms(campaignTimeout)}, nil)
	if again.Type != histories.OK || again.Token == nil || !sameTerm(*again.Token, tok1) {
		c.report.set(RuleCampaignHeld, Broken, fmt.Sprintf("%s's campaign while leading %s answered %s", c.c1.name, tok1, describe(again)))
		return nil
	}
	c.report.set(RuleCampaignHeld, Held, "")

	// c2 campaigns, and must wait while c1 leads.
	second := make(chan histories.Event, 1)
	go func() {
		second <- c.c2.invoke(ctx, c.c2.name, workloads.Command{Op: workloads.OpCampaign, Value: c.c2.name, TimeoutMS: ms(campaignTimeout)}, nil)
	}()
	select {
	case e := <-second:
		c.report.set(RuleCampaignWaits, Broken, fmt.Sprintf("%s's campaign answered %s while %s led %s", c.c2.name, describe(e), c.c1.name, tok1))
		return nil
	case <-time.After(waitingProof):
		c.report.set(RuleCampaignWaits, Held, "")
	}

	// The store ends c1's term; c1 must say so.
	lostAt := time.Now()
	// The history says the harness ended this term, so that no property
	// blames the store for its early end.
	end := &histories.Fault{ID: 1, Kind: histories.FaultEndTerm, Targets: []string{c.c1.name}, Params: map[string]string{"key": tok1.Key}}
	c.env.Record(histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStart, Fault: end})
	err := c.terms.EndTerm(ctx, c.env.Members, tok1)
	c.env.Record(histories.Event{Type: histories.Info, Process: histories.ProcessNemesis, F: histories.FFaultStop, Fault: &histories.Fault{ID: 1, Kind: histories.FaultEndTerm}})
	if err != nil {
		return fmt.Errorf("ending %s's term %s from outside: %w", c.c1.name, tok1, err)
	}
	// Asked at once, before its session's end may have reached it: a
	// campaign must read the term back, never answer it from memory.
	stale := c.c1.invoke(ctx, c.c1.name, workloads.Command{Op: workloads.OpCampaign, Value: c.c1.name, TimeoutMS: ms(waitingProof)}, nil)
	if stale.Type == histories.OK && stale.Token != nil && sameTerm(*stale.Token, tok1) {
		c.report.set(RuleNoStaleTerm, Broken, fmt.Sprintf("%s's campaign just after its session ended returned %s again", c.c1.name, tok1))
	} else {
		c.report.set(RuleNoStaleTerm, Held, "")
	}
	within := time.Duration(c.env.Config.LeaseExpiry) + opTimeout
	if _, ok := c.c1.await(ctx, within, func(r workloads.Reply) bool {
		return r.Event == workloads.EventLost && r.Token != nil && sameTerm(*r.Token, tok1)
	}); !ok {
		c.report.set(RuleLostSent, Broken, fmt.Sprintf("%s sent no lost naming %s within %v of its session's end", c.c1.name, tok1, within))
	} else {
		c.report.set(RuleLostSent, Held, fmt.Sprintf("lost after %.1fs", time.Since(lostAt).Seconds()))
	}

	w := c.c1.invoke(ctx, c.c1.name, workloads.Command{Op: workloads.OpWrite, Key: key, Value: c.c1.name + "/check/after-loss", TimeoutMS: ms(opTimeout)}, &tok1)
	switch w.Type {
	case histories.OK:
		c.report.set(RuleNoWriteAfter, Broken, fmt.Sprintf("%s's write under %s, after its session ended, answered ok", c.c1.name, tok1))
	case histories.Fail:
		c.report.set(RuleNoWriteAfter, Held, "")
	default:
		c.report.set(RuleNoWriteAfter, Held, "the write's outcome is unknown ("+w.Error+"): not refused, not ok")
	}

	e := <-second
	var tok2 *histories.Token
	switch {
	case e.Type != histories.OK || e.Token == nil:
		c.report.set(RuleNextWins, Broken, fmt.Sprintf("%s's campaign answered %s after %s lost %s", c.c2.name, describe(e), c.c1.name, tok1))
	case e.Token.Seq <= tok1.Seq:
		c.report.set(RuleNextWins, Broken, fmt.Sprintf("%s won %s, not later than %s's lost %s", c.c2.name, e.Token, c.c1.name, tok1))
	default:
		tok2 = e.Token
		c.report.set(RuleNextWins, Held, "")
	}

	if tok2 == nil {
		return nil
	}
	r := c.c2.invoke(ctx, c.c2.name, workloads.Command{Op: workloads.OpResign, TimeoutMS: ms(opTimeout)}, tok2)
	if r.Type != histories.OK {
		c.report.set(RuleResignEndsTerm, Broken, fmt.Sprintf("%s's resign of %s answered %s", c.c2.name, tok2, describe(r)))
		return nil
	}
	a := c.c2.invoke(ctx, workloads.ActProcess(c.c2.name), workloads.Command{Op: workloads.OpAct, Key: key, Value: c.c2.name + "/a/check-after-resign", TimeoutMS: ms(opTimeout)}, nil)
	switch {
	case a.Type == histories.Fail && histories.Declined(a.Error):
		c.report.set(RuleResignEndsTerm, Held, "act declined: the end of the term is not seen by an act")
	case a.Type == histories.Fail:
		c.report.set(RuleResignEndsTerm, Held, "")
	default:
		c.report.set(RuleResignEndsTerm, Broken, fmt.Sprintf("%s's act after resigning %s answered %s", c.c2.name, tok2, describe(a)))
	}
	return nil
}

// p1Campaign is c1's first campaign: it must win, with a token the
// database's terms are made of.
func p1Campaign(ctx context.Context, c *check) *histories.Token {
	e := c.c1.invoke(ctx, c.c1.name, workloads.Command{Op: workloads.OpCampaign, Value: c.c1.name, TimeoutMS: ms(campaignTimeout)}, nil)
	if e.Type != histories.OK || e.Token == nil {
		c.report.set(RuleCampaignWins, Broken, fmt.Sprintf("%s's campaign, nobody leading, answered %s", c.c1.name, describe(e)))
		return nil
	}
	c.report.set(RuleCampaignWins, Held, "")
	if err := c.terms.CheckToken(*e.Token, c.env.Config.ElectionPrefix); err != nil {
		c.report.set(RuleTokenFields, Broken, fmt.Sprintf("token %s lacks %v", e.Token, err))
		return nil
	}
	c.report.set(RuleTokenFields, Held, "")
	return e.Token
}

// observe asks c2 to observe and waits for it to report c1's term.
func (c *check) observe(ctx context.Context, tok histories.Token) {
	e := c.c2.invoke(ctx, c.c2.name, workloads.Command{Op: workloads.OpObserve, TimeoutMS: ms(opTimeout)}, nil)
	switch {
	case e.Type == histories.Fail && histories.Declined(e.Error):
		c.report.set(RuleObserve, Declined, e.Error+" (P5 is then not checked)")
		return
	case e.Type != histories.OK:
		c.report.set(RuleObserve, Broken, "observe answered "+describe(e))
		return
	}
	if _, ok := c.c2.await(ctx, observeWithin, func(r workloads.Reply) bool {
		return r.Event == workloads.EventObserved && r.Key == tok.Key
	}); !ok {
		c.report.set(RuleObserve, Broken, fmt.Sprintf("%s observed no leader key %s within %v of observe", c.c2.name, tok.Key, observeWithin))
		return
	}
	c.report.set(RuleObserve, Held, "")
}

// writeAndRead is the leader's write, then a read that must return it.
func (c *check) writeAndRead(ctx context.Context, tok histories.Token, key string) bool {
	value := c.c1.name + "/check/1"
	w := c.c1.invoke(ctx, c.c1.name, workloads.Command{Op: workloads.OpWrite, Key: key, Value: value, TimeoutMS: ms(opTimeout)}, &tok)
	if w.Type != histories.OK {
		c.report.set(RuleLeaderWrites, Broken, fmt.Sprintf("the leader's write under %s answered %s", tok, describe(w)))
		return false
	}
	r := c.c1.invoke(ctx, workloads.ReaderProcess(c.c1.name), workloads.Command{Op: workloads.OpRead, Key: key, TimeoutMS: ms(opTimeout)}, nil)
	if r.Type != histories.OK || r.Value != value {
		c.report.set(RuleLeaderWrites, Broken, fmt.Sprintf("a read after the write of %q answered %s", value, describe(r)))
		return false
	}
	c.report.set(RuleLeaderWrites, Held, "")
	return true
}

// act asks the leader p to act: ok naming its term, or declined.
func (c *check) act(ctx context.Context, p *peer, tok histories.Token, key string) {
	a := p.invoke(ctx, workloads.ActProcess(p.name), workloads.Command{Op: workloads.OpAct, Key: key, Value: p.name + "/a/check", TimeoutMS: ms(opTimeout)}, nil)
	switch {
	case a.Type == histories.Fail && histories.Declined(a.Error):
		c.report.set(RuleActNamesTerm, Declined, a.Error+" (no act is judged)")
	case a.Type == histories.OK && a.Token != nil && sameTerm(*a.Token, tok):
		c.report.set(RuleActNamesTerm, Held, "")
	default:
		c.report.set(RuleActNamesTerm, Broken, fmt.Sprintf("the leader of %s, asked to act, answered %s", tok, describe(a)))
	}
}

// peer is one campaigner's connection and the events it sent.
type peer struct {
	name string
	conn *workloads.Conn

	mu     sync.Mutex
	events []workloads.Reply
	more   chan struct{} // closed and replaced on each event
	closed bool
}

func newPeer(name string, conn *workloads.Conn) *peer {
	p := &peer{name: name, conn: conn, more: make(chan struct{})}
	go func() {
		for r := range conn.Events {
			p.mu.Lock()
			p.events = append(p.events, r)
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
		p.mu.Lock()
		p.closed = true
		close(p.more)
		p.mu.Unlock()
	}()
	return p
}

// await waits up to timeout for an event, sent at any time so far or
// after, that match accepts.
func (p *peer) await(ctx context.Context, timeout time.Duration, match func(workloads.Reply) bool) (workloads.Reply, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seen := 0
	for {
		p.mu.Lock()
		for ; seen < len(p.events); seen++ {
			if match(p.events[seen]) {
				r := p.events[seen]
				p.mu.Unlock()
				return r, true
			}
		}
		more, closed := p.more, p.closed
		p.mu.Unlock()
		if closed {
			return workloads.Reply{}, false
		}
		select {
		case <-more:
		case <-deadline.C:
			return workloads.Reply{}, false
		case <-ctx.Done():
			return workloads.Reply{}, false
		}
	}
}

func (p *peer) invoke(ctx context.Context, process string, cmd workloads.Command, tok *histories.Token) histories.Event {
	return p.conn.Invoke(ctx, process, cmd, tok)
}

// sameTerm: the same key and sequence.
func sameTerm(a, b histories.Token) bool { return a.Key == b.Key && a.Seq == b.Seq }

// describe is a completion as the report says it.
func describe(e histories.Event) string {
	s := string(e.Type)
	if e.Token != nil {
		s += " " + e.Token.String()
	}
	if e.Value != "" && e.F == histories.FRead {
		s += fmt.Sprintf(" %q", e.Value)
	}
	if e.Error != "" {
		s += " (" + e.Error + ")"
	}
	return s
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// ErrBroken is returned by Run when a rule was broken.
var ErrBroken = errors.New("the campaigner broke the protocol")
