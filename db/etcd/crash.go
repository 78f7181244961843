package etcd

import "github.com/election-harness/harness/db"

// CrashMarkers: a Go panic or fatal runtime error on stderr, zap's panic
// and fatal levels (etcd logs JSON), and its corruption check's finding.
func (DB) CrashMarkers() []string {
	return []string{`^panic: `, `^fatal error: `, `"level":"(panic|fatal)"`, `found data inconsistency`}
}

var _ db.CrashMarkers = DB{}
