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
