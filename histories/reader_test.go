package histories

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
)

// lines makes a history of events given without their index and time:
// each gets the next index and a time 1 µs after the previous one.
func lines(events ...string) string {
	var b strings.Builder
	for i, e := range events {
		fmt.Fprintf(&b, `{"index":%d,"time":%d,%s}`+"\n", i, (i+1)*1000, e)
	}
	return b.String()
}

// Events of every kind, as the harness records them.
const (
	evPhaseStart = `"type":"info","process":"harness","f":"phase","value":"start"`
	evProbe      = `"type":"ok","process":"probe:n1","f":"status","member":{"name":"n1","id":"a1","term":2,"is_leader":true}`
	evProbeFail  = `"type":"fail","process":"probe:n2","f":"status","error":"context deadline exceeded"`
	evCampaign   = `"type":"invoke","process":"c1","f":"campaign","op":1,"value":"c1"`
	evWon        = `"type":"ok","process":"c1","f":"campaign","op":1,"value":"c1","token":{"key":"/e/c1","seq":5}`
	evWrite      = `"type":"invoke","process":"c1","f":"write","op":2,"key":"/r","value":"c1/5/1","token":{"key":"/e/c1","seq":5}`
	evWriteOK    = `"type":"ok","process":"c1","f":"write","op":2,"key":"/r","value":"c1/5/1","token":{"key":"/e/c1","seq":5}`
	evRead       = `"type":"invoke","process":"c1:r","f":"read","op":3,"key":"/r"`
	evReadOK     = `"type":"ok","process":"c1:r","f":"read","op":3,"key":"/r","value":"c1/5/1"`
)

// aWholeRun holds every kind of event the harness records.
var aWholeRun = []string{
	evPhaseStart,
	`"type":"info","process":"nemesis","f":"fault-plan","fault":{"id":1,"kind":"pause","params":{"rule":"election-leader","start":"1s","duration":"2s"}}`,
	evProbe, evProbeFail,
	`"type":"invoke","process":"c1","f":"observe","op":7`,
	`"type":"ok","process":"c1","f":"observe","op":7`,
	evCampaign,
	`"type":"ok","process":"store","f":"store-put","key":"/e/c1","value":"c1","rev":5,"create_rev":5,"session":"694e"`,
	evWon,
	`"type":"info","process":"c2","f":"observed","key":"/e/c1","value":"c1","rev":5,"create_rev":5`,
	`"type":"invoke","process":"c1","f":"lease-ttl","op":8,"token":{"key":"/e/c1","seq":5}`,
	`"type":"ok","process":"c1","f":"lease-ttl","op":8,"value":"3s","token":{"key":"/e/c1","seq":5}`,
	evWrite, evRead,
	`"type":"info","process":"nemesis","f":"fault-start","fault":{"id":1,"kind":"pause","targets":["c1"]}`,
	evWriteOK,
	`"type":"ok","process":"store","f":"store-put","key":"/r","value":"c1/5/1","rev":6,"create_rev":6`,
	evReadOK,
	`"type":"info","process":"nemesis","f":"fault-stop","fault":{"id":1,"kind":"pause","targets":["c1"]}`,
	`"type":"info","process":"c1","f":"lost","token":{"key":"/e/c1","seq":5}`,
	`"type":"info","process":"c1","f":"lost"`,
	`"type":"invoke","process":"c1","f":"resign","op":4,"token":{"key":"/e/c1","seq":5}`,
	`"type":"fail","process":"c1","f":"resign","op":4,"token":{"key":"/e/c1","seq":5},"error":"not the leader"`,
	`"type":"ok","process":"store","f":"store-delete","key":"/e/c1","rev":7,"create_rev":5`,
	`"type":"info","process":"store","f":"store-gap","key":"/e/c1","rev":9,"value":"1 acquisitions missed"`,
	`"type":"invoke","process":"c2","f":"campaign","op":5,"value":"c2"`,
	`"type":"info","process":"c2","f":"campaign","op":5,"value":"c2","error":"timed out"`,
	`"type":"invoke","process":"c3","f":"clock","op":6`,
	`"type":"ok","process":"c3","f":"clock","op":6,"value":"1 2"`,
	`"type":"info","process":"harness","f":"phase","value":"heal"`,
	`"type":"info","process":"harness","f":"phase","value":"quiet"`,
	`"type":"info","process":"harness","f":"phase","value":"final-reads"`,
	`"type":"invoke","process":"c2:r","f":"read","op":9,"key":"/r"`, // never completed: the run ended first
	`"type":"info","process":"harness","f":"phase","value":"end"`,
	`"type":"info","process":"harness","f":"phase","value":"record"`,
	`"type":"info","process":"store","f":"store-record","value":"every-change"`, // line 36
	`"type":"info","process":"c1","f":"renewed","value":"3s","rev":6,"session":"694e"`,
}

func TestReadAcceptsWhatTheHarnessWrites(t *testing.T) {
	long := strings.Repeat("v", MaxStringBytes)
	cases := []struct {
		name, history string
		wantEvents    int
		wantTruncated bool
	}{
		{"a whole run", lines(aWholeRun...), len(aWholeRun), false},
		{"op ids in any order", lines(`"type":"invoke","process":"c1:r","f":"read","op":9,"key":"/r"`, evCampaign,
			`"type":"ok","process":"c1:r","f":"read","op":9,"key":"/r"`), 3, false},
		{"two operations open at once", lines(evWrite, evRead, evReadOK, evWriteOK), 4, false},
		{"events at one time", `{"index":0,"time":5,` + evProbe + "}\n" + `{"index":1,"time":5,` + evProbe + "}\n", 2, false},
		{"time 0", `{"index":0,"time":0,` + evProbe + "}\n", 1, false},
		{"time 30 days", fmt.Sprintf(`{"index":0,"time":%d,%s}`+"\n", MaxTime, evProbe), 1, false},
		{"a value of 64 KiB", lines(`"type":"invoke","process":"c1","f":"write","op":2,"key":"/r","value":"` + long + `"`), 1, false},
		{"CRLF line ends", strings.ReplaceAll(lines(evProbe, evProbe), "\n", "\r\n"), 2, false},
		{"the last line whole without its newline", strings.TrimSuffix(lines(evProbe, evCampaign), "\n"), 2, false},
		{"cut off by a crash", lines(evProbe, evCampaign) + `{"index":2,"time":3000,"type":"ok","proc`, 2, true},
		{"cut off by a crash, an invoke left open", lines(evProbe, evCampaign) + strings.TrimSuffix(lines(evProbe, evCampaign, evWon), "}\n")[len(lines(evProbe, evCampaign)):], 2, true},
		{"cut off right after the brace", lines(evProbe) + `{`, 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(c.history), "h.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Events) != c.wantEvents || got.Truncated != c.wantTruncated {
				t.Fatalf("%d events truncated=%v, want %d truncated=%v", len(got.Events), got.Truncated, c.wantEvents, c.wantTruncated)
			}
		})
	}
}

func TestReadRefusesMalformedHistories(t *testing.T) {
	good := lines(evProbe)
	// replace swaps old for new in the event at line n (from 1) of a whole run.
	replace := func(n int, old, new string) string {
		evs := append([]string(nil), aWholeRun...)
		if !strings.Contains(evs[n-1], old) {
			panic(fmt.Sprintf("line %d %s has no %s", n, evs[n-1], old))
		}
		evs[n-1] = strings.Replace(evs[n-1], old, new, 1)
		return lines(evs...)
	}
	// without drops the events at lines ns (from 1) of a whole run.
	without := func(ns ...int) string {
		var evs []string
		for i, e := range aWholeRun {
			drop := false
			for _, n := range ns {
				drop = drop || i == n-1
			}
			if !drop {
				evs = append(evs, e)
			}
		}
		return lines(evs...)
	}
	line := func(index, time int64, rest string) string {
		return fmt.Sprintf(`{"index":%d,"time":%d,%s}`+"\n", index, time, rest)
	}
	huge := strings.Repeat("x", MaxStringBytes+1)
	cases := []struct{ name, history, wantErr string }{
		// One JSON object per line.
		{"not JSON", good + "{oops\n" + lines(evProbe, evProbe)[len(good):], "h.jsonl:2: invalid character"},
		{"an unclosed object", good + `{"index":1,"time":2` + "\n", "h.jsonl:2: the JSON object is not closed"},
		{"an empty line", good + "\n" + lines(evProbe, evProbe)[len(good):], "h.jsonl:2: empty line"},
		{"a blank line", "  \t\n" + good, "h.jsonl:1: empty line"},
		{"two objects on a line", strings.TrimSuffix(good, "\n") + good, "h.jsonl:1: data after the event's JSON object"},
		{"garbage after the object", strings.TrimSuffix(good, "\n") + " x\n", `h.jsonl:1: data after the event's JSON object: "x"`},
		{"an array", "[1]\n", "h.jsonl:1: not a JSON object"},
		{"null", "null\n", "h.jsonl:1: not a JSON object"},
		{"a string", `"index"` + "\n", "h.jsonl:1: not a JSON object"},
		{"an unknown field", lines(evProbe + `,"colour":1`), `h.jsonl:1: json: unknown field "colour"`},
		{"an unknown field in a token", replace(9, `"seq":5}`, `"seq":5,"epoch":1}`), `h.jsonl:9: json: unknown field "epoch"`},
		{"a field of the wrong type", lines(`"type":"ok","process":"probe:n1","f":"status","member":{"name":"n1","term":"2"}`), "h.jsonl:1: json: cannot unmarshal"},
		{"a line over 1 MiB", lines(`"type":"info","process":"c1","f":"lost","error":"` + strings.Repeat("e", MaxLineBytes) + `"`), "h.jsonl:1: line is over 1048576 bytes"},
		{"a last line over 1 MiB without its newline", good + `{"index":1,"error":"` + strings.Repeat("e", MaxLineBytes), "h.jsonl:2: line is over"},
		{"a value over 64 KiB", lines(`"type":"invoke","process":"c1","f":"write","op":2,"key":"/r","value":"` + huge + `"`), `h.jsonl:1: "value" is 65537 bytes, over the 65536 (64 KiB)`},
		{"a key over 64 KiB", lines(`"type":"invoke","process":"c1:r","f":"read","op":2,"key":"` + huge + `"`), `h.jsonl:1: "key" is 65537 bytes`},
		{"a token key over 64 KiB", replace(9, `"key":"/e/c1"`, `"key":"`+huge+`"`), `h.jsonl:9: "token.key" is 65537 bytes`},
		{"a fault target over 64 KiB", replace(15, `"targets":["c1"]`, `"targets":["`+huge+`"]`), `h.jsonl:15: "fault.targets" is 65537 bytes`},

		{"invalid UTF-8 in a value", lines(evProbe) + `{"index":1,"time":2000,"type":"invoke","process":"c1","f":"write","op":2,"key":"/r","value":"c1/` + "\xff" + `"}` + "\n", "h.jsonl:2: line is not valid UTF-8"},
		{"a lone surrogate in a value", lines(`"type":"invoke","process":"c1","f":"write","op":2,"key":"/r","value":"c1/\ud800"`), `h.jsonl:1: "value" holds an escape that is not a character`},
		{"a member's digest without its revision", lines(`"type":"ok","process":"harness","f":"member-hash","member":{"name":"n1"},"value":"ab12"`), `h.jsonl:1: ok of "member-hash" needs the digest as "value" and "rev" > 0`},
		{"two store-record declarations that disagree", lines(append(append([]string(nil), aWholeRun...), strings.Replace(aWholeRun[35], "every-change", "sampled", 1))...), `h.jsonl:38: "store-record" says "sampled", but line 36 said "every-change"`},

		// Index, time.
		{"index not from 0", line(1, 1, evProbe), "h.jsonl:1: index 1, want 0"},
		{"index skips", good + line(2, 2, evProbe), "h.jsonl:2: index 2, want 1"},
		{"index repeats", good + line(0, 2, evProbe), "h.jsonl:2: index 0, want 1"},
		{"index negative", line(-1, 1, evProbe), "h.jsonl:1: index -1 is negative"},
		{"an event deleted", deleteLine(lines(aWholeRun...), 4), "h.jsonl:4: index 4, want 3"},
		{"time goes back", good + line(1, 999, evProbe), "h.jsonl:2: time 999 goes back before the previous event's 1000"},
		{"time negative", line(0, -1, evProbe), "h.jsonl:1: time -1 is negative"},
		{"time over 30 days", line(0, MaxTime+1, evProbe), "h.jsonl:1: time 2592000000000001 is over 30 days"},
		{"time the largest int64", line(0, math.MaxInt64, evProbe), "h.jsonl:1: time 9223372036854775807 is over 30 days"},
		{"time beyond int64", `{"index":0,"time":9223372036854775808,` + evProbe + "}\n", "h.jsonl:1: json: cannot unmarshal number 9223372036854775808"},

		// Type, process, f.
		{"an unknown type", lines(`"type":"maybe","process":"c1","f":"read"`), `h.jsonl:1: unknown event type "maybe"`},
		{"no type", lines(`"process":"c1","f":"read","op":1`), `h.jsonl:1: event has no "type"`},
		{"no process", lines(`"type":"ok","f":"status"`), `h.jsonl:1: event has no "process"`},
		{"no f", lines(`"type":"ok","process":"c1"`), `h.jsonl:1: event has no "f"`},
		{"an unknown f", lines(`"type":"ok","process":"c1","f":"wrte","op":1`), `h.jsonl:1: unknown f "wrte"`},

		// Operations and their op ids.
		{"an invoke without op", lines(`"type":"invoke","process":"c1","f":"read","key":"/r"`), `h.jsonl:1: invoke of "read" has no "op" id`},
		{"a completion without op", lines(`"type":"ok","process":"c1:r","f":"read","key":"/r","value":"x"`), `h.jsonl:1: ok of "read" has no "op" id`},
		{"a negative op", lines(`"type":"invoke","process":"c1","f":"read","op":-3,"key":"/r"`), `h.jsonl:1: op -3 is negative`},
		{"a completion without its invoke (a stale read hidden)", without(14), `h.jsonl:17: ok of op 3 ("read" by c1:r) has no invoke before it`},
		{"a completion before its invoke", lines(evReadOK, evRead), `h.jsonl:1: ok of op 3 ("read" by c1:r) has no invoke before it`},
		{"a second completion", lines(evRead, evReadOK, evReadOK), `h.jsonl:3: ok of op 3, which is already complete (invoked at line 1)`},
		{"a completion by another process", lines(evRead, strings.Replace(evReadOK, `"c1:r"`, `"c2:r"`, 1)), `h.jsonl:2: ok of op 3 is "read" by c2:r, but its invoke at line 1 is "read" by c1:r`},
		{"a completion of another function", lines(evWrite, strings.Replace(evWriteOK, `"write"`, `"resign"`, 1)), `h.jsonl:2: ok of op 2 is "resign" by c1, but its invoke at line 1 is "write" by c1`},
		{"an op id reused while open", lines(evRead, strings.Replace(evWrite, `"op":2`, `"op":3`, 1)), `h.jsonl:2: invoke of op 3, which is already open (invoked at line 1)`},
		{"an op id reused after completion", lines(evRead, evReadOK, evRead), `h.jsonl:3: invoke of op 3, which line 1 already used: op ids are unique per history`},
		{"two operations open on one process", lines(evCampaign, strings.Replace(evWrite, `"op":2`, `"op":4`, 1)), `h.jsonl:2: invoke of op 4 by c1 while its op 1 (line 1) is open: a process has one operation open at a time`},
		{"a value written twice", lines(evWrite, evWriteOK, strings.Replace(evWrite, `"op":2`, `"op":4`, 1)), `h.jsonl:3: write of "c1/5/1" to /r, which line 1 wrote already`},
		{"an act that wrote without naming its term", lines(`"type":"invoke","process":"c1:a","f":"write","op":2,"key":"/r","value":"c1/a/1"`, `"type":"ok","process":"c1:a","f":"write","op":2,"key":"/r","value":"c1/a/1"`), `h.jsonl:2: ok of op 2, an act (a write invoked without a token), has no "token"`},

		// Single events.
		{"a single event with an op id", lines(evProbe + `,"op":4`), `h.jsonl:1: "status" is a single event: it has no "op" (here 4)`},
		{"a single event invoked", lines(`"type":"invoke","process":"probe:n1","f":"status"`), `h.jsonl:1: "status" is recorded as ok or fail, not invoke`},
		{"a store event of the wrong type", lines(`"type":"info","process":"store","f":"store-put","key":"/r","rev":6`), `h.jsonl:1: "store-put" is recorded as ok, not info`},
		{"a phase as ok", replace(1, `"type":"info"`, `"type":"ok"`), `h.jsonl:1: "phase" is recorded as info, not ok`},

		// What each kind carries.
		{"a write without key", replace(13, `"key":"/r",`, ``), `h.jsonl:13: invoke of "write" has no "key"`},
		{"a write without value", replace(13, `"value":"c1/5/1",`, ``), `h.jsonl:13: invoke of "write" has no "value"`},
		{"a read without key", replace(14, `,"key":"/r"`, ``), `h.jsonl:14: invoke of "read" has no "key"`},
		{"a won campaign without token", replace(9, `,"token":{"key":"/e/c1","seq":5}`, ``), `h.jsonl:9: ok of "campaign" has no "token"`},
		{"a won campaign's token without key", replace(9, `"key":"/e/c1",`, ``), `h.jsonl:9: ok of "campaign" has a token without "key"`},
		{"a won campaign's token with seq 0", replace(9, `"seq":5`, `"seq":0`), `h.jsonl:9: ok of "campaign" has a token with "seq" 0, want > 0`},
		{"a probe without member", replace(3, `,"member":{"name":"n1","id":"a1","term":2,"is_leader":true}`, ``), `h.jsonl:3: ok of "status" has no "member"`},
		{"a probe's member without name", replace(3, `"name":"n1",`, ``), `h.jsonl:3: ok of "status" has a member without "name"`},
		{"a store-put without key", replace(8, `"key":"/e/c1",`, ``), `h.jsonl:8: "store-put" has no "key"`},
		{"a store-put at rev 0", replace(8, `"rev":5`, `"rev":0`), `h.jsonl:8: "store-put" has "rev" 0, want > 0`},
		{"a store-delete without rev", replace(24, `"rev":7,`, ``), `h.jsonl:24: "store-delete" has "rev" 0, want > 0`},
		{"a store-delete at a negative rev", replace(24, `"rev":7`, `"rev":-7`), `h.jsonl:24: "store-delete" has "rev" -7, want > 0`},
		{"a store-gap without key", replace(25, `"key":"/e/c1",`, ``), `h.jsonl:25: "store-gap" has no "key"`},
		{"an observation without key", replace(10, `"key":"/e/c1",`, ``), `h.jsonl:10: "observed" has no "key"`},
		{"a fault-start without fault", replace(15, `,"fault":{"id":1,"kind":"pause","targets":["c1"]}`, ``), `h.jsonl:15: "fault-start" has no "fault"`},
		{"a fault-stop without kind", replace(19, `"kind":"pause",`, ``), `h.jsonl:19: "fault-stop" has a fault without "kind"`},
		{"a fault-plan without fault", replace(2, `,"fault":{"id":1,"kind":"pause","params":{"rule":"election-leader","start":"1s","duration":"2s"}}`, ``), `h.jsonl:2: "fault-plan" has no "fault"`},
		{"a store-record of an unknown kind", replace(36, `"value":"every-change"`, `"value":"sometimes"`), `h.jsonl:36: "store-record" says "sometimes", want "every-change" or "sampled"`},
		{"a renewal without session", replace(37, `,"session":"694e"`, ``), `h.jsonl:37: "renewed" needs "session" and "rev" > 0`},
		{"a renewal without rev", replace(37, `,"rev":6`, ``), `h.jsonl:37: "renewed" needs "session" and "rev" > 0`},
		{"a renewal without a TTL", replace(37, `"value":"3s",`, ``), `h.jsonl:37: "renewed" has "value" "", want a positive Go duration`},
		{"a renewal of TTL 0", replace(37, `"value":"3s"`, `"value":"0s"`), `h.jsonl:37: "renewed" has "value" "0s", want a positive Go duration`},
		{"an unknown phase", replace(1, `"value":"start"`, `"value":"warmup"`), `h.jsonl:1: unknown phase "warmup"`},
		{"a phase without value", replace(1, `,"value":"start"`, ``), `h.jsonl:1: unknown phase ""`},

		// No events.
		{"an empty file", "", "h.jsonl: no events"},
		{"only garbage without a newline", "garbage", "h.jsonl: no events (its only line is cut off)"},
		{"only a cut-off line", good[:30], "h.jsonl: no events (its only line is cut off)"},
		{"only a newline", "\n", "h.jsonl:1: empty line"},

		// The last line is forgiven only when it does not parse.
		{"a whole last line without newline that breaks a rule", good + strings.TrimSuffix(line(1, 0, evProbe), "\n"), "h.jsonl:2: time 0 goes back"},
		{"a whole last line without newline of an unknown field", good + `{"index":1,"time":2,"colour":1}`, `h.jsonl:2: json: unknown field "colour"`},
		{"a cut-off line that is not the last", good + good[:30] + "\n" + line(1, 2000, evProbe), "h.jsonl:2: the JSON object is not closed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(c.history), "h.jsonl")
			if err == nil || !strings.HasPrefix(err.Error(), c.wantErr) {
				t.Fatalf("error %v\nwant one starting %q", err, c.wantErr)
			}
			if !readErrorForm.MatchString(err.Error()) {
				t.Fatalf("error %q does not name the file and line", err)
			}
		})
	}
}

// deleteLine deletes line n (from 1) of a history.
func deleteLine(h string, n int) string {
	ls := strings.SplitAfter(h, "\n")
	return strings.Join(append(ls[:n-1], ls[n:]...), "")
}

// readErrorForm is every error Read returns: NAME:LINE: or NAME: no events.
var readErrorForm = regexp.MustCompile(`^h\.jsonl(:[1-9][0-9]*: .+|: no events.*)$`)

// TestReadAcceptsTheTwinsOfTheContractsRefusals: what the second audit's
// refusals must still let through.
func TestReadAcceptsTheTwinsOfTheContractsRefusals(t *testing.T) {
	for name, h := range map[string]string{
		"observe sent beside an open campaign": lines(evCampaign, `"type":"invoke","process":"c1","f":"observe","op":7`, evWon),
		"an act and a leader's write of one campaigner at once": lines(evCampaign, evWon, evWrite,
			`"type":"invoke","process":"c1:a","f":"write","op":4,"key":"/r","value":"c1/a/2"`,
			`"type":"ok","process":"c1:a","f":"write","op":4,"key":"/r","value":"c1/a/2","token":{"key":"/e/c1","seq":5}`, evWriteOK),
		"an act that did not write, without a token": lines(`"type":"invoke","process":"c1:a","f":"write","op":2,"key":"/r","value":"c1/a/1"`,
			`"type":"fail","process":"c1:a","f":"write","op":2,"key":"/r","value":"c1/a/1","error":"not leader"`),
		"one value on two keys":           lines(evWrite, evWriteOK, strings.NewReplacer(`"op":2`, `"op":4`, `"/r"`, `"/r2"`).Replace(evWrite)),
		"the record declared twice alike": lines(aWholeRun[35], aWholeRun[35]),
		"a value holding U+FFFD itself":   lines(`"type":"invoke","process":"c1","f":"write","op":2,"key":"/r","value":"c1/\ufffd"`),
		"a value holding U+FFFD escaped":  lines(`"type":"invoke","process":"c1","f":"write","op":2,"key":"/r","value":"c1/\\uFFFD"`),
		"members' digests": lines(`"type":"ok","process":"harness","f":"member-hash","member":{"name":"n1"},"value":"ab12","rev":40`,
			`"type":"fail","process":"harness","f":"member-hash","member":{"name":"n2"},"error":"deadline exceeded"`),
	} {
		if _, err := Read(strings.NewReader(h), "h.jsonl"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
