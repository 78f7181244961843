// Package clock skews one process's clocks, in a container, without
// touching anyone else's: it ptraces the process, maps a page of
// injected code into it, and redirects its vDSO clock_gettime and
// gettimeofday there. Go reads time through the vDSO, so this reaches Go
// programs, which libfaketime and time namespaces cannot. The injected
// code reads the kernel's clock and applies an offset and a rate, per
// family: realtime (the wall clock) and monotonic (what timers, leases
// and timeouts measure).
//
// A fast monotonic clock makes measured durations grow while sleeps stay
// real; a slow one is faithful. Monotonic clocks never go back: a
// backward monotonic offset is clamped to the current one.
package clock

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"time"
)

// Skew is what a process's clocks do from the moment it is set: the wall
// clock reads true time plus Offset, the monotonic clocks jump forward by
// MonotonicOffset, and both run at Rate (1 is true time, 0.5 half speed).
type Skew struct {
	Offset          time.Duration `json:"offset"`
	MonotonicOffset time.Duration `json:"monotonic_offset,omitempty"`
	Rate            float64       `json:"rate"`
}

// None is no skew.
var None = Skew{Rate: 1}

// Validate refuses rates a clock cannot run at.
func (s Skew) Validate() error {
	if s.Rate <= 0 || s.Rate > 100 {
		return fmt.Errorf("clock rate %v: want more than 0 and at most 100", s.Rate)
	}
	if s.MonotonicOffset < 0 {
		return fmt.Errorf("monotonic offset %v: monotonic clocks only jump forward", s.MonotonicOffset)
	}
	return nil
}

// family is one clock family's mapping, as the injected code reads it:
// t' = base + (t - base) * rate / 2^32 + offset, in nanoseconds.
type family struct {
	base, offset, rate int64
}

const one = 1 << 32 // rate 1 in fixed point

func (f family) at(t int64) int64 {
	hi, lo := mul64(t-f.base, f.rate)
	return int64(hi<<32|lo>>32) + f.base + f.offset
}

// mul64 is the signed 128-bit product as the injected code's imul makes
// it: the high and low 64 bits.
func mul64(a, b int64) (hi, lo uint64) {
	neg := (a < 0) != (b < 0)
	ua, ub := uint64(a), uint64(b)
	if a < 0 {
		ua = uint64(-a)
	}
	if b < 0 {
		ub = uint64(-b)
	}
	hi, lo = bits.Mul64(ua, ub)
	if neg {
		lo = ^lo + 1
		hi = ^hi
		if lo == 0 {
			hi++
		}
	}
	return hi, lo
}

// params are both families, in the injected page's layout.
type params struct {
	realtime, monotonic family
}

var identity = params{realtime: family{rate: one}, monotonic: family{rate: one}}

// next returns the parameters that make the process's clocks do s from
// now (raw realtime and monotonic readings), continuing from old.
func (old params) next(s Skew, nowRT, nowMono int64) params {
	rate := int64(s.Rate * one)
	cur := old.monotonic.at(nowMono) - nowMono // the monotonic skew now
	monoOffset := max(int64(s.MonotonicOffset), cur)
	return params{
		realtime:  family{base: nowRT, offset: int64(s.Offset), rate: rate},
		monotonic: family{base: nowMono, offset: monoOffset, rate: rate},
	}
}

// bytes encodes params as the injected code's first 48 bytes.
func (p params) bytes() []byte {
	b := make([]byte, 0, 48)
	for _, v := range []int64{p.realtime.base, p.realtime.offset, p.realtime.rate, p.monotonic.base, p.monotonic.offset, p.monotonic.rate} {
		u := uint64(v)
		for i := 0; i < 8; i++ {
			b = append(b, byte(u>>(8*i)))
		}
	}
	return b
}

// site is one patched vDSO function and the bytes it had.
type site struct {
	name string
	addr uintptr
	orig []byte
}

// Patch is a process whose vDSO clock functions jump to injected code.
// It marshals to JSON, so that a short-lived tracer process can do each
// step and hand the patch back (see Remote).
type Patch struct {
	pid    int
	page   uintptr
	sites  []site
	params params
}

// PID is the patched process.
func (p *Patch) PID() int { return p.pid }

type patchJSON struct {
	PID    int        `json:"pid"`
	Page   uint64     `json:"page"`
	Sites  []siteJSON `json:"sites"`
	Params [6]int64   `json:"params"`
}

type siteJSON struct {
	Name string `json:"name"`
	Addr uint64 `json:"addr"`
	Orig []byte `json:"orig"`
}

func (p *Patch) MarshalJSON() ([]byte, error) {
	j := patchJSON{PID: p.pid, Page: uint64(p.page), Params: [6]int64{p.params.realtime.base, p.params.realtime.offset, p.params.realtime.rate,
		p.params.monotonic.base, p.params.monotonic.offset, p.params.monotonic.rate}}
	for _, s := range p.sites {
		j.Sites = append(j.Sites, siteJSON{Name: s.name, Addr: uint64(s.addr), Orig: s.orig})
	}
	return json.Marshal(j)
}

func (p *Patch) UnmarshalJSON(b []byte) error {
	var j patchJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*p = Patch{pid: j.PID, page: uintptr(j.Page), params: params{
		realtime:  family{base: j.Params[0], offset: j.Params[1], rate: j.Params[2]},
		monotonic: family{base: j.Params[3], offset: j.Params[4], rate: j.Params[5]}}}
	for _, s := range j.Sites {
		p.sites = append(p.sites, site{name: s.Name, addr: uintptr(s.Addr), orig: s.Orig})
	}
	return nil
}
