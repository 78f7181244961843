package histories

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// Recorder appends events to history.jsonl as they happen. Each event is
// written with one write call and no user-space buffer, so a crashed run
// keeps everything recorded up to the crash. Safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	f      *os.File
	start  time.Time
	next   int64
	nextOp int64
	err    error
	sinks  []func(Event)
}

// NewRecorder creates (or truncates) path and starts the run clock.
func NewRecorder(path string) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("creating history %s: %w", path, err)
	}
	return &Recorder{f: f, start: time.Now()}, nil
}

// Now is the run clock: nanoseconds since the recorder started, monotonic.
func (r *Recorder) Now() int64 { return int64(time.Since(r.start)) }

// Start is the wall-clock time the run clock started.
func (r *Recorder) Start() time.Time { return r.start }

// NextOp allocates a fresh operation id.
func (r *Recorder) NextOp() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nextOp++
	return r.nextOp
}

// OnRecord registers a function called (under the recorder's lock, so
// keep it short) with every recorded event; the live status uses it.
func (r *Recorder) OnRecord(fn func(Event)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sinks = append(r.sinks, fn)
}

// Record stamps e with its index and the current run time, appends it and
// returns the stamped event. Write errors are kept and reported by Err and
// Close; recording goes on so a full disk does not stop fault healing.
func (r *Recorder) Record(e Event) Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.Index = r.next
	e.Time = r.Now()
	r.next++
	line, err := json.Marshal(e)
	if err == nil {
		line = append(line, '\n')
		_, err = r.f.Write(line)
	}
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("appending to history: %w", err)
	}
	for _, fn := range r.sinks {
		fn(e)
	}
	return e
}

// Count is the number of events recorded so far.
func (r *Recorder) Count() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next
}

// Err returns the first write error, if any.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close syncs and closes the file.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return r.err
	}
	serr := r.f.Sync()
	cerr := r.f.Close()
	r.f = nil
	for _, err := range []error{r.err, serr, cerr} {
		if err != nil {
			return err
		}
	}
	return nil
}

// WriteAll writes events to path as JSONL, keeping their indices and
// times. Tests and tools use it to produce histories.
func WriteAll(path string, events []Event) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating history %s: %w", path, err)
	}
	enc := json.NewEncoder(f)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			f.Close()
			return fmt.Errorf("writing history %s: %w", path, err)
		}
	}
	return f.Close()
}
