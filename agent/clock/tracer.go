package clock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// A process that ptraces another receives its ptrace stops through wait,
// in any of its threads: a supervisor waiting for its child to exit would
// take them for exits. So the tracer is a short-lived process of its own:
// Remote runs it for each step with a Request on its stdin, and Serve is
// what it runs. The kernel detaches a tracer that dies.

// Request is one step of a tracer.
type Request struct {
	PID int `json:"pid"`
	// Patch is the process's patch so far; nil to inject one.
	Patch *Patch `json:"patch,omitempty"`
	// Skew to set; nil to remove the patch.
	Skew *Skew `json:"skew,omitempty"`
}

// Reply is a tracer's answer: the patch as it now is, or what failed.
type Reply struct {
	Patch *Patch `json:"patch,omitempty"`
	Error string `json:"error,omitempty"`
}

// Serve carries out one Request read from in and writes the Reply to out.
func Serve(in io.Reader, out io.Writer) error {
	var req Request
	rep := Reply{}
	if err := json.NewDecoder(in).Decode(&req); err != nil {
		rep.Error = "malformed request: " + err.Error()
	} else {
		rep.Patch, rep.Error = do(req)
	}
	return json.NewEncoder(out).Encode(rep)
}

func do(req Request) (*Patch, string) {
	p := req.Patch
	if req.Skew == nil {
		if p == nil {
			return nil, ""
		}
		if err := p.Remove(); err != nil {
			return p, err.Error()
		}
		return nil, ""
	}
	if p == nil {
		var err error
		if p, err = Inject(req.PID); err != nil {
			return nil, err.Error()
		}
	}
	if err := p.Set(*req.Skew); err != nil {
		return p, err.Error()
	}
	return p, ""
}

// Remote runs the tracer command argv for one step and returns the
// patch as it now is (nil once removed).
func Remote(ctx context.Context, argv []string, req Request) (*Patch, error) {
	in, err := json.Marshal(req)
	if err != nil {
		return req.Patch, err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = bytes.NewReader(in)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return req.Patch, fmt.Errorf("running the clock tracer: %w: %s", err, strings.TrimSpace(errOut.String()))
	}
	var rep Reply
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return req.Patch, fmt.Errorf("reading the clock tracer's reply %q: %w", out.String(), err)
	}
	if rep.Error != "" {
		return rep.Patch, errors.New(rep.Error)
	}
	return rep.Patch, nil
}
