package run

import (
	"errors"
	"fmt"

	"github.com/election-harness/harness/cluster"
)

// SetupError is a failure to run the test or to check its history: no
// verdict on the recipe or the database (the CLI's exit 3). It is the
// cluster's own, so a Docker engine that cannot serve is one too.
type SetupError = cluster.SetupError

func setupErrorf(format string, args ...any) error {
	return &SetupError{Err: fmt.Errorf(format, args...)}
}

// CrashError is a crash of the checker or the report writer: a panic, or
// a fatal runtime error such as running out of memory. Never a verdict
// (the CLI's exit 4).
type CrashError struct{ Err error }

func (e *CrashError) Error() string { return e.Err.Error() }
func (e *CrashError) Unwrap() error { return e.Err }

// IsSetup reports whether err is a SetupError.
func IsSetup(err error) bool {
	var se *SetupError
	return errors.As(err, &se)
}

// IsCrash reports whether err is a CrashError.
func IsCrash(err error) bool {
	var ce *CrashError
	return errors.As(err, &ce)
}

// cleanupError is a run that ended but whose cluster could not be
// removed: its history is whole and is checked.
type cleanupError struct{ err error }

func (e *cleanupError) Error() string { return e.err.Error() }
func (e *cleanupError) Unwrap() error { return e.err }

func asCleanup(err error, target **cleanupError) bool { return errors.As(err, target) }
