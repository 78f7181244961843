package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/google/nftables"
)

// Config configures an agent.
type Config struct {
	Name string
	// RunID is the run this agent's node belongs to; requests naming
	// another run (HeaderRun), or none, are refused with 409. "" accepts
	// every request.
	RunID       string
	ControlAddr string // ":7070"
	// StdioAddr relays the process's stdin/stdout over TCP (campaigners);
	// "" leaves stdout on the agent's stdout.
	StdioAddr string
	DataDir   string
	Command   []string
	Env       []string
	// ClockTracer is the argv of the clock tracer (clock.Serve); without
	// it clock faults are refused.
	ClockTracer []string
	// StallDisk serves DataDir through the stalling filesystem (its
	// files in DataDir.real), so that the stall fault can hold its
	// syncs. It needs /dev/fuse and CAP_SYS_ADMIN, and costs
	// throughput: only runs that stall disks ask for it.
	StallDisk bool
	Logger    *slog.Logger
	// netns selects another network namespace for the rules (tests).
	nftOpts []nftables.ConnOption
}

// agent is one running agent.
type agent struct {
	name  string
	runID string
	sup   *supervisor
	fw    *firewall
	delay delayer
	clock skewer
	// stall is the data directory's stalling filesystem; nil without
	// StallDisk.
	stall *stallFS
	log   *slog.Logger
}

// kill kills the process and then, if asked, wipes its data or loses
// its unsynced writes. A loss is refused up front without the
// filesystem, so that the process is not killed for nothing.
func (a *agent) kill(req KillRequest) error {
	if req.LoseUnsynced && a.stall == nil {
		return errNoUnsyncedLog
	}
	if err := a.sup.kill(req.Wipe); err != nil {
		return err
	}
	if req.LoseUnsynced {
		return a.stall.loseUnsynced()
	}
	return nil
}

// start starts the process if it is not running, its disk writable
// again after a loss.
func (a *agent) start() error {
	a.stall.up()
	return a.sup.start()
}

// useStallFS mounts the stalling filesystem over dataDir for the
// process to come.
func (a *agent) useStallFS(dataDir string) error {
	sfs, err := mountStallFS(dataDir)
	if err != nil {
		return err
	}
	a.stall = sfs
	a.sup.release = sfs.releaseHeld
	// Not the mount: a child chdirs to its directory between clone and
	// exec, and a chdir into this process's own FUSE mount waits for a
	// server the Go runtime may not schedule while the cloning thread
	// is stuck; the whole agent then hangs (go-fuse#261). The databases
	// take their data directory by flag.
	a.sup.workDir = "/"
	return nil
}

// Run starts the process and serves the control API until ctx is done;
// then it removes its rules and kills the process.
func Run(ctx context.Context, cfg Config) error {
	if len(cfg.Command) == 0 {
		return errors.New("agent: no command to supervise")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	a := &agent{name: cfg.Name, runID: cfg.RunID, log: log, fw: &firewall{opts: cfg.nftOpts}, clock: skewer{tracer: cfg.ClockTracer},
		sup: &supervisor{argv: cfg.Command, env: cfg.Env, dataDir: cfg.DataDir, log: log}}

	if cfg.StdioAddr != "" {
		ln, err := net.Listen("tcp", cfg.StdioAddr)
		if err != nil {
			return fmt.Errorf("listening for stdio on %s: %w", cfg.StdioAddr, err)
		}
		defer ln.Close()
		a.sup.relay = &relay{log: log, toStdin: a.sup.writeStdin}
		defer a.sup.relay.close()
		go a.sup.relay.serve(ln)
	}
	if cfg.StallDisk {
		if err := a.useStallFS(cfg.DataDir); err != nil {
			return err
		}
		// After the process is killed (deferred before, run after).
		defer func() {
			if err := a.stall.unmount(); err != nil {
				log.Warn("unmounting the stalling filesystem", "err", err)
			}
		}()
		log.Info("data directory on the stalling filesystem", "dir", cfg.DataDir, "files", realDir(cfg.DataDir))
	}
	ln, err := net.Listen("tcp", cfg.ControlAddr)
	if err != nil {
		return fmt.Errorf("listening for control on %s: %w", cfg.ControlAddr, err)
	}
	srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	if err := a.sup.start(); err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("agent stopping: healing and killing the process")
	if err := a.fw.heal(); err != nil {
		log.Warn("removing rules", "err", err)
	}
	if err := a.clock.heal(a.sup.status().PID); err != nil {
		log.Warn("removing the clock skew", "err", err)
	}
	if err := a.delay.heal(); err != nil {
		log.Warn("removing the delay", "err", err)
	}
	return a.sup.kill(false)
}

func (a *agent) handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range a.routes() {
		mux.HandleFunc(r.method+" "+r.path, r.serve)
	}
	return a.checkRun(mux)
}

// checkRun refuses, with 409 Conflict, a request that does not name
// this agent's run.
func (a *agent) checkRun(next http.Handler) http.Handler {
	if a.runID == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get(HeaderRun)
		if got == a.runID {
			next.ServeHTTP(w, r)
			return
		}
		what := fmt.Sprintf("a request for run %q", got)
		if got == "" {
			what = "a request that names no run (header " + HeaderRun + ")"
		}
		a.log.Warn("refused a request for another run", "got", got, "method", r.Method, "path", r.URL.Path)
		writeJSON(w, http.StatusConflict, ErrorReply{Error: fmt.Sprintf(
			"agent of node %s belongs to run %s and refuses %s: %s %s was meant for another run's node", a.name, a.runID, what, r.Method, r.URL.Path)})
	})
}

// do runs one fault action, logs it, and answers with the new status.
func (a *agent) do(w http.ResponseWriter, what string, fn func() error, attrs ...any) {
	if err := fn(); err != nil {
		a.log.Warn(what+" failed", append(attrs, "err", err)...)
		writeJSON(w, http.StatusInternalServerError, ErrorReply{Error: fmt.Sprintf("%s: %v", what, err)})
		return
	}
	a.log.Info(what, attrs...)
	writeJSON(w, http.StatusOK, a.status())
}

func (a *agent) status() Status {
	st := a.sup.status()
	st.Name = a.name
	st.Dropped, st.Lossy = a.fw.faults()
	st.Clock = a.clock.current(st.PID)
	st.Delayed = a.delay.peers()
	a.stall.status(&st)
	return st
}

// decode reads a request body into v, answering 400 if it is malformed;
// an optional body may be empty.
func decode(w http.ResponseWriter, r *http.Request, what string, v any, optional bool) bool {
	if optional && r.ContentLength == 0 {
		return true
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorReply{Error: "malformed " + what + " request: " + err.Error()})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
