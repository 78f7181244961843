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

// TestReportInChromium opens the report of a passing and of a failing
// run in real headless Chromium: the verdict, the drawn timeline and
// porcupine's section must be there, with no console error or uncaught
// exception. It saves a screenshot of each.
func TestReportInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test; -short")
	}
	browser := findChromium(t)
	for _, c := range []struct {
		name   string
		render func(t *testing.T) (string, checker.Results)
		want   checker.Verdict
		// fullPage captures the whole page; rasterizing a long run's
		// 20,000 latency points whole takes half a minute, so it gets
		// the first screen only.
		fullPage bool
	}{
		{"passing", func(t *testing.T) (string, checker.Results) { return render(t, run(false, "c1/2/2")) }, checker.Valid, true},
		{"failing", func(t *testing.T) (string, checker.Results) { return render(t, run(true, "c1/2/2")) }, checker.Invalid, true},
		{"100k-events", func(t *testing.T) (string, checker.Results) { return renderLong(t) }, checker.Valid, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, res := c.render(t)
			if res.Valid != c.want {
				t.Fatalf("history checks %s, want %s", res.Valid, c.want)
			}
			start := time.Now()
			actx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
				chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1400, 1600))...)
			defer cancel()
			ctx, cancel := chromedp.NewContext(actx)
			defer cancel()
			ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
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
			var verdict string
			var rects, frames int
			var shot []byte
			err := chromedp.Run(ctx,
				log.Enable(),
				chromedp.Navigate("file://"+filepath.Join(dir, histories.ReportFile)),
				chromedp.WaitVisible("#timeline rect", chromedp.ByQuery),
				chromedp.Text("#verdict", &verdict, chromedp.ByQuery),
				chromedp.Evaluate(`document.querySelectorAll('#timeline rect.bar').length`, &rects),
				chromedp.Evaluate(`document.querySelectorAll('iframe.porcupine').length`, &frames),
				chromedp.Poll(`(() => { const f = document.querySelector('iframe.porcupine');
					return f && f.contentDocument && f.contentDocument.querySelectorAll('svg rect').length > 0; })()`, nil),
			)
			if err == nil {
				t.Logf("loaded and drawn in %v", time.Since(start).Round(time.Millisecond))
				if c.fullPage {
					err = chromedp.Run(ctx, chromedp.FullScreenshot(&shot, 100)) // 100: PNG
				} else {
					err = chromedp.Run(ctx, chromedp.CaptureScreenshot(&shot))
				}
			}
			if err != nil {
				t.Fatalf("loading the report: %v", err)
			}
			if !strings.HasPrefix(verdict, string(c.want)) {
				t.Errorf("verdict %q, want it to start with %q", verdict, c.want)
			}
			if rects < 5 {
				t.Errorf("the timeline drew %d bars", rects)
			}
			if frames != 1 {
				t.Errorf("%d porcupine frames, want 1", frames)
			}
			mu.Lock()
			if len(problems) > 0 {
				t.Errorf("the page reported errors:\n%s", strings.Join(problems, "\n"))
			}
			mu.Unlock()
			out := filepath.Join(os.TempDir(), fmt.Sprintf("election-harness-report-%s.png", c.name))
			if err := os.WriteFile(out, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", out)
		})
	}
}
