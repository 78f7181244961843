package consul

import "github.com/election-harness/harness/db"

// CrashMarkers: a Go panic or fatal runtime error on stderr.
func (DB) CrashMarkers() []string {
	return []string{`^panic: `, `^fatal error: `}
}

var _ db.CrashMarkers = DB{}
