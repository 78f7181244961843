package histories

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// ReadResult is a parsed history.
type ReadResult struct {
	Events []Event
	// Truncated is set when the last line was cut off mid-write (a crashed
	// run); it is dropped and the rest is checked.
	Truncated bool
}

// ReadFile reads and validates a history file. A malformed line is an
// error of the form "FILE:LINE: what is wrong"; only a final line with no
// newline (a write cut off by a crash) is forgiven.
func ReadFile(path string) (ReadResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return ReadResult{}, fmt.Errorf("opening history: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// Read parses a history from r; name is used in error messages.
func Read(r io.Reader, name string) (ReadResult, error) {
	var res ReadResult
	br := bufio.NewReaderSize(r, 1<<20)
	lineNo := 0
	var prevTime int64
	for {
		line, err := br.ReadBytes('\n')
		if len(line) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			return res, fmt.Errorf("%s:%d: reading: %w", name, lineNo+1, err)
		}
		lineNo++
		complete := bytes.HasSuffix(line, []byte("\n"))
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			if err == io.EOF {
				break
			}
			continue
		}
		var e Event
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		perr := dec.Decode(&e)
		if perr == nil {
			perr = validate(e, prevTime)
		}
		if perr != nil {
			if !complete {
				res.Truncated = true
				break
			}
			return res, fmt.Errorf("%s:%d: %v", name, lineNo, perr)
		}
		prevTime = e.Time
		res.Events = append(res.Events, e)
		if err == io.EOF {
			break
		}
	}
	return res, nil
}

func validate(e Event, prevTime int64) error {
	switch e.Type {
	case Invoke, OK, Fail, Info:
	case "":
		return fmt.Errorf("event has no \"type\"")
	default:
		return fmt.Errorf("unknown event type %q (want invoke, ok, fail or info)", e.Type)
	}
	if e.Process == "" {
		return fmt.Errorf("event has no \"process\"")
	}
	if e.F == "" {
		return fmt.Errorf("event has no \"f\"")
	}
	if e.Time < prevTime {
		return fmt.Errorf("time %d goes back before the previous event's %d", e.Time, prevTime)
	}
	if e.Type == Invoke && e.Op == 0 {
		return fmt.Errorf("invoke of %q has no \"op\" id", e.F)
	}
	return nil
}
