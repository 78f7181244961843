package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Failpoints is a database whose server can be built with failpoints
// (gofail): named places in its code that sleep, panic or fail when
// told to, set over HTTP on each member while it runs. The failpoint
// fault kind needs it, and a run asks for such a build (--failpoints):
// a stock build has none.
type Failpoints interface {
	// FailpointServer is Server built with failpoints, cached apart
	// from the stock build.
	FailpointServer(ctx context.Context, version, cacheDir string, log io.Writer) (ServerImage, error)
	// FailpointEnv is what member m's environment needs for its
	// failpoints to be set from the host.
	FailpointEnv(m Member) []string
	// SetFailpoint turns failpoint name of member m on with terms
	// (gofail's: `sleep("5s")`, `panic`, `1*sleep(200)`); a name the
	// build lacks is an error.
	SetFailpoint(ctx context.Context, m Member, name, terms string) error
	// ClearFailpoint turns it off; one already off is cleared.
	ClearFailpoint(ctx context.Context, m Member, name string) error
	// ListFailpoints is every failpoint of member m's build, with its
	// terms ("" when off); an error when m serves no failpoint control.
	ListFailpoints(ctx context.Context, m Member) (map[string]string, error)
}

// GofailEnable makes src (a copy of a module's sources) carry its
// failpoints: `gofail enable` (tool, gofail's main package, which the
// wrapper module requires) on each of dirs under src that exists (the
// directories differ between versions). It returns the directories
// enabled; none is an error.
func GofailEnable(src, tool string, dirs []string, goCmd func(args ...string) (string, error)) ([]string, error) {
	var abs []string
	for _, d := range dirs {
		p := filepath.Join(src, d)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			abs = append(abs, p)
		}
	}
	if len(abs) == 0 {
		return nil, fmt.Errorf("none of %s is in %s", strings.Join(dirs, ", "), src)
	}
	if _, err := goCmd(append([]string{"run", tool, "enable"}, abs...)...); err != nil {
		return nil, fmt.Errorf("gofail enable: %w", err)
	}
	return abs, nil
}

// FailpointPatch adds one failpoint marker (a `// gofail: var ...` comment)
// to a copy of a module's sources before `gofail enable`. It goes where a
// later release added it, for the releases that lack it. So a bug fixed
// together with its failpoint can be reproduced on the versions that have
// the bug, as etcd's tests/robustness/patches do.
type FailpointPatch struct {
	// File is the source file, relative to the module's root.
	File string
	// Line is the marker, without indentation. A file that already has
	// it is left as it is.
	Line string
	// Anchor is the (trimmed) code line the marker goes above, with the
	// comment lines right above the anchor: where the fixed release has
	// it. It must occur exactly once in File.
	Anchor string
}

// ApplyFailpointPatches applies patches to the module copy at src. A
// file that lacks both a patch's marker and its anchor is an error: a
// build that silently lacked a failpoint would reproduce nothing.
func ApplyFailpointPatches(src string, patches []FailpointPatch) (applied []string, err error) {
	for _, p := range patches {
		path := filepath.Join(src, p.File)
		b, err := os.ReadFile(path)
		if err != nil {
			return applied, fmt.Errorf("failpoint patch: %w", err)
		}
		out, changed, err := insertFailpoint(string(b), p)
		if err != nil {
			return applied, fmt.Errorf("failpoint patch of %s: %w", p.File, err)
		}
		if !changed {
			continue
		}
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			return applied, fmt.Errorf("failpoint patch: %w", err)
		}
		applied = append(applied, p.File+": "+p.Line)
	}
	return applied, nil
}

// insertFailpoint puts p's marker into src above p's anchor and the
// comment lines right above it, indented as the anchor is; changed is
// false if src already has the marker.
func insertFailpoint(src string, p FailpointPatch) (out string, changed bool, err error) {
	lines := strings.Split(src, "\n")
	at := -1
	for i, l := range lines {
		switch strings.TrimSpace(l) {
		case p.Line:
			return src, false, nil
		case p.Anchor:
			if at >= 0 {
				return "", false, fmt.Errorf("anchor %q occurs more than once", p.Anchor)
			}
			at = i
		}
	}
	if at < 0 {
		return "", false, fmt.Errorf("neither %q nor its anchor %q is there", p.Line, p.Anchor)
	}
	indent := lines[at][:len(lines[at])-len(strings.TrimLeft(lines[at], " \t"))]
	for at > 0 && strings.HasPrefix(strings.TrimSpace(lines[at-1]), "//") {
		at--
	}
	lines = slices.Insert(lines, at, indent+p.Line, "")
	return strings.Join(lines, "\n"), true, nil
}

// CopyModule copies the module cache's sources of module (as the
// wrapper resolved it) to dst, writable: the cache is read-only.
func CopyModule(module, dst string, goCmd func(args ...string) (string, error)) error {
	out, err := goCmd("list", "-m", "-f", "{{.Dir}}", module)
	if err != nil {
		return err
	}
	dir := strings.TrimSpace(out)
	if dir == "" {
		return fmt.Errorf("%s has no sources in the module cache", module)
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.CopyFS(dst, os.DirFS(dir)); err != nil {
		return fmt.Errorf("copying %s: %w", dir, err)
	}
	// CopyFS keeps the cache's read-only bits on directories: open them.
	return filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.Chmod(p, info.Mode().Perm()|0o200)
	})
}

// GofailClient speaks gofail's HTTP protocol to one process: PUT /NAME
// sets a failpoint's terms, DELETE /NAME clears it, GET / lists every
// failpoint as NAME=TERMS (TERMS empty when it is off).
type GofailClient struct {
	URL  string
	HTTP *http.Client
}

// NewGofailClient is a client of the failpoint control at url, with
// short timeouts (a member whose raft loop a failpoint stops still
// answers these).
func NewGofailClient(url string) GofailClient {
	return GofailClient{URL: strings.TrimSuffix(url, "/"), HTTP: &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
}

// Set turns failpoint name on with terms (`sleep("5s")`, `panic`,
// `1*sleep(200)`).
func (g GofailClient) Set(ctx context.Context, name, terms string) error {
	_, err := g.do(ctx, http.MethodPut, name, terms)
	return err
}

// Clear turns failpoint name off; one already off is cleared.
func (g GofailClient) Clear(ctx context.Context, name string) error {
	_, err := g.do(ctx, http.MethodDelete, name, "")
	if err != nil && strings.Contains(err.Error(), "failpoint is disabled") {
		return nil
	}
	return err
}

// List is every failpoint the process has, with its terms ("" when off).
func (g GofailClient) List(ctx context.Context) (map[string]string, error) {
	body, err := g.do(ctx, http.MethodGet, "", "")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for line := range strings.SplitSeq(body, "\n") {
		if name, terms, ok := strings.Cut(strings.TrimSpace(line), "="); ok && name != "" {
			out[name] = terms
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the process lists no failpoint (not a failpoint build?)")
	}
	return out, nil
}

func (g GofailClient) do(ctx context.Context, method, name, body string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, method, g.URL+"/"+name, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	resp, err := g.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("failpoint control %s: %w", g.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("failpoint control %s %s/%s: %s: %s", method, g.URL, name, resp.Status, strings.TrimSpace(string(b)))
	}
	return string(b), nil
}
