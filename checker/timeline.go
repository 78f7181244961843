package checker

import "github.com/election-harness/harness/histories"

// Span is a stretch of time in which one campaigner led, or believed it
// led. Times are the history's (nanoseconds since the run started).
type Span struct {
	Process string          `json:"process"`
	Token   histories.Token `json:"token"`
	Start   int64           `json:"start"`
	End     int64           `json:"end"`
	// Open: the span had not ended when the history did; End is the
	// history's last event.
	Open bool `json:"open,omitempty"`
}

// Leadership derives who led when, for people to look at. believed holds
// the campaigners' own spans, from a campaign's ok to a resign, a loss, a
// rejected write or the next campaign. recorded holds the store's reigns,
// in which the oldest live election key leads, named by the value the key
// holds.
func Leadership(events []histories.Event, opts Options) (believed, recorded []Span) {
	h, err := index(events)
	if err != nil {
		return nil, nil
	}
	for _, b := range beliefs(h) {
		believed = append(believed, Span{Process: b.process, Token: b.token, Start: b.start, End: b.end, Open: b.open})
	}
	rec := replayRecord(h, opts)
	for _, r := range rec.reigns {
		first := rec.keys[r.id]
		s := Span{Process: first.Value, Token: histories.Token{Key: r.id.key, Seq: r.id.createRev, Session: first.Session},
			Start: r.start.Time, End: h.end, Open: !r.ended}
		if r.ended {
			s.End = r.end.Time
		}
		recorded = append(recorded, s)
	}
	return believed, recorded
}
