//go:build !(linux && amd64)

package clock

import (
	"errors"
	"runtime"
)

// Patch is not available here: the injected code is x86-64 only.
type Patch struct{}

// Inject refuses: clock skew needs linux/amd64.
func Inject(pid int) (*Patch, error) {
	return nil, errors.New("clock skew needs linux/amd64; this is " + runtime.GOOS + "/" + runtime.GOARCH)
}

func (p *Patch) Set(s Skew) error { return errors.New("clock skew needs linux/amd64") }
func (p *Patch) Remove() error    { return nil }
func (p *Patch) PID() int         { return 0 }
