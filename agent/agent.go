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
	Logger      *slog.Logger
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
	log   *slog.Logger
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
	mux.HandleFunc("GET "+PathStatus, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, a.status())
	})
	mux.HandleFunc("POST "+PathPartition, func(w http.ResponseWriter, r *http.Request) {
		var req PartitionRequest
		if !decode(w, r, "partition", &req, false) {
			return
		}
		a.do(w, "partition", func() error { return a.fw.partition(req) }, "drop", req.Drop, "direction", req.Direction)
	})
	mux.HandleFunc("DELETE "+PathPartition, func(w http.ResponseWriter, r *http.Request) {
		a.do(w, "heal partition", a.fw.healPartition)
	})
	mux.HandleFunc("POST "+PathLoss, func(w http.ResponseWriter, r *http.Request) {
		var req LossRequest
		if !decode(w, r, "loss", &req, false) {
			return
		}
		a.do(w, "loss", func() error { return a.fw.loss(req) }, "peers", req.Peers, "percent", req.Percent)
	})
	mux.HandleFunc("DELETE "+PathLoss, func(w http.ResponseWriter, r *http.Request) {
		a.do(w, "heal loss", func() error { return a.fw.loss(LossRequest{}) })
	})
	mux.HandleFunc("POST "+PathDelay, func(w http.ResponseWriter, r *http.Request) {
		var req DelayRequest
		if !decode(w, r, "delay", &req, false) {
			return
		}
		a.do(w, "delay", func() error { return a.delay.set(req) }, "peers", req.Peers, "delay_ms", req.DelayMS, "jitter_ms", req.JitterMS)
	})
	mux.HandleFunc("DELETE "+PathDelay, func(w http.ResponseWriter, r *http.Request) {
		a.do(w, "heal delay", a.delay.heal)
	})
	mux.HandleFunc("POST "+PathClock, func(w http.ResponseWriter, r *http.Request) {
		var req ClockRequest
		if !decode(w, r, "clock", &req, false) {
			return
		}
		a.do(w, "clock", func() error { return a.clock.set(a.sup.status().PID, req) },
			"offset", time.Duration(req.OffsetNS), "rate", req.Rate, "monotonic_offset", time.Duration(req.MonotonicOffsetNS))
	})
	mux.HandleFunc("DELETE "+PathClock, func(w http.ResponseWriter, r *http.Request) {
		a.do(w, "heal clock", func() error { return a.clock.heal(a.sup.status().PID) })
	})
	mux.HandleFunc("POST "+PathDial, func(w http.ResponseWriter, r *http.Request) {
		var req DialRequest
		if !decode(w, r, "dial", &req, false) {
			return
		}
		timeout := time.Duration(req.TimeoutMS) * time.Millisecond
		if timeout <= 0 {
			timeout = time.Second
		}
		rep := DialReply{OK: true}
		start := time.Now()
		conn, err := net.DialTimeout("tcp", req.Addr, timeout)
		if err != nil {
			rep = DialReply{Error: err.Error()}
		} else {
			conn.Close()
		}
		rep.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
		writeJSON(w, http.StatusOK, rep)
	})
	mux.HandleFunc("POST "+PathPause, func(w http.ResponseWriter, r *http.Request) { a.do(w, "pause", a.sup.pause) })
	mux.HandleFunc("POST "+PathResume, func(w http.ResponseWriter, r *http.Request) { a.do(w, "resume", a.sup.resume) })
	mux.HandleFunc("POST "+PathStart, func(w http.ResponseWriter, r *http.Request) {
		var req StartRequest
		if !decode(w, r, "start", &req, true) {
			return
		}
		a.do(w, "start", func() error { return a.sup.startWith(req.Argv) }, "argv", req.Argv)
	})
	mux.HandleFunc("POST "+PathKill, func(w http.ResponseWriter, r *http.Request) {
		var req KillRequest
		if !decode(w, r, "kill", &req, true) {
			return
		}
		a.do(w, "kill", func() error { return a.sup.kill(req.Wipe) }, "wipe", req.Wipe)
	})
	mux.HandleFunc("POST "+PathHeal, func(w http.ResponseWriter, r *http.Request) {
		a.do(w, "heal", func() error {
			return errors.Join(a.fw.heal(), a.delay.heal(), a.clock.heal(a.sup.status().PID), a.sup.resume(), a.sup.start())
		})
	})
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
