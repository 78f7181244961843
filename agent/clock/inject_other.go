//go:build !(linux && amd64)

package clock

import (
	"errors"
	"runtime"
)

// Inject refuses: clock skew needs linux/amd64.
func Inject(pid int) (*Patch, error) {
	return nil, errors.New("clock skew needs linux/amd64; this is " + runtime.GOOS + "/" + runtime.GOARCH)
}

func (p *Patch) Set(s Skew) error { return errors.New("clock skew needs linux/amd64") }
func (p *Patch) Remove() error    { return nil }
