package checker

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/anishathalye/porcupine"
)

func zw(client int, call, ret int64, value string) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Call: call, Return: ret, Input: RegisterInput{Kind: "write", Value: value}, Output: RegisterOutput{}}
}

func zr(client int, call, ret int64, value string) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Call: call, Return: ret, Input: RegisterInput{Kind: "read"}, Output: RegisterOutput{Value: value}}
}

// Each case is a small register history and whether it is
// linearizable; the operations named are the ones a failure must cite.
func TestZonesDecideSmallHistories(t *testing.T) {
	for _, c := range []struct {
		name string
		ops  []porcupine.Operation
		ok   bool
		cite []int
	}{
		{"empty", nil, true, nil},
		{"read of nothing", []porcupine.Operation{zr(0, 0, 1, "")}, true, nil},
		{"write then read", []porcupine.Operation{zw(0, 0, 1, "a"), zr(1, 2, 3, "a")}, true, nil},
		{"read concurrent with its write", []porcupine.Operation{zw(0, 0, 10, "a"), zr(1, 2, 3, "a")}, true, nil},
		{"read of a value nobody wrote", []porcupine.Operation{zw(0, 0, 1, "a"), zr(1, 2, 3, "b")}, false, []int{1}},
		{"read before its write began", []porcupine.Operation{zr(1, 0, 1, "a"), zw(0, 2, 3, "a")}, false, []int{0, 1}},
		{"stale read of the initial value", []porcupine.Operation{zw(0, 0, 1, "a"), zr(1, 2, 3, "")}, false, []int{0, 1}},
		{"stale read", []porcupine.Operation{zw(0, 0, 1, "a"), zw(0, 2, 3, "b"), zr(1, 4, 5, "a")}, false, []int{0, 1, 2}},
		{"reads see two writes in opposite orders", []porcupine.Operation{
			zw(0, 0, 10, "a"), zw(1, 0, 10, "b"), zr(2, 1, 2, "a"), zr(3, 1, 2, "b"), zr(2, 3, 4, "b"), zr(3, 3, 4, "a")}, false, nil},
		{"concurrent writes, reads agree", []porcupine.Operation{
			zw(0, 0, 10, "a"), zw(1, 0, 10, "b"), zr(2, 1, 2, "a"), zr(3, 1, 2, "a"), zr(2, 3, 4, "b"), zr(3, 3, 4, "b")}, true, nil},
		{"indeterminate write read late", []porcupine.Operation{zw(0, 0, never-1, "a"), zw(1, 1, 2, "b"), zr(2, 3, 4, "a")}, true, nil},
		{"indeterminate write never read", []porcupine.Operation{zw(0, 0, never-1, "a"), zw(1, 1, 2, "b"), zr(2, 3, 4, "b")}, true, nil},
		{"indeterminate write read, then the older value", []porcupine.Operation{
			zw(1, 0, 1, "b"), zw(0, 2, never-1, "a"), zr(2, 3, 4, "a"), zr(2, 5, 6, "b")}, false, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := checkZones(c.ops, nil)
			if !v.applicable {
				t.Fatal("not applicable")
			}
			if v.ok != c.ok {
				t.Fatalf("ok=%v (%s), want %v", v.ok, v.message, c.ok)
			}
			if want := porcupine.CheckOperations(RegisterModel, c.ops); want != c.ok {
				t.Fatalf("porcupine says %v: the case is wrong", want)
			}
			if !c.ok && (v.message == "" || len(v.ops) == 0) {
				t.Errorf("a failure with no message or no operations: %+v", v)
			}
			if c.cite != nil && fmt.Sprint(v.ops) != fmt.Sprint(c.cite) {
				t.Errorf("cites %v (%s), want %v", v.ops, v.message, c.cite)
			}
		})
	}
}

func TestZonesStandAsideWhenValuesRepeat(t *testing.T) {
	if v := checkZones([]porcupine.Operation{zw(0, 0, 1, "a"), zw(1, 2, 3, "a")}, nil); v.applicable {
		t.Error("a value written twice: the clusters are ambiguous, the check must stand aside")
	}
	cas := porcupine.Operation{Input: RegisterInput{Kind: "cas", From: "a", Value: "b"}, Output: RegisterOutput{OK: true}}
	if v := checkZones([]porcupine.Operation{cas}, nil); v.applicable {
		t.Error("a cas: the check must stand aside")
	}
}

// TestZonesAgreeWithPorcupine: on thousands of random histories, valid
// (made by linearizing writes and reads at random points) and broken
// (one read given another value), the zone check and porcupine agree.
func TestZonesAgreeWithPorcupine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 600
	}
	var valid, invalid int
	for iter := range n {
		ops := randomRegisterHistory(rng, 2+rng.IntN(20))
		if iter%2 == 1 {
			corruptARead(rng, ops)
		}
		want := porcupine.CheckOperations(RegisterModel, ops)
		v := checkZones(ops, nil)
		if !v.applicable {
			t.Fatalf("history %d: not applicable", iter)
		}
		if v.ok != want {
			t.Fatalf("history %d: zones say %v (%s), porcupine %v:\n%v", iter, v.ok, v.message, want, ops)
		}
		if want {
			valid++
		} else {
			invalid++
		}
	}
	if valid < n/8 || invalid < n/8 {
		t.Errorf("%d valid and %d invalid histories: the generator should make plenty of each", valid, invalid)
	}
}

// randomRegisterHistory linearizes n operations at random points inside
// random intervals on a register; some writes never learn their outcome
// (returning at never) and some of those never take effect.
func randomRegisterHistory(rng *rand.Rand, n int) []porcupine.Operation {
	type pending struct {
		op    porcupine.Operation
		point int64
		lost  bool // an indeterminate write that did not take effect
	}
	var ps []pending
	span := max(100, 10*int64(n)) // about ten operations open at once in long histories
	for i := range n {
		call := rng.Int64N(span)
		ret := call + 1 + rng.Int64N(30)
		p := pending{op: porcupine.Operation{ClientId: i, Call: call, Return: ret}, point: call + rng.Int64N(ret-call)}
		if rng.IntN(2) == 0 {
			p.op.Input, p.op.Output = RegisterInput{Kind: "write", Value: fmt.Sprintf("v%d", i)}, RegisterOutput{}
			if rng.IntN(5) == 0 {
				p.op.Return = never - int64(i)
				p.point = call + rng.Int64N(60)
				p.lost = rng.IntN(2) == 0
			}
		} else {
			p.op.Input = RegisterInput{Kind: "read"}
		}
		ps = append(ps, p)
	}
	// Apply in linearization order to learn what each read returns.
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ps[order[a]].point < ps[order[b]].point })
	state := ""
	for _, i := range order {
		in := ps[i].op.Input.(RegisterInput)
		if in.Kind == "write" {
			if !ps[i].lost {
				state = in.Value
			}
			continue
		}
		ps[i].op.Output = RegisterOutput{Value: state}
	}
	out := make([]porcupine.Operation, len(ps))
	for i, p := range ps {
		out[i] = p.op
	}
	return out
}

// corruptARead gives one read another written value (or nothing).
func corruptARead(rng *rand.Rand, ops []porcupine.Operation) {
	var reads, values []int
	for i, o := range ops {
		if o.Input.(RegisterInput).Kind == "read" {
			reads = append(reads, i)
		} else {
			values = append(values, i)
		}
	}
	if len(reads) == 0 {
		return
	}
	r := reads[rng.IntN(len(reads))]
	v := ""
	if len(values) > 0 && rng.IntN(4) > 0 {
		v = ops[values[rng.IntN(len(values))]].Input.(RegisterInput).Value
	}
	ops[r].Output = RegisterOutput{Value: v}
}

func BenchmarkZones(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	ops := randomRegisterHistory(rng, 1_000_000)
	b.ResetTimer()
	for range b.N {
		checkZones(ops, nil)
	}
}
