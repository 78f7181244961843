package agent

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// newTestAgent serves the control API of an agent of run "r1" that
// supervises nothing.
func newTestAgent(t *testing.T, runID string) *httptest.Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := &agent{name: "n1", runID: runID, log: log, fw: &firewall{}, sup: &supervisor{log: log}}
	srv := httptest.NewServer(a.handler())
	t.Cleanup(srv.Close)
	return srv
}

func TestAgentAnswersItsOwnRun(t *testing.T) {
	srv := newTestAgent(t, "r1")
	st, err := NewClient(strings.TrimPrefix(srv.URL, "http://"), "r1").Status(context.Background())
	if err != nil {
		t.Fatalf("status for its own run: %v", err)
	}
	if st.Name != "n1" {
		t.Errorf("status name %q", st.Name)
	}
}

func TestAgentRefusesAnotherRun(t *testing.T) {
	srv := newTestAgent(t, "r1")
	addr := strings.TrimPrefix(srv.URL, "http://")
	// The client of another run: every call is refused, faults too.
	c := NewClient(addr, "r2")
	for name, call := range map[string]func() error{
		"status": func() error { _, err := c.Status(context.Background()); return err },
		"pause":  func() error { return c.Pause(context.Background()) },
		"kill":   func() error { return c.Kill(context.Background(), true) },
		"heal":   func() error { return c.Heal(context.Background()) },
	} {
		err := call()
		if err == nil {
			t.Fatalf("%s for run r2 accepted by the agent of run r1", name)
		}
		for _, want := range []string{"belongs to run r1", `"r2"`, "another run"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not say %q", name, err, want)
			}
		}
	}
	// A request naming no run: 409 too.
	resp, err := http.Post(srv.URL+PathPause, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(b), "names no run") {
		t.Fatalf("a request with no run: %s %s, want 409 naming the missing header", resp.Status, b)
	}
	// Another run's: 409 exactly.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+PathStatus, nil)
	req.Header.Set(HeaderRun, "r2")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("a request for run r2: %s, want 409", resp.Status)
	}
}

func TestAgentWithoutRunAcceptsAll(t *testing.T) {
	srv := newTestAgent(t, "")
	if _, err := NewClient(strings.TrimPrefix(srv.URL, "http://"), "anything").Status(context.Background()); err != nil {
		t.Fatalf("an agent started with no run refused: %v", err)
	}
}
