package agent

import (
	"errors"
	"net"
	"net/http"
	"time"
)

// route is one endpoint of the control API: the method and path the
// Client calls (the Path constants), and what the agent does.
type route struct {
	method string
	path   string
	serve  http.HandlerFunc
}

// routes is the control API, one row per endpoint. A fault is a POST
// that applies it and, unless Heal or Start undoes it, a DELETE that
// heals it: adding a fault to the agent is a row or two here, a Path
// constant and a Client method.
func (a *agent) routes() []route {
	return []route{
		{http.MethodGet, PathStatus, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, a.status()) }},
		{http.MethodPost, PathDial, a.serveDial},

		{http.MethodPost, PathPartition, withBody(a, "partition", required, a.fw.partition,
			func(req PartitionRequest) []any { return []any{"drop", req.Drop, "direction", req.Direction} })},
		{http.MethodDelete, PathPartition, a.action("heal partition", a.fw.healPartition)},
		{http.MethodPost, PathLoss, withBody(a, "loss", required, a.fw.loss,
			func(req LossRequest) []any { return []any{"peers", req.Peers, "percent", req.Percent} })},
		{http.MethodDelete, PathLoss, a.action("heal loss", func() error { return a.fw.loss(LossRequest{}) })},
		{http.MethodPost, PathDelay, withBody(a, "delay", required, a.delay.set,
			func(req DelayRequest) []any {
				return []any{"peers", req.Peers, "delay_ms", req.DelayMS, "jitter_ms", req.JitterMS}
			})},
		{http.MethodDelete, PathDelay, a.action("heal delay", a.delay.heal)},
		{http.MethodPost, PathClock, withBody(a, "clock", required, func(req ClockRequest) error { return a.clock.set(a.sup.status().PID, req) },
			func(req ClockRequest) []any {
				return []any{"offset", time.Duration(req.OffsetNS), "rate", req.Rate, "monotonic_offset", time.Duration(req.MonotonicOffsetNS)}
			})},
		{http.MethodDelete, PathClock, a.action("heal clock", func() error { return a.clock.heal(a.sup.status().PID) })},
		{http.MethodPost, PathStall, a.action("stall disk", func() error { return a.stall.stall() })},
		{http.MethodDelete, PathStall, a.action("heal stall", func() error { return a.stall.unstall() })},
		{http.MethodPost, PathPause, a.action("pause", a.sup.pause)},
		{http.MethodPost, PathResume, a.action("resume", a.sup.resume)},
		{http.MethodPost, PathKill, withBody(a, "kill", optional, a.kill,
			func(req KillRequest) []any { return []any{"wipe", req.Wipe, "lose_unsynced", req.LoseUnsynced} })},
		{http.MethodPost, PathStart, withBody(a, "start", optional, func(req StartRequest) error { a.stall.up(); return a.sup.startWith(req.Argv) },
			func(req StartRequest) []any { return []any{"argv", req.Argv} })},
		{http.MethodPost, PathHeal, a.action("heal", func() error {
			return errors.Join(a.fw.heal(), a.delay.heal(), a.clock.heal(a.sup.status().PID), a.stall.unstall(), a.sup.resume(), a.start())
		})},
	}
}

// Whether a request body may be empty.
const (
	required = false
	optional = true
)

// action is an endpoint that takes no body and does fn.
func (a *agent) action(what string, fn func() error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { a.do(w, what, fn) }
}

// withBody is an endpoint that decodes its body into a T (400 if it is
// malformed) and does fn with it, logged with attrs.
func withBody[T any](a *agent, what string, mayBeEmpty bool, fn func(T) error, attrs func(T) []any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req T
		if !decode(w, r, what, &req, mayBeEmpty) {
			return
		}
		a.do(w, what, func() error { return fn(req) }, attrs(req)...)
	}
}

// serveDial opens a TCP connection from inside the node and says how it
// went: tests prove what a fault does to the node's network so.
func (a *agent) serveDial(w http.ResponseWriter, r *http.Request) {
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
}
