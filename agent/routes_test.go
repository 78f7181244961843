package agent

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Every Client call is a row of the route table, and every row is
// called by the Client: the two sides share one set of paths. The rows'
// handlers are stubbed, so nothing is done to this machine.
func TestEveryClientCallIsARoute(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := &agent{name: "n1", log: log, fw: &firewall{}, sup: &supervisor{log: log}}
	var mu sync.Mutex
	hit := map[string]int{}
	mux := http.NewServeMux()
	for _, r := range a.routes() {
		key := r.method + " " + r.path
		mux.HandleFunc(key, func(w http.ResponseWriter, req *http.Request) {
			mu.Lock()
			hit[key]++
			mu.Unlock()
			writeJSON(w, http.StatusOK, Status{Name: "n1"})
		})
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := NewClient(strings.TrimPrefix(srv.URL, "http://"), "")
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"Status":        func() error { _, err := c.Status(ctx); return err },
		"Dial":          func() error { _, err := c.Dial(ctx, "127.0.0.1:1", time.Second); return err },
		"Partition":     func() error { return c.Partition(ctx, PartitionRequest{}) },
		"HealPartition": func() error { return c.HealPartition(ctx) },
		"Loss":          func() error { return c.Loss(ctx, LossRequest{}) },
		"HealLoss":      func() error { return c.HealLoss(ctx) },
		"Delay":         func() error { return c.Delay(ctx, DelayRequest{}) },
		"HealDelay":     func() error { return c.HealDelay(ctx) },
		"Clock":         func() error { return c.Clock(ctx, ClockRequest{}) },
		"HealClock":     func() error { return c.HealClock(ctx) },
		"Stall":         func() error { return c.Stall(ctx) },
		"HealStall":     func() error { return c.HealStall(ctx) },
		"Pause":         func() error { return c.Pause(ctx) },
		"Resume":        func() error { return c.Resume(ctx) },
		"Kill":          func() error { return c.Kill(ctx, false) },
		"Start":         func() error { return c.Start(ctx) },
		"StartWith":     func() error { return c.StartWith(ctx, []string{"x"}) },
		"Heal":          func() error { return c.Heal(ctx) },
	} {
		if err := call(); err != nil {
			t.Errorf("%s is no route: %v", name, err)
		}
	}
	for _, r := range a.routes() {
		if hit[r.method+" "+r.path] == 0 {
			t.Errorf("route %s %s: no Client call reaches it", r.method, r.path)
		}
	}
}
