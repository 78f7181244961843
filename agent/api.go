package agent

// The agent's control API, served over HTTP on ControlPort inside every
// node. The harness reaches it from the host through the run network's
// gateway address, which no partition rule ever names, so the channel
// survives every fault. StdioPort relays the supervised process's
// stdin/stdout (the campaigner protocol) over one TCP connection.

const (
	ControlPort = 7070
	StdioPort   = 7071
)

// HeaderRun names the run a control request is for. An agent started
// for a run (Config.RunID) answers only requests naming that run, and
// refuses any other with 409 Conflict: two runs on one daemon can reuse
// each other's addresses (each has its own network), and a harness must
// never fault another run's node.
const HeaderRun = "X-Election-Harness-Run"

// Paths of the control API.
const (
	PathStatus    = "/v1/status"    // GET  -> Status
	PathPartition = "/v1/partition" // POST PartitionRequest (replaces rules); DELETE heals
	PathPause     = "/v1/pause"     // POST: SIGSTOP the process
	PathResume    = "/v1/resume"    // POST: SIGCONT the process
	PathKill      = "/v1/kill"      // POST KillRequest: SIGKILL; stays down until start
	PathStart     = "/v1/start"     // POST [StartRequest]: start the process if it is not running
	PathHeal      = "/v1/heal"      // POST: remove every fault: rules, pause, down process
	PathLoss      = "/v1/loss"      // POST LossRequest (replaces lossy peers); DELETE heals
	PathDial      = "/v1/dial"      // POST DialRequest -> DialReply: can this node reach addr?
	PathClock     = "/v1/clock"     // POST ClockRequest: skew the process's clocks; DELETE removes
	PathDelay     = "/v1/delay"     // POST DelayRequest (replaces delayed peers); DELETE heals
	PathStall     = "/v1/stall"     // POST: hold the data directory's syncs; DELETE lets them through
)

// Directions of a partition rule set.
const (
	DirectionBoth = "both" // drop packets to and from the peers
	DirectionIn   = "in"   // drop packets from the peers only
	DirectionOut  = "out"  // drop packets to the peers only
)

// PartitionRequest makes the node drop (never reject) all IP traffic, TCP
// and UDP alike, to and/or from the listed peer addresses.
type PartitionRequest struct {
	Drop      []string `json:"drop"`
	Direction string   `json:"direction"`
}

// LossRequest makes the node lose each outgoing packet to the listed
// peers with probability Percent/100 (a lossy link is lossy at both
// ends: the nemesis asks both).
type LossRequest struct {
	Peers   []string `json:"peers"`
	Percent int      `json:"percent"`
}

// DialRequest asks the agent to open a TCP connection from inside its
// node, which proves what a fault does to the node's network.
type DialRequest struct {
	Addr      string `json:"addr"` // host:port
	TimeoutMS int64  `json:"timeout_ms"`
}

// DialReply says whether the connection opened.
type DialReply struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// ElapsedMS is how long the connection took to open (or to fail).
	ElapsedMS float64 `json:"elapsed_ms"`
}

// DelayRequest holds each packet the node sends to the listed peers for
// DelayMS, plus or minus up to JitterMS (a link delayed both ways is
// delayed at both ends: the nemesis asks both).
type DelayRequest struct {
	Peers    []string `json:"peers"`
	DelayMS  int64    `json:"delay_ms"`
	JitterMS int64    `json:"jitter_ms,omitempty"`
}

// ClockRequest skews the supervised process's clocks from now on: the
// wall clock reads true time plus OffsetNS, the monotonic clocks jump
// forward by MonotonicOffsetNS, and both run at Rate.
type ClockRequest struct {
	OffsetNS          int64   `json:"offset_ns"`
	MonotonicOffsetNS int64   `json:"monotonic_offset_ns,omitempty"`
	Rate              float64 `json:"rate"`
}

// StartRequest starts the process with a new command line, kept for
// later restarts: a member that rejoins as a new member starts
// differently from how it was first started.
type StartRequest struct {
	Argv []string `json:"argv,omitempty"`
}

// KillRequest kills the supervised process with SIGKILL. Wipe also empties
// its data directory before the next start.
type KillRequest struct {
	Wipe bool `json:"wipe,omitempty"`
	// LoseUnsynced also undoes the writes the data directory had not
	// synced, as a power loss does (a node started with --stall-disk).
	LoseUnsynced bool `json:"lose_unsynced,omitempty"`
}

// Status is the agent's view of its node.
type Status struct {
	Name     string `json:"name"`
	Running  bool   `json:"running"`
	Paused   bool   `json:"paused"`
	PID      int    `json:"pid,omitempty"`
	Starts   int    `json:"starts"`
	ExitCode *int   `json:"exit_code,omitempty"` // of the last exit, if any
	// UnaskedExits counts the exits no kill asked for (crashes, OOM).
	UnaskedExits int           `json:"unasked_exits,omitempty"`
	Dropped      []string      `json:"dropped,omitempty"` // peers currently cut
	Lossy        []string      `json:"lossy,omitempty"`   // peers packets to which are lost
	Delayed      []string      `json:"delayed,omitempty"` // peers packets to which are held
	Clock        *ClockRequest `json:"clock,omitempty"`   // the skew in force
	Error        string        `json:"error,omitempty"`   // last fault error
	// StallFS: the data directory is on the stalling filesystem
	// (--stall-disk), so that its syncs can be held.
	StallFS bool `json:"stall_fs,omitempty"`
	// DiskStalled: its fsyncs and fdatasyncs are held (PathStall).
	DiskStalled bool `json:"disk_stalled,omitempty"`
	// SyncsHeld is how many syncs wait at the gate now; SyncsStalled,
	// how many ever did (a stall that held none caught no sync).
	SyncsHeld    int   `json:"syncs_held,omitempty"`
	SyncsStalled int64 `json:"syncs_stalled,omitempty"`
	// Losses counts the kills that lost unsynced writes; LostFiles and
	// LostBytes, the files they changed and the written bytes undone.
	Losses    int   `json:"losses,omitempty"`
	LostFiles int   `json:"lost_files,omitempty"`
	LostBytes int64 `json:"lost_bytes,omitempty"`
}

// ErrorReply is the body of a non-2xx reply.
type ErrorReply struct {
	Error string `json:"error"`
}
