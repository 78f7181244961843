package histories

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of the history contract. The harness never comes near them; a
// history beyond them is not a run's.
const (
	// MaxLineBytes is the longest line, without its newline.
	MaxLineBytes = 1 << 20
	// MaxStringBytes is the longest string any field holds.
	MaxStringBytes = 64 << 10
	// MaxTime is the latest event time: 30 days in nanoseconds.
	MaxTime = int64(30 * 24 * time.Hour)
)

// ReadResult is a parsed history.
type ReadResult struct {
	Events []Event
	// Truncated is set when the last line was cut off mid-write (a crashed
	// run); it is dropped and the rest is checked.
	Truncated bool
}

// ReadFile reads and validates a history file (see Read).
func ReadFile(path string) (ReadResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return ReadResult{}, fmt.Errorf("opening history: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// Read parses and validates a history from r, one line at a time; name
// is used in error messages. The contract, every rule of which the
// harness's own recorder keeps:
//
//   - each line is one JSON object of Event's fields (no other field, no
//     data after it), at most MaxLineBytes long; no empty line;
//   - index counts events from 0, one by one (an event deleted or moved
//     shows); time is between 0 and MaxTime and never goes back;
//   - type is invoke, ok, fail or info; process and f are set, and f is
//     one the harness records;
//   - an operation (f in Operations) has an op id > 0: its invoke uses an
//     id no earlier event used, and its completion (ok, fail or info)
//     matches an open invoke of the same op, process and f; an invoke
//     may stay open (the run ended first);
//   - a single event (every other f) has no op id and the types its f
//     allows;
//   - each kind carries what it means. An invoke of write carries its key
//     and value, and an invoke of read its key. An ok campaign carries a
//     token with a key and seq > 0, and an ok status a member with a name.
//     store-put, store-delete and store-gap carry a key and rev > 0, and
//     observed a key. fault-start, fault-stop and fault-plan carry a fault
//     with a kind, and phase a known phase;
//   - no string is longer than MaxStringBytes;
//   - there is at least one event.
//
// A violation is an error "NAME:LINE: what is wrong" ("NAME: no events"
// for a history without events). The one leniency: a last line without
// its newline that is not valid JSON is a write cut off by a crash; it
// is dropped and Truncated is set.
func Read(r io.Reader, name string) (ReadResult, error) {
	rd := contract{prevIndex: -1, open: map[int64]openOp{}, used: map[int64]int{}, openBy: map[string]int64{}, written: map[[2]string]int{}}
	br := bufio.NewReaderSize(r, 64<<10)
	tooLong := func(lineNo int) error {
		return fmt.Errorf("%s:%d: line is over %d bytes (1 MiB): not an event the harness writes", name, lineNo, MaxLineBytes)
	}
	var long []byte // a line longer than br's buffer, so far
	lineNo := 0
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if long = append(long, line...); len(long) > MaxLineBytes {
				return rd.res, tooLong(lineNo + 1)
			}
			continue
		}
		if err != nil && err != io.EOF {
			return rd.res, fmt.Errorf("%s:%d: reading: %w", name, lineNo+1, err)
		}
		if len(long) > 0 {
			line = append(long, line...)
			long = long[:0]
		}
		if len(line) == 0 {
			break // EOF
		}
		lineNo++
		complete := line[len(line)-1] == '\n'
		if complete {
			line = line[:len(line)-1]
		}
		if len(line) > MaxLineBytes {
			return rd.res, tooLong(lineNo)
		}
		if !complete && !json.Valid(line) {
			// A write cut off by a crash: the run's last line.
			rd.res.Truncated = true
			break
		}
		if err := rd.add(line, lineNo); err != nil {
			return rd.res, fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
		if !complete {
			break
		}
	}
	if len(rd.res.Events) == 0 {
		if rd.res.Truncated {
			return rd.res, fmt.Errorf("%s: no events (its only line is cut off)", name)
		}
		return rd.res, fmt.Errorf("%s: no events", name)
	}
	return rd.res, nil
}

// contract is the state Read checks each line against.
type contract struct {
	res       ReadResult
	prevIndex int64
	prevTime  int64
	// open are the invoked operations not yet completed, by op id.
	open map[int64]openOp
	// used are the lines of every op id's invoke.
	used map[int64]int
	// openBy is each process's open operation (observe aside).
	openBy map[string]int64
	// written are the lines of every write's invoke, by key and value.
	written map[[2]string]int
	// recordKind is what the first store-record said, at recordLine.
	recordKind string
	recordLine int
}

type openOp struct {
	process, f string
	line       int
	// tokened: the invoke carried a token (a leader's write; an act's
	// does not).
	tokened bool
}

// add parses one line and checks it against the history so far.
func (c *contract) add(line []byte, lineNo int) error {
	if !utf8.Valid(line) {
		return errors.New("line is not valid UTF-8: its strings would be read with U+FFFD in place of the bad bytes, and matched wrongly")
	}
	e, err := parseEvent(line)
	if err != nil {
		return err
	}
	if err := validate(e); err != nil {
		return err
	}
	if err := replacedEscape(e, line); err != nil {
		return err
	}
	if e.F == FStoreRecord {
		if c.recordKind != "" && c.recordKind != e.Value {
			return fmt.Errorf("%q says %q, but line %d said %q: a record is taken one way", e.F, e.Value, c.recordLine, c.recordKind)
		}
		c.recordKind, c.recordLine = e.Value, lineNo
	}
	switch {
	case e.Index != c.prevIndex+1:
		return fmt.Errorf("index %d, want %d: indices count the events from 0, one by one (an event is missing, repeated or moved)", e.Index, c.prevIndex+1)
	case e.Time < c.prevTime:
		return fmt.Errorf("time %d goes back before the previous event's %d", e.Time, c.prevTime)
	}
	if e.Op != 0 {
		if err := c.link(e, lineNo); err != nil {
			return err
		}
	}
	c.prevIndex, c.prevTime = e.Index, e.Time
	c.res.Events = append(c.res.Events, e)
	return nil
}

// link pairs an operation's invoke and completion.
func (c *contract) link(e Event, lineNo int) error {
	if e.Type == Invoke {
		if o, ok := c.open[e.Op]; ok {
			return fmt.Errorf("invoke of op %d, which is already open (invoked at line %d)", e.Op, o.line)
		}
		if l, ok := c.used[e.Op]; ok {
			return fmt.Errorf("invoke of op %d, which line %d already used: op ids are unique per history", e.Op, l)
		}
		// A process is single-threaded (docs/campaigner-protocol.md);
		// observe only starts a watch, and may be sent beside the rest.
		if e.F != FObserve {
			if prev, ok := c.openBy[e.Process]; ok {
				return fmt.Errorf("invoke of op %d by %s while its op %d (line %d) is open: a process has one operation open at a time", e.Op, e.Process, prev, c.open[prev].line)
			}
			c.openBy[e.Process] = e.Op
		}
		if e.F == FWrite {
			kv := [2]string{e.Key, e.Value}
			if l, ok := c.written[kv]; ok {
				return fmt.Errorf("write of %q to %s, which line %d wrote already: every written value is unique, so a put is known by it", e.Value, e.Key, l)
			}
			c.written[kv] = lineNo
		}
		c.open[e.Op] = openOp{process: e.Process, f: e.F, line: lineNo, tokened: e.Token != nil}
		c.used[e.Op] = lineNo
		return nil
	}
	o, ok := c.open[e.Op]
	switch {
	case !ok && c.used[e.Op] != 0:
		return fmt.Errorf("%s of op %d, which is already complete (invoked at line %d)", e.Type, e.Op, c.used[e.Op])
	case !ok:
		return fmt.Errorf("%s of op %d (%q by %s) has no invoke before it", e.Type, e.Op, e.F, e.Process)
	case o.process != e.Process || o.f != e.F:
		return fmt.Errorf("%s of op %d is %q by %s, but its invoke at line %d is %q by %s", e.Type, e.Op, e.F, e.Process, o.line, o.f, o.process)
	}
	if e.F == FWrite && e.Type == OK && !o.tokened && e.Token == nil {
		return fmt.Errorf("ok of op %d, an act (a write invoked without a token), has no \"token\": an act that wrote names the term it acted under", e.Op)
	}
	delete(c.open, e.Op)
	if c.openBy[e.Process] == e.Op {
		delete(c.openBy, e.Process)
	}
	return nil
}

// replacedEscape refuses an event whose strings hold U+FFFD that its
// line does not: JSON decoding replaces an escaped lone surrogate
// (\ud800) so, and two different values would then match.
func replacedEscape(e Event, line []byte) error {
	var bad string
	eachString(&e, func(field string, s *string) {
		if bad == "" && strings.ContainsRune(*s, utf8.RuneError) {
			bad = field
		}
	})
	if bad == "" || bytes.Contains(bytes.ToLower(line), []byte(`\ufffd`)) || bytes.Contains(line, []byte(string(utf8.RuneError))) {
		return nil
	}
	return fmt.Errorf("%q holds an escape that is not a character (a lone surrogate such as \\ud800): it would be read as U+FFFD, and matched wrongly", bad)
}

// parseEvent decodes a line that must hold exactly one JSON object of
// Event's fields.
func parseEvent(line []byte) (Event, error) {
	var e Event
	body := bytes.Trim(line, " \t\r")
	if len(body) == 0 {
		return e, errors.New("empty line")
	}
	if body[0] != '{' {
		return e, errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return e, errors.New("the JSON object is not closed")
		}
		return e, err
	}
	if rest := bytes.Trim(body[dec.InputOffset():], " \t\r"); len(rest) > 0 {
		return e, fmt.Errorf("data after the event's JSON object: %q", clipQuote(rest))
	}
	return e, nil
}

func clipQuote(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// validate checks one event on its own.
func validate(e Event) error {
	switch e.Type {
	case Invoke, OK, Fail, Info:
	case "":
		return errors.New(`event has no "type"`)
	default:
		return fmt.Errorf("unknown event type %q (want invoke, ok, fail or info)", e.Type)
	}
	if e.Process == "" {
		return errors.New(`event has no "process"`)
	}
	if e.F == "" {
		return errors.New(`event has no "f"`)
	}
	if err := checkSizes(e); err != nil {
		return err
	}
	switch {
	case e.Index < 0:
		return fmt.Errorf("index %d is negative", e.Index)
	case e.Time < 0:
		return fmt.Errorf("time %d is negative", e.Time)
	case e.Time > MaxTime:
		return fmt.Errorf("time %d is over 30 days (%d ns): not a run's clock", e.Time, MaxTime)
	case e.Op < 0:
		return fmt.Errorf("op %d is negative", e.Op)
	}
	if slices.Contains(Operations, e.F) {
		if e.Op == 0 {
			return fmt.Errorf("%s of %q has no \"op\" id", e.Type, e.F)
		}
		return validateOp(e)
	}
	types, ok := singles[e.F]
	switch {
	case !ok:
		return fmt.Errorf("unknown f %q", e.F)
	case e.Op != 0:
		return fmt.Errorf("%q is a single event: it has no \"op\" (here %d)", e.F, e.Op)
	case !slices.Contains(types, e.Type):
		return fmt.Errorf("%q is recorded as %s, not %s", e.F, typesList(types), e.Type)
	}
	return validateSingle(e)
}

func typesList(ts []Type) string {
	if len(ts) == 1 {
		return string(ts[0])
	}
	return string(ts[0]) + " or " + string(ts[1])
}

// validateOp checks what an operation's invoke or completion carries.
func validateOp(e Event) error {
	switch {
	case e.Type == Invoke && e.F == FWrite && e.Key == "":
		return errors.New(`invoke of "write" has no "key"`)
	case e.Type == Invoke && e.F == FWrite && e.Value == "":
		return errors.New(`invoke of "write" has no "value"`)
	case e.Type == Invoke && e.F == FRead && e.Key == "":
		return errors.New(`invoke of "read" has no "key"`)
	case e.Type == OK && e.F == FCampaign:
		return ValidWonToken(e.Token)
	}
	return nil
}

// ValidWonToken says what is missing from the token of a won campaign.
func ValidWonToken(t *Token) error {
	switch {
	case t == nil:
		return errors.New(`ok of "campaign" has no "token"`)
	case t.Key == "":
		return errors.New(`ok of "campaign" has a token without "key"`)
	case t.Seq <= 0:
		return fmt.Errorf(`ok of "campaign" has a token with "seq" %d, want > 0`, t.Seq)
	}
	return nil
}

// validateSingle checks what a single event carries.
func validateSingle(e Event) error {
	switch e.F {
	case FStoreRecord:
		if e.Value != RecordEveryChange && e.Value != RecordSampled {
			return fmt.Errorf("%q says %q, want %q or %q", e.F, e.Value, RecordEveryChange, RecordSampled)
		}
	case FStatus:
		if e.Type == OK && e.Member == nil {
			return errors.New(`ok of "status" has no "member"`)
		}
		if e.Type == OK && e.Member.Name == "" {
			return errors.New(`ok of "status" has a member without "name"`)
		}
	case FStorePut, FStoreDelete, FStoreGap:
		if e.Key == "" {
			return fmt.Errorf("%q has no \"key\"", e.F)
		}
		if e.Revision <= 0 {
			return fmt.Errorf("%q has \"rev\" %d, want > 0", e.F, e.Revision)
		}
	case FObserved:
		if e.Key == "" {
			return errors.New(`"observed" has no "key"`)
		}
	case FRenewed:
		if e.Session == "" || e.Revision <= 0 {
			return fmt.Errorf("%q needs \"session\" and \"rev\" > 0", e.F)
		}
		if d, err := time.ParseDuration(e.Value); err != nil || d <= 0 {
			return fmt.Errorf("%q has \"value\" %q, want a positive Go duration (the renewal's TTL)", e.F, e.Value)
		}
	case FFaultStart, FFaultStop, FFaultPlan:
		if e.Fault == nil {
			return fmt.Errorf("%q has no \"fault\"", e.F)
		}
		if e.Fault.Kind == "" {
			return fmt.Errorf("%q has a fault without \"kind\"", e.F)
		}
	case FWatchStart, FWatched, FWatchEnd:
		if e.Member == nil || e.Member.Name == "" {
			return fmt.Errorf("%q needs \"member\" with its \"name\"", e.F)
		}
		for i, c := range e.Changes {
			if c.Key == "" || c.Revision <= 0 {
				return fmt.Errorf("%q: change %d needs \"key\" and \"rev\" > 0", e.F, i)
			}
		}
	case FMemberHash, FMemberLog:
		if e.Member == nil || e.Member.Name == "" {
			return fmt.Errorf("%q needs \"member\" with its \"name\"", e.F)
		}
		if e.F == FMemberHash && e.Type == OK && (e.Value == "" || e.Revision <= 0) {
			return fmt.Errorf("ok of %q needs the digest as \"value\" and \"rev\" > 0", e.F)
		}
	case FMemberVersion:
		if e.Member == nil || e.Member.Name == "" || e.Value == "" {
			return fmt.Errorf("%q needs \"member\" with its \"name\", and the version as \"value\"", e.F)
		}
	case FPhase:
		if !slices.Contains(Phases, e.Value) {
			return fmt.Errorf("unknown phase %q (want one of %v)", e.Value, Phases)
		}
	}
	return nil
}

// checkSizes refuses a string over MaxStringBytes.
func checkSizes(e Event) error {
	var err error
	eachString(&e, func(field string, s *string) {
		if err == nil && len(*s) > MaxStringBytes {
			err = fmt.Errorf("%q is %d bytes, over the %d (64 KiB) a history holds", field, len(*s), MaxStringBytes)
		}
	})
	return err
}

// eachString calls fn with every string of e and its field name. The
// strings of a Fault's Params are passed as copies.
func eachString(e *Event, fn func(field string, s *string)) {
	fn("process", &e.Process)
	fn("f", &e.F)
	fn("key", &e.Key)
	fn("value", &e.Value)
	fn("session", &e.Session)
	fn("error", &e.Error)
	if t := e.Token; t != nil {
		fn("token.key", &t.Key)
		fn("token.session", &t.Session)
	}
	if m := e.Member; m != nil {
		fn("member.name", &m.Name)
		fn("member.id", &m.ID)
		fn("member.leader", &m.Leader)
		fn("member.version", &m.Version)
		fn("member.cluster_version", &m.ClusterVersion)
	}
	for i := range e.Changes {
		fn("changes.key", &e.Changes[i].Key)
		fn("changes.value", &e.Changes[i].Value)
	}
	if f := e.Fault; f != nil {
		fn("fault.kind", &f.Kind)
		for i := range f.Targets {
			fn("fault.targets", &f.Targets[i])
		}
		for k, v := range f.Params {
			k2, v2 := k, v
			fn("fault.params", &k2)
			fn("fault.params", &v2)
		}
	}
}
