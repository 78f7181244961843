package workloads

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/election-harness/harness/histories"
)

// scriptedRecipe answers as a test tells it to; it exercises the
// protocol and the recording, not a store.
type scriptedRecipe struct {
	lost     chan histories.Token
	writeErr error
	block    chan struct{} // Read blocks on it
	// notLeading makes Leading say no.
	notLeading atomic.Bool
	// wroteAs is the term of the last Write.
	mu      sync.Mutex
	wroteAs histories.Token
}

func (s *scriptedRecipe) Campaign(ctx context.Context, value string) (histories.Token, error) {
	return histories.Token{Key: "/e/" + value, Seq: 42}, nil
}
func (s *scriptedRecipe) Resign(ctx context.Context) error { return nil }
func (s *scriptedRecipe) Leading(ctx context.Context) (histories.Token, bool) {
	if s.notLeading.Load() {
		return histories.Token{}, false
	}
	return histories.Token{Key: "/e/c1", Seq: 42}, true
}
func (s *scriptedRecipe) Write(ctx context.Context, tok histories.Token, key, value string) error {
	s.mu.Lock()
	s.wroteAs = tok
	s.mu.Unlock()
	return s.writeErr
}
func (s *scriptedRecipe) Read(ctx context.Context, key string) (string, error) {
	select {
	case <-s.block:
		return "v", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
func (s *scriptedRecipe) Observe(ctx context.Context, report func(Reply)) {
	report(Reply{Type: ReplyEvent, Event: EventObserved, Key: "/e/c1", CreateRevision: 42, Revision: 43})
}
func (s *scriptedRecipe) LeaseTTL(ctx context.Context) (histories.Token, time.Duration, error) {
	return histories.Token{Key: "/e/c1", Seq: 42}, 3 * time.Second, nil
}
func (s *scriptedRecipe) Lost() <-chan histories.Token { return s.lost }
func (s *scriptedRecipe) Close() error                 { return nil }

// pipeRW joins a reader and a writer into one stream.
type pipeRW struct {
	io.Reader
	io.Writer
}

func TestProtocolRecordsOutcomes(t *testing.T) {
	dir := t.TempDir()
	rec, err := histories.NewRecorder(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	recipe := &scriptedRecipe{lost: make(chan histories.Token, 1), block: make(chan struct{})}
	cmdR, cmdW := io.Pipe()
	repR, repW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go RunCampaigner(ctx, CampaignerConfig{Name: "c1", Recipe: "scripted"}, recipe, cmdR, repW)
	conn := NewConn("c1", pipeRW{repR, cmdW}, rec, slog.Default())

	if ev := <-conn.Events; ev.Event != EventReady {
		t.Fatalf("first event %+v, want ready", ev)
	}
	got := conn.Invoke(ctx, "c1", Command{Op: OpCampaign, Value: "c1", TimeoutMS: 1000}, nil)
	if got.Type != histories.OK || got.Token == nil || got.Token.Seq != 42 {
		t.Fatalf("campaign completion %+v, want ok with token seq 42", got)
	}
	tok := *got.Token

	// The subtests share the connection and run in order: the history
	// checked at the end counts their operations.
	writes := []struct {
		name     string
		writeErr error
		want     histories.Type
	}{
		{name: "accepted", want: histories.OK},
		{name: "fenced out", writeErr: ErrNotLeader, want: histories.Fail},
		{name: "unknown outcome", writeErr: errors.New("connection reset"), want: histories.Info},
	}
	for _, c := range writes {
		t.Run("write "+c.name, func(t *testing.T) {
			recipe.writeErr = c.writeErr
			got := conn.Invoke(ctx, "c1", Command{Op: OpWrite, Key: "k", Value: c.name, TimeoutMS: 1000}, &tok)
			if got.Type != c.want || got.Value != c.name || got.Token == nil || *got.Token != tok {
				t.Errorf("write completion %+v, want %s carrying value and token", got, c.want)
			}
		})
	}

	// A read the campaigner never answers in time is indeterminate.
	start := time.Now()
	got = conn.Invoke(ctx, "c1:r", Command{Op: OpRead, Key: "k", TimeoutMS: 100}, nil)
	if got.Type != histories.Fail && got.Type != histories.Info {
		t.Fatalf("blocked read completion %+v, want fail (its own timeout) or info", got)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("blocked read took %v", time.Since(start))
	}
	close(recipe.block)
	got = conn.Invoke(ctx, "c1", Command{Op: OpLeaseTTL, TimeoutMS: 1000}, &tok)
	if got.Type != histories.OK || got.Value != "3s" || got.Token == nil || got.Token.Seq != 42 {
		t.Fatalf("renew completion %+v, want ok with the TTL 3s and the term", got)
	}
	got = conn.Invoke(ctx, "c1:r", Command{Op: OpRead, Key: "k", TimeoutMS: 1000}, nil)
	if got.Type != histories.OK || got.Value != "v" {
		t.Fatalf("read completion %+v, want ok v", got)
	}

	// Acts: a write of the term the campaigner believes it leads, asked
	// with no token; the completion names the term.
	acts := []struct {
		name       string
		notLeading bool
		writeErr   error
		want       histories.Type
		token      bool   // the completion carries the term
		errPrefix  string // the completion's error starts so
	}{
		{name: "act", want: histories.OK, token: true},
		{name: "act not leading", notLeading: true, want: histories.Fail, errPrefix: NotLeader},
		{name: "act fenced out", writeErr: fmt.Errorf("fence: gone: %w", ErrDefinite), want: histories.Fail, errPrefix: NotLeader},
		{name: "act unknown outcome", writeErr: errors.New("connection reset"), want: histories.Info, token: true},
	}
	for _, c := range acts {
		t.Run(c.name, func(t *testing.T) {
			recipe.notLeading.Store(c.notLeading)
			recipe.writeErr = c.writeErr
			got := conn.Invoke(ctx, "c1:a", Command{Op: OpAct, Key: "k", Value: c.name, TimeoutMS: 1000}, nil)
			if got.Type != c.want || got.F != histories.FWrite || got.Value != c.name || got.Process != "c1:a" {
				t.Errorf("completion %+v, want %s of a write of the value by c1:a", got, c.want)
			}
			if c.token != (got.Token != nil) || (got.Token != nil && *got.Token != tok) {
				t.Errorf("completion token %v, want it: %v (the term %v)", got.Token, c.token, tok)
			}
			if !strings.HasPrefix(got.Error, c.errPrefix) {
				t.Errorf("error %q, want it to start %q", got.Error, c.errPrefix)
			}
		})
	}
	recipe.notLeading.Store(false)
	recipe.writeErr = nil
	recipe.mu.Lock()
	if recipe.wroteAs != tok {
		t.Errorf("the act wrote as %v, want the term Leading gave, %v", recipe.wroteAs, tok)
	}
	recipe.mu.Unlock()

	recipe.lost <- tok
	if ev := <-conn.Events; ev.Event != EventLost || ev.Token == nil || *ev.Token != tok {
		t.Fatalf("event %+v, want lost %v", ev, tok)
	}
	conn.Invoke(ctx, "c1", Command{Op: OpObserve, TimeoutMS: 1000}, nil)
	if ev := <-conn.Events; ev.Event != EventObserved || ev.CreateRevision != 42 {
		t.Fatalf("event %+v, want observed", ev)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	h, err := histories.ReadFile(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		t.Fatalf("recorded history does not read back: %v", err)
	}
	invokes, completions := map[int64]bool{}, map[int64]bool{}
	var lost, observed int
	for _, e := range h.Events {
		switch {
		case e.Type == histories.Invoke:
			invokes[e.Op] = true
			if e.Process == "c1:a" && (e.F != histories.FWrite || e.Token != nil) {
				t.Errorf("an act's invoke %+v, want a write with no token", e)
			}
		case e.IsCompletion():
			if !invokes[e.Op] {
				t.Errorf("completion before its invoke: %+v", e)
			}
			completions[e.Op] = true
		case e.F == histories.FLost:
			lost++
		case e.F == histories.FObserved:
			observed++
		}
	}
	if len(invokes) != len(completions) || len(invokes) != 12 {
		t.Errorf("%d invokes, %d completions; want 12 each", len(invokes), len(completions))
	}
	if lost != 1 || observed != 1 {
		t.Errorf("recorded %d lost and %d observed events; want 1 each", lost, observed)
	}
}

// A campaigner that breaks the protocol does not make the history break
// its contract: a won campaign without a term is recorded as info, an
// observation without a key is not recorded.
func TestProtocolViolationsKeepTheHistoryContract(t *testing.T) {
	dir := t.TempDir()
	rec, err := histories.NewRecorder(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	cmdR, cmdW := io.Pipe()
	repR, repW := io.Pipe()
	defer cmdW.Close()
	go func() {
		defer repW.Close()
		enc := json.NewEncoder(repW)
		enc.Encode(Reply{Type: ReplyEvent, Event: EventObserved, Value: "c9"})
		enc.Encode(Reply{Type: ReplyEvent, Event: EventObserved, Key: "/e/c1", Value: "c1", CreateRevision: 4})
		sc := bufio.NewScanner(cmdR)
		tokens := []*histories.Token{nil, {Key: "/e/c1"}, {Seq: 3}, {Key: "/e/c1", Seq: 4}}
		for i := 0; sc.Scan(); i++ {
			var cmd Command
			if err := json.Unmarshal(sc.Bytes(), &cmd); err != nil {
				t.Error(err)
				return
			}
			enc.Encode(Reply{ID: cmd.ID, Type: histories.OK, Token: tokens[i%len(tokens)], Error: strings.Repeat("e", 100<<10)})
		}
	}()
	conn := NewConn("c1", pipeRW{repR, cmdW}, rec, slog.Default())
	ctx := context.Background()
	for i, want := range []histories.Type{histories.Info, histories.Info, histories.Info, histories.OK} {
		got := conn.Invoke(ctx, "c1", Command{Op: OpCampaign, Value: "c1", TimeoutMS: 1000}, nil)
		if got.Type != want {
			t.Errorf("campaign %d: recorded %s (%s), want %s", i, got.Type, got.Error, want)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	h, err := histories.ReadFile(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		t.Fatalf("recorded history breaks the contract: %v", err)
	}
	observed := 0
	for _, e := range h.Events {
		if e.F == histories.FObserved {
			observed++
		}
	}
	if observed != 1 {
		t.Errorf("%d observations recorded, want the one with a key", observed)
	}
}

// renewingRecipe reports the renewals a test gives it (Renewer).
type renewingRecipe struct {
	scriptedRecipe
	renewals chan Reply
}

func (r *renewingRecipe) Renewals() <-chan Reply { return r.renewals }

// A Renewer's renewals reach the history as "renewed" events, sent
// unasked; one the history could not place or measure (no lease, no
// revision, no TTL) is dropped, and the history keeps its contract.
func TestRenewalsAreRecorded(t *testing.T) {
	dir := t.TempDir()
	rec, err := histories.NewRecorder(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	recipe := &renewingRecipe{scriptedRecipe{lost: make(chan histories.Token, 1)}, make(chan Reply, 8)}
	cmdR, cmdW := io.Pipe()
	repR, repW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go RunCampaigner(ctx, CampaignerConfig{Name: "c1", Recipe: "renewing"}, recipe, cmdR, repW)
	conn := NewConn("c1", pipeRW{repR, cmdW}, rec, slog.Default())
	if ev := <-conn.Events; ev.Event != EventReady {
		t.Fatalf("first event %+v, want ready", ev)
	}
	renewal := func(session string, rev int64, ttl string) Reply {
		return Reply{Type: ReplyEvent, Event: EventRenewed, Session: session, Revision: rev, Value: ttl}
	}
	sent := []Reply{renewal("694e", 12, "3s"), renewal("", 12, "3s"), renewal("694e", 0, "3s"), renewal("694e", 13, "0s"), renewal("694e", 14, "soon"), renewal("694e", 15, "3s")}
	for _, r := range sent {
		recipe.renewals <- r
	}
	for range sent {
		if ev := <-conn.Events; ev.Event != EventRenewed {
			t.Fatalf("event %+v, want renewed", ev)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	h, err := histories.ReadFile(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		t.Fatalf("recorded history breaks the contract: %v", err)
	}
	var got []string
	for _, e := range h.Events {
		if e.F == histories.FRenewed {
			got = append(got, fmt.Sprintf("%s %s@%d %s", e.Process, e.Session, e.Revision, e.Value))
		}
	}
	if want := "c1 694e@12 3s|c1 694e@15 3s"; strings.Join(got, "|") != want {
		t.Errorf("renewals recorded %q, want %q", strings.Join(got, "|"), want)
	}
}
