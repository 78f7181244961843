package workloads

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/wait"
)

// Recipe is one way of electing a leader, as it runs inside a campaigner
// node. Every method is called from its own goroutine; a recipe guards its
// own state.
type Recipe interface {
	// Campaign blocks until this campaigner leads, and returns the term.
	Campaign(ctx context.Context, value string) (histories.Token, error)
	// Resign gives up leadership.
	Resign(ctx context.Context) error
	// Leading is the check a leader makes before it acts: the term this
	// campaigner believes it leads, if any.
	Leading(ctx context.Context) (histories.Token, bool)
	// Write writes value to the register key as the leader of tok, the
	// term Leading returned before the leader's work. A fenced recipe
	// makes the store refuse it once tok's term is over.
	Write(ctx context.Context, tok histories.Token, key, value string) error
	// Read returns the register's value ("" if absent).
	Read(ctx context.Context, key string) (string, error)
	// LeaseTTL returns the term this campaigner leads and the least time
	// its lease still lives, as the store promises it (a TTL query's
	// answer, or a renewal's TTL). ErrNotLeader without a term; an error
	// starting ErrUnsupported if the store makes no such promise.
	LeaseTTL(ctx context.Context) (histories.Token, time.Duration, error)
	// Observe reports every leader it sees until ctx is done.
	Observe(ctx context.Context, report func(Reply))
	// Lost delivers the token of a term the campaigner learned it lost.
	Lost() <-chan histories.Token
	Close() error
}

// Renewer is a Recipe that reports its lease's renewals as the store
// answered them: EventRenewed replies, sent as they come. Optional: a
// recipe without it reports none, and the renewals' property (P8) has
// nothing to judge.
type Renewer interface {
	Renewals() <-chan Reply
}

// Outcome errors: a recipe wraps an error with ErrDefinite when the
// operation certainly did not take effect (a fence said no), so the
// harness records fail; any other write error is recorded as info.
var (
	ErrDefinite  = errors.New("definitely not done")
	ErrNotLeader = fmt.Errorf("not the leader: %w", ErrDefinite)
)

// CampaignerConfig configures a campaigner process.
type CampaignerConfig struct {
	Name      string
	Recipe    string
	Endpoints []string
	// ReadEndpoints, when set, are the only endpoints register reads go
	// through (--readers pinned: one member, no failover to another);
	// empty, reads go through Endpoints like everything else. A recipe
	// that cannot pin its reads refuses them.
	ReadEndpoints []string
	TTL           time.Duration
	// Prefix is the folder of the election's keys.
	Prefix string
	// Options are settings only the recipe's driver knows, by name: it
	// names them harness-side (db.CampaignerOptions) and reads them
	// here. Nil for a driver without options.
	Options map[string]string
	// Work is how long a leader works between deciding to write and
	// writing: the window in which a pause or partition makes a leader
	// act on a leadership it has lost.
	Work   time.Duration
	Logger *slog.Logger
}

// RunCampaigner speaks the campaigner protocol on in/out with recipe r
// until in is closed or ctx is done.
func RunCampaigner(ctx context.Context, cfg CampaignerConfig, r Recipe, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	var mu sync.Mutex
	enc := json.NewEncoder(out)
	send := func(rep Reply) {
		mu.Lock()
		defer mu.Unlock()
		if err := enc.Encode(rep); err != nil {
			log.Warn("writing reply", "err", err)
		}
	}
	go forward(ctx, r.Lost(), func(tok histories.Token) {
		send(Reply{Type: ReplyEvent, Event: EventLost, Token: &tok})
	})
	started := time.Now()
	send(Reply{Type: ReplyEvent, Event: EventReady, Value: cfg.Recipe})
	if rn, ok := r.(Renewer); ok {
		go forward(ctx, rn.Renewals(), send)
	}

	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var wg sync.WaitGroup
	defer wg.Wait()
	for sc.Scan() {
		var cmd Command
		if err := json.Unmarshal(sc.Bytes(), &cmd); err != nil {
			send(Reply{Type: histories.Fail, Error: fmt.Sprintf("malformed command %q: %v", sc.Text(), err)})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(execute(ctx, r, cmd, cfg.Work, started, send))
		}()
	}
	cancel()
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading commands: %w", err)
	}
	return nil
}

// execute runs one command and turns its outcome into a reply. A write
// is a leader's whole act: check leadership, work for the given time,
// then write; the command's timeout bounds the store call only, as a
// leader's request timeout would, so a leader paused while it works
// still writes when it wakes. An act is the same, asked whatever the
// harness believes: the recipe's own belief (Leading) decides whether
// it writes, and the reply names the term it wrote under.
func execute(ctx context.Context, r Recipe, cmd Command, work time.Duration, started time.Time, send func(Reply)) Reply {
	timeout := time.Duration(cmd.TimeoutMS) * time.Millisecond
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	var tok histories.Token
	if cmd.Op == OpWrite || cmd.Op == OpAct {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		var leading bool
		tok, leading = r.Leading(cctx)
		cancel()
		if !leading {
			if cmd.Op == OpAct {
				return Reply{ID: cmd.ID, Type: histories.Fail, Error: NotLeader + ": this campaigner does not believe it leads"}
			}
			return Reply{ID: cmd.ID, Type: histories.Fail, Error: ErrNotLeader.Error()}
		}
		if !wait.For(ctx, work) {
			return Reply{ID: cmd.ID, Type: histories.Fail, Error: "campaigner stopping before the write"}
		}
	}
	opCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rep := Reply{ID: cmd.ID, Type: histories.OK}
	var err error
	switch cmd.Op {
	case OpCampaign:
		var tok histories.Token
		tok, err = r.Campaign(opCtx, cmd.Value)
		if err == nil {
			rep.Token = &tok
		} else if !errors.Is(err, ErrDefinite) && opCtx.Err() == nil {
			// The campaign may have created state we cannot see; the
			// recipe cleans it up, but its outcome is not known.
			return Reply{ID: cmd.ID, Type: histories.Info, Error: err.Error()}
		}
	case OpResign:
		err = r.Resign(opCtx)
	case OpWrite:
		err = r.Write(opCtx, tok, cmd.Key, cmd.Value)
		if err != nil && !errors.Is(err, ErrDefinite) {
			return Reply{ID: cmd.ID, Type: histories.Info, Error: err.Error()}
		}
	case OpAct:
		err = r.Write(opCtx, tok, cmd.Key, cmd.Value)
		switch {
		case err == nil:
			rep.Token = &tok
		case errors.Is(err, ErrDefinite):
			return Reply{ID: cmd.ID, Type: histories.Fail, Error: NotLeader + ": " + err.Error()}
		default:
			// It acted under tok; whether the write landed is unknown.
			return Reply{ID: cmd.ID, Type: histories.Info, Token: &tok, Error: err.Error()}
		}
	case OpRead:
		rep.Value, err = r.Read(opCtx, cmd.Key)
	case OpObserve:
		go r.Observe(ctx, send)
	case OpLeaseTTL:
		var tok histories.Token
		var ttl time.Duration
		tok, ttl, err = r.LeaseTTL(opCtx)
		if err == nil {
			rep.Token, rep.Value = &tok, ttl.String()
		} else if !errors.Is(err, ErrDefinite) && opCtx.Err() == nil {
			return Reply{ID: cmd.ID, Type: histories.Info, Error: err.Error()}
		}
	case OpClock:
		rep.Value = fmt.Sprintf("%d %d", time.Now().UnixNano(), time.Since(started).Nanoseconds())
	default:
		err = fmt.Errorf("unknown op %q: %w", cmd.Op, ErrDefinite)
	}
	if err != nil {
		return Reply{ID: cmd.ID, Type: histories.Fail, Error: err.Error()}
	}
	return rep
}

// forward calls do with each value ch delivers, in order, until ctx
// ends.
func forward[T any](ctx context.Context, ch <-chan T, do func(T)) {
	for {
		select {
		case <-ctx.Done():
			return
		case v := <-ch:
			do(v)
		}
	}
}
