package checker

import (
	"fmt"
	"math"
	"sort"

	"github.com/anishathalye/porcupine"
)

// A register whose writes all carry distinct values can be checked for
// linearizability without a record and without search (Gibbons and Korach,
// "Testing shared memories", 1997; Golab, Li and Shah, PODC 2011). Group
// each write with the reads that returned its value, which makes a cluster.
//
// A cluster's value must be the register's at some moment after its last
// operation began and before its first one returned, if that comes first.
// That is a backward zone, from the latest call to the earliest return. If
// an operation of the cluster returned before another began, the value must
// be the register's throughout that stretch. That is a forward zone, from
// the earliest return to the latest call.
//
// The register is linearizable exactly when three things hold. Every read's
// value was written by a write that began before the read returned. No two
// forward zones overlap. No backward zone lies inside a forward one.
// Sorting the zones decides it in O(n log n), with nothing to run out of
// time on, whatever the machine's load. It needs no store record, so it
// decides where the record misses changes (Consul's).

// zoneVerdict is what the zone check found on one register.
type zoneVerdict struct {
	// applicable: every write's value is distinct and every operation a
	// read or a write; otherwise the check says nothing.
	applicable bool
	ok         bool
	message    string
	// ops are the operations (indexes into the checked slice) that
	// cannot all be placed: at most four.
	ops   []int
	reads int64
}

// zone is one cluster's span; an index of -1 is the register's initial
// value, which is "written" before anything.
type zone struct {
	value     string
	lo, hi    int64
	forward   bool
	firstDone int // the operation that returned first
	lastCall  int // the operation that began last
}

// checkZones decides linearizability of one register's operations, as
// given to porcupine (an indeterminate write returns at "never");
// describe names operation i in messages (nil: by kind and value).
func checkZones(ops []porcupine.Operation, describe func(i int) string) zoneVerdict {
	if describe == nil {
		describe = func(i int) string { return describeOp(ops, i) }
	}
	describeOrInitial := func(i int) string {
		if i < 0 {
			return "the register's initial absence"
		}
		return describe(i)
	}
	writeOf := map[string]int{}
	for i, o := range ops {
		in := o.Input.(RegisterInput)
		switch in.Kind {
		case "write":
			if _, dup := writeOf[in.Value]; dup || in.Value == "" {
				return zoneVerdict{}
			}
			writeOf[in.Value] = i
		case "read":
		default:
			return zoneVerdict{}
		}
	}
	v := zoneVerdict{applicable: true, ok: true}
	members := map[string][]int{}
	for i, o := range ops {
		in := o.Input.(RegisterInput)
		if in.Kind == "write" {
			members[in.Value] = append(members[in.Value], i)
			continue
		}
		out := o.Output.(RegisterOutput)
		if out.Unknown {
			continue
		}
		v.reads++
		if out.Value == "" {
			members[""] = append(members[""], i)
			continue
		}
		w, ok := writeOf[out.Value]
		if !ok {
			return zoneVerdict{applicable: true, message: fmt.Sprintf("%s, which no write produced", describe(i)), ops: []int{i}, reads: v.reads}
		}
		if o.Return < ops[w].Call {
			return zoneVerdict{applicable: true, message: fmt.Sprintf("%s returned before %s began", describe(i), describe(w)), ops: []int{i, w}, reads: v.reads}
		}
		members[out.Value] = append(members[out.Value], i)
	}
	var forward, backward []zone
	for value, ids := range members {
		z := zone{value: value, lo: math.MaxInt64, hi: math.MinInt64, firstDone: -1, lastCall: -1}
		if value == "" {
			z.lo, z.hi = math.MinInt64, math.MinInt64 // the initial value's "write"
		}
		for _, i := range ids {
			if value != "" && ops[i].Return < z.lo {
				z.lo, z.firstDone = ops[i].Return, i
			}
			if ops[i].Call > z.hi {
				z.hi, z.lastCall = ops[i].Call, i
			}
		}
		if z.lo < z.hi {
			z.forward = true
			forward = append(forward, z)
		} else {
			z.lo, z.hi = z.hi, z.lo
			backward = append(backward, z)
		}
	}
	// Ties broken by value, so the same history always names the same
	// operations.
	sort.Slice(forward, func(i, j int) bool {
		if forward[i].lo != forward[j].lo {
			return forward[i].lo < forward[j].lo
		}
		return forward[i].value < forward[j].value
	})
	for i := 1; i < len(forward); i++ {
		a, b := forward[i-1], forward[i]
		if b.lo < a.hi {
			// a's value held from a.lo to a.hi, b's from b.lo (inside
			// that) on: b was written before a's last read began.
			v.ok = false
			v.message = fmt.Sprintf("%s had returned before %s began, and %s had returned before %s began: no order of the two writes explains both reads",
				describe(b.firstDone), describe(a.lastCall), describeOrInitial(a.firstDone), describe(b.lastCall))
			v.ops = zoneOps(a, b)
			return v
		}
	}
	sort.Slice(backward, func(i, j int) bool {
		if backward[i].lo != backward[j].lo {
			return backward[i].lo < backward[j].lo
		}
		return backward[i].value < backward[j].value
	})
	for _, b := range backward {
		// The forward zone starting last before b: forward zones are
		// disjoint, so no other can hold b.
		k := sort.Search(len(forward), func(i int) bool { return forward[i].lo >= b.lo }) - 1
		if k < 0 {
			continue
		}
		if a := forward[k]; b.hi < a.hi {
			v.ok = false
			v.message = fmt.Sprintf("%s had returned before %s began, and %s returned before %s began: %q was overwritten by %q in between",
				describeOrInitial(a.firstDone), describe(b.lastCall), describe(b.firstDone), describe(a.lastCall), a.value, b.value)
			v.ops = zoneOps(a, b)
			return v
		}
	}
	return v
}

// zoneOps lists the operations that bound two zones, each once.
func zoneOps(a, b zone) []int {
	var out []int
	seen := map[int]bool{}
	for _, i := range []int{a.firstDone, a.lastCall, b.firstDone, b.lastCall} {
		if i >= 0 && !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	sort.Ints(out)
	return out
}

func describeOp(ops []porcupine.Operation, i int) string {
	in, out := ops[i].Input.(RegisterInput), ops[i].Output.(RegisterOutput)
	if in.Kind == "write" {
		return fmt.Sprintf("the write of %q", in.Value)
	}
	if out.Value == "" {
		return "a read of nothing"
	}
	return fmt.Sprintf("a read of %q", out.Value)
}
