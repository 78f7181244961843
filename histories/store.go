package histories

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Files of a run directory.
const (
	ConfigFile  = "config.json"
	HistoryFile = "history.jsonl"
	ResultsFile = "results.json"
	ReportFile  = "report.html"
	JUnitFile   = "junit.xml"
	// CheckLogFile is the checker's output, kept when it crashed.
	CheckLogFile = "check-stderr.log"
	NodesDir     = "nodes" // per-node logs
	LatestLink   = "latest"
)

// RunDir is one run's directory: STORE/TEST/YYYYMMDDTHHMMSS.
type RunDir string

// Path joins name onto the run directory.
func (d RunDir) Path(name string) string { return filepath.Join(string(d), name) }

// NewRunDir creates STORE/TEST/<timestamp> and points STORE/TEST/latest and
// STORE/latest at it.
func NewRunDir(store, test string, at time.Time) (RunDir, error) {
	base := filepath.Join(store, test)
	stamp := at.UTC().Format("20060102T150405")
	dir := filepath.Join(base, stamp)
	for i := 1; ; i++ {
		err := os.MkdirAll(base, 0o755)
		if err == nil {
			err = os.Mkdir(dir, 0o755)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || i > 100 {
			return "", fmt.Errorf("creating run directory %s: %w", dir, err)
		}
		dir = filepath.Join(base, fmt.Sprintf("%s-%d", stamp, i))
	}
	if err := os.MkdirAll(filepath.Join(dir, NodesDir), 0o755); err != nil {
		return "", fmt.Errorf("creating run directory: %w", err)
	}
	if err := relink(filepath.Join(base, LatestLink), filepath.Base(dir)); err != nil {
		return "", err
	}
	if err := relink(filepath.Join(store, LatestLink), filepath.Join(test, filepath.Base(dir))); err != nil {
		return "", err
	}
	return RunDir(dir), nil
}

// relink atomically replaces link with a symlink to target.
func relink(link, target string) error {
	tmp := link + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("linking %s: %w", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		return fmt.Errorf("linking %s: %w", link, err)
	}
	return nil
}
