package reports

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
)

// findChromium returns a Chromium binary, or "" when none is installed.
// In CI (CI=true) a missing browser fails the test: .ci/run installs
// Debian's chromium.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but no chromium on PATH (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH (apt-get install chromium)")
	return ""
}

// renderRunDir checks a stored run (config.json and history.jsonl, as
// `harness check` does) into a fresh directory and renders its report.
func renderRunDir(t *testing.T, src string) (string, checker.Results, []histories.Event) {
	t.Helper()
	cfg, err := histories.RunDir(src).ReadConfig()
	if err != nil {
		t.Fatal(err)
	}
	rr, err := histories.ReadFile(filepath.Join(src, histories.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	o := checker.Options{ElectionPrefix: cfg.ElectionPrefix, RegisterPrefix: cfg.RegisterPrefix, TTL: time.Duration(cfg.TTL),
		LivenessBound: time.Duration(cfg.LivenessBound), ReadConsistency: cfg.Consistency, ExpectFaults: len(cfg.Nemesis) > 0}
	res, err := checker.Check(context.Background(), rr.Events, o)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	facts := []Fact{{"db", cfg.DB + " " + cfg.Version}, {"nodes", fmt.Sprint(cfg.Nodes)}, {"campaigners", fmt.Sprint(cfg.Campaigners)},
		{"recipe", cfg.Recipe}, {"ttl", time.Duration(cfg.TTL).String()}, {"nemesis", strings.Join(cfg.Nemesis, ",")},
		{"time limit", time.Duration(cfg.TimeLimit).String()}, {"seed", fmt.Sprint(cfg.Seed)}, {"harness", cfg.HarnessVersion}, {"command", cfg.Command}}
	in := Input{Title: cfg.Test, Facts: facts, Config: cfg, Command: cfg.Command, Options: o, Results: res, Events: rr.Events}
	if err := WriteHTML(filepath.Join(dir, histories.ReportFile), in); err != nil {
		t.Fatal(err)
	}
	return dir, res, rr.Events
}

// layoutProblems is run in the page: what overflows its box or the
// page, and which of the timeline's labels leave the drawing, their
// bar, or overlap another.
const layoutProblems = `(() => {
  const out = [];
  const W = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > W + 1) out.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + W);
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('svg') || ['IFRAME', 'SCRIPT', 'TITLE'].includes(e.tagName)) continue;
    const cs = getComputedStyle(e);
    if (cs.display === 'none' || cs.display === 'inline' || ['auto', 'scroll'].includes(cs.overflowX)) continue;
    if (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1) out.push('overflow of <' + e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '>: ' + e.scrollWidth + ' > ' + e.clientWidth + ': ' + e.textContent.slice(0, 80));
  }
  const wrap = document.getElementById('timeline-wrap');
  if (wrap.scrollWidth > wrap.clientWidth + 1) out.push('the timeline is wider than its frame: ' + wrap.scrollWidth + ' > ' + wrap.clientWidth);
  const svg = document.getElementById('timeline'), sb = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll('text')].map(t => ({t, b: t.getBoundingClientRect()})).filter(o => o.b.width > 0);
  for (const {t, b} of texts) {
    if (b.left < sb.left - .5 || b.right > sb.right + .5 || b.top < sb.top - .5 || b.bottom > sb.bottom + .5) out.push('label outside the timeline: ' + t.textContent);
    if (t.classList.contains('barlabel')) {
      const r = t.previousElementSibling.getBoundingClientRect();
      if (b.left < r.left - .5 || b.right > r.right + .5) out.push('label wider than its bar: ' + t.textContent);
    }
  }
  texts.sort((a, b) => a.b.left - b.b.left);
  for (let i = 0; i < texts.length; i++) {
    for (let j = i + 1; j < texts.length && texts[j].b.left < texts[i].b.right - .5; j++) {
      const a = texts[i].b, c = texts[j].b;
      if (Math.min(a.bottom, c.bottom) - Math.max(a.top, c.top) > .5) out.push('labels overlap: "' + texts[i].t.textContent + '" and "' + texts[j].t.textContent + '"');
    }
  }
  return out.slice(0, 30);
})()`

// redElements lists what the page paints in the anomaly red; a valid
// run's report must paint nothing in it.
const redElements = `(() => {
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const cs = getComputedStyle(e);
    if (cs.display === 'none') continue;
    const props = ['color', 'backgroundColor', 'fill', 'stroke'];
    if (parseFloat(cs.borderLeftWidth) > 0) props.push('borderLeftColor');
    for (const p of props) if (cs[p] === 'rgb(204, 0, 0)') out.push(e.tagName.toLowerCase() + '.' + e.getAttribute('class') + ' ' + p);
  }
  return out.slice(0, 10);
})()`

// porcupineWhole says why porcupine's frame is not whole ("" if it
// is): it shows all it drew, its clients named, its nemesis row there.
const porcupineWhole = `(() => {
  const f = document.querySelector('iframe.porcupine');
  if (!f) return 'no porcupine frame';
  const d = f.contentDocument;
  if (f.getAttribute('data-named') !== 'true') return 'clients not named';
  if (f.clientHeight + 2 < d.documentElement.scrollHeight) return 'frame ' + f.clientHeight + ' px high, its page ' + d.documentElement.scrollHeight;
  const labels = [...d.querySelectorAll('#canvas svg g text[text-anchor="end"]')].map(t => t.textContent);
  if (!labels.some(l => /^c[0-9]+/.test(l))) return 'no campaigner among its clients: ' + labels.join(',');
  if (document.querySelector('#faults a') && !labels.includes('nemesis')) return 'no nemesis row: ' + labels.join(',');
  return '';
})()`

// wantStory checks the report's first anomaly sentence against the
// history: it names the campaigner, its term and the other, the time of
// the bad act from the workload's start, and the fault cited.
func wantStory(t *testing.T, sentence string, res checker.Results, events []histories.Event) {
	t.Helper()
	var ev *checker.Evidence
	for _, c := range res.Checks {
		if c.Verdict == checker.Invalid && !c.Informational && len(c.Evidence) > 0 {
			ev = &c.Evidence[0]
			break
		}
	}
	if ev == nil || ev.Story == nil {
		t.Fatal("no story for the first anomaly")
	}
	if sentence != ev.Story.Sentence {
		t.Errorf("the report's first sentence %q, results.json's %q", sentence, ev.Story.Sentence)
	}
	var start int64
	for _, e := range events {
		if e.F == histories.FPhase && e.Value == histories.PhaseStart {
			start = e.Time
		}
	}
	// The bad act is the evidence's last campaigner operation; its time
	// is its landing in the store, for a write, else its completion.
	var act histories.Event
	for _, e := range ev.Events {
		if e.Op != 0 && e.Type != histories.Invoke {
			act = e
		}
	}
	at := act.Time
	for _, e := range ev.Events {
		if e.F == histories.FStorePut && e.Value == act.Value && act.F == histories.FWrite {
			at = e.Time
		}
	}
	want := []string{fmt.Sprintf("at %.2f s ", float64(at-start)/1e9), strings.SplitN(act.Process, ":", 2)[0] + " "}
	if act.Token != nil {
		want = append(want, fmt.Sprintf("term %d", act.Token.Seq))
	}
	if ev.Story.OtherTerm != nil {
		want = append(want, fmt.Sprintf("%s (term %d)", ev.Story.Other, ev.Story.OtherTerm.Seq))
	}
	cited := false
	for _, f := range ev.Story.Faults {
		if f.Role == checker.RoleCause || f.Role == checker.RoleLastBefore {
			for _, e := range events {
				if e.F == histories.FFaultStart && e.Fault != nil && e.Fault.ID == f.ID && !cited {
					want = append(want, e.Fault.Kind+":"+e.Fault.Params["rule"]+" on "+strings.Join(e.Fault.Targets, ","))
					cited = true
				}
			}
		}
	}
	if !cited {
		want = append(want, "no fault had started")
	}
	for _, w := range want {
		if !strings.Contains(sentence, w) {
			t.Errorf("first anomaly sentence %q does not name %q", sentence, w)
		}
	}
}

// TestReportInChromium opens reports in real headless Chromium: a
// hand-built passing and failing run, a long synthetic one, the golden
// runs (real failing runs of each unsafe control, and a valid one), and
// a real 3-minute 5-member run under every fault kind. The verdict, the
// drawn timeline and porcupine's whole view must be there, with no
// console error or uncaught exception, no text overflowing its box or
// the page, no timeline label leaving its bar or overlapping another,
// no red in a valid run, and for a failing run a first anomaly sentence
// that names who, when, under which terms and which fault. It saves a
// screenshot of each.
func TestReportInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test; -short")
	}
	browser := findChromium(t)
	golden := func(name string) func(t *testing.T) (string, checker.Results, []histories.Event) {
		return func(t *testing.T) (string, checker.Results, []histories.Event) {
			return renderRunDir(t, filepath.Join("..", "testdata", "golden", name))
		}
	}
	for _, c := range []struct {
		name   string
		render func(t *testing.T) (string, checker.Results, []histories.Event)
		want   checker.Verdict
		widths []int64
		// fullPage captures the whole page; rasterizing a long run's
		// 20,000 latency points whole takes half a minute, so it gets
		// the first screen only.
		fullPage bool
		// story: assert the first anomaly's sentence against the history.
		story bool
	}{
		{"passing", func(t *testing.T) (string, checker.Results, []histories.Event) {
			e := run(false, "c1/2/2")
			d, r := render(t, e)
			return d, r, e
		}, checker.Valid, []int64{1280}, true, false},
		{"failing", func(t *testing.T) (string, checker.Results, []histories.Event) {
			e := run(true, "c1/2/2")
			d, r := render(t, e)
			return d, r, e
		}, checker.Invalid, []int64{1280}, true, true},
		{"100k-events", func(t *testing.T) (string, checker.Results, []histories.Event) {
			d, r := renderLong(t)
			return d, r, longRun
		}, checker.Valid, []int64{1400}, false, false},
		{"etcd-election-valid", golden("etcd-election-valid"), checker.Valid, []int64{1280}, true, false},
		{"etcd-unfenced-p4", golden("etcd-unfenced-p4"), checker.Invalid, []int64{1280, 800}, true, true},
		{"etcd-trust-campaign-p3", golden("etcd-trust-campaign-p3"), checker.Invalid, []int64{1280}, true, true},
		{"consul-unfenced-p4", golden("consul-unfenced-p4"), checker.Invalid, []int64{1280}, true, true},
		{"etcd-cached-p4", golden("etcd-cached-p4"), checker.Invalid, []int64{1280}, true, true},
		{"etcd-check-then-act-p4", golden("etcd-check-then-act-p4"), checker.Invalid, []int64{1280}, true, true},
		{"etcd-5-members-all-faults", func(t *testing.T) (string, checker.Results, []histories.Event) {
			return renderRunDir(t, filepath.Join("testdata", "etcd-election-5-all-faults"))
		}, checker.Valid, []int64{1280, 1920}, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, res, events := c.render(t)
			if res.Valid != c.want {
				t.Fatalf("history checks %s, want %s", res.Valid, c.want)
			}
			for _, width := range c.widths {
				t.Run(fmt.Sprint(width), func(t *testing.T) {
					openInChromium(t, browser, dir, width, c.want, c.fullPage, func(ctx context.Context) {
						if !c.story {
							return
						}
						var sentence string
						if err := chromedp.Run(ctx, chromedp.Text("#anomalies li .sentence", &sentence, chromedp.ByQuery)); err != nil {
							t.Fatalf("reading the first anomaly sentence: %v", err)
						}
						wantStory(t, sentence, res, events)
					}, c.name)
				})
			}
		})
	}
}

// openInChromium opens dir's report at width px and checks it.
func openInChromium(t *testing.T, browser, dir string, width int64, want checker.Verdict, fullPage bool, more func(context.Context), name string) {
	start := time.Now()
	actx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(int(width), 1000))...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	var mu sync.Mutex
	var problems []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				problems = append(problems, "console.error: "+strings.Join(args, " "))
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.LevelError {
				problems = append(problems, "log: "+ev.Entry.Text)
			}
		}
	})
	var verdict, whole string
	var rects int
	var layout, reds []string
	var shot []byte
	err := chromedp.Run(ctx,
		log.Enable(),
		chromedp.EmulateViewport(width, 1000),
		chromedp.Navigate("file://"+filepath.Join(dir, histories.ReportFile)),
		chromedp.WaitVisible("#timeline rect", chromedp.ByQuery),
		chromedp.Text("#verdict", &verdict, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('#timeline rect.bar').length`, &rects),
		chromedp.Poll(`(() => { const f = document.querySelector('iframe.porcupine');
			return f && f.getAttribute('data-named') === 'true'; })()`, nil),
		chromedp.Evaluate(porcupineWhole, &whole),
		chromedp.Evaluate(layoutProblems, &layout),
		chromedp.Evaluate(redElements, &reds),
	)
	if err == nil {
		t.Logf("loaded and drawn in %v", time.Since(start).Round(time.Millisecond))
		if fullPage {
			err = chromedp.Run(ctx, chromedp.FullScreenshot(&shot, 100)) // 100: PNG
		} else {
			err = chromedp.Run(ctx, chromedp.CaptureScreenshot(&shot))
		}
	}
	if err != nil {
		t.Fatalf("loading the report: %v", err)
	}
	if !strings.HasPrefix(verdict, string(want)) {
		t.Errorf("verdict %q, want it to start with %q", verdict, want)
	}
	if rects < 5 {
		t.Errorf("the timeline drew %d bars", rects)
	}
	if whole != "" {
		t.Errorf("porcupine's view is not whole: %s", whole)
	}
	if len(layout) > 0 {
		t.Errorf("at %d px the layout breaks:\n%s", width, strings.Join(layout, "\n"))
	}
	if want == checker.Valid && len(reds) > 0 {
		t.Errorf("a valid run's report shows red: %s", strings.Join(reds, "; "))
	}
	if want == checker.Invalid && len(reds) == 0 {
		t.Errorf("a failing run's report shows no anomaly in red")
	}
	more(ctx)
	mu.Lock()
	if len(problems) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(problems, "\n"))
	}
	mu.Unlock()
	out := filepath.Join(os.TempDir(), fmt.Sprintf("election-harness-report-%s-%d.png", name, width))
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", out)
}
