package histories

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
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
	e = Fit(e, MaxStringBytes)
	line, err := json.Marshal(e)
	if err == nil && len(line) > MaxLineBytes {
		e = Fit(e, 1<<10)
		line, err = json.Marshal(e)
	}
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

// Fit returns e with every string made valid UTF-8, as JSON records it,
// each invalid byte becoming U+FFFD. Each string is cut to at most max
// bytes, the cut marked with the length it had. So what a campaigner or a
// store says is recorded within the history's limits, and reads back as
// recorded. e itself, and what it points to, are not changed.
func Fit(e Event, max int) Event {
	fits := true
	eachString(&e, func(_ string, s *string) {
		if len(*s) > max || !utf8.ValidString(*s) {
			fits = false
		}
	})
	if fits {
		return e
	}
	if e.Token != nil {
		t := *e.Token
		e.Token = &t
	}
	if e.Member != nil {
		m := *e.Member
		e.Member = &m
	}
	if e.Fault != nil {
		f := *e.Fault
		f.Targets = slices.Clone(f.Targets)
		if f.Params != nil {
			params := make(map[string]string, len(f.Params))
			for k, v := range f.Params {
				params[fitString(k, max)] = fitString(v, max)
			}
			f.Params = params
		}
		e.Fault = &f
	}
	eachString(&e, func(_ string, s *string) { *s = fitString(*s, max) })
	return e
}

// fitString makes s valid UTF-8 as encoding/json would (U+FFFD for each
// invalid byte) and cuts it to at most max bytes.
func fitString(s string, max int) string {
	if !utf8.ValidString(s) {
		var b strings.Builder
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.WriteString(s[i : i+n])
			}
			i += n
		}
		s = b.String()
	}
	if len(s) <= max {
		return s
	}
	mark := fmt.Sprintf("...[cut: %d bytes]", len(s))
	keep := max - len(mark)
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	if keep < 0 {
		keep = 0
	}
	return s[:keep] + mark
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
