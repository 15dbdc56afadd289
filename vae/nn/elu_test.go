package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestELUAsmMatchesGo: the SIMD ELU gives exactly the bits of the portable one, including
// at the range-reduction steps, near 0, far below -87 and for large positive inputs.
func TestELUAsmMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	var x []float32
	for i := 0; i < 200000; i++ {
		x = append(x, float32(rng.NormFloat64()*3))
	}
	for k := -130; k <= 5; k++ {
		c := float32(float64(k) * math.Ln2)
		for d := -3; d <= 3; d++ {
			x = append(x, math.Float32frombits(uint32(int32(math.Float32bits(c))+int32(d))))
		}
	}
	x = append(x, 0, float32(math.Copysign(0, -1)), -87, -87.00001, -86.99999, -200, -1e30, 1e30, 1e-40, -1e-40, 3.4e38)
	for len(x)%8 != 5 {
		x = append(x, -0.5)
	}
	want := make([]float32, len(x))
	got := make([]float32, len(x))
	eluGo(x, want)
	eluBlock(x, got)
	for i := range x {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("ELU(%v): SIMD %v, Go %v", x[i], got[i], want[i])
		}
	}
	// And ELU is ELU.
	for _, v := range []float32{-3, -0.1, 0, 2} {
		var y [1]float32
		eluGo([]float32{v}, y[:])
		ref := float64(v)
		if v <= 0 {
			ref = math.Expm1(float64(v))
		}
		if math.Abs(float64(y[0])-ref) > 1e-6 {
			t.Fatalf("ELU(%v) = %v, want %v", v, y[0], ref)
		}
	}
}

func BenchmarkELU(b *testing.B) {
	x := make([]float32, 64*16*256)
	y := make([]float32, len(x))
	for i := range x {
		x[i] = float32(i%200)/50 - 3
	}
	for i := 0; i < b.N; i++ {
		eluBlock(x, y)
	}
	b.ReportMetric(float64(len(x)*b.N)/b.Elapsed().Seconds()/1e6, "Melem/s")
}

// TestELUBackwardAsmMatchesGo: the branch-free SIMD ELU gradient equals the portable one and
// the derivative of ELU.
func TestELUBackwardAsmMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	n := 100003
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 3)
	}
	x[0], x[1], x[2], x[3] = 0, float32(math.Copysign(0, -1)), 1e-30, -1e-30
	y := make([]float32, n)
	eluGo(x, y)
	dy := make([]float32, n)
	for i := range dy {
		dy[i] = float32(rng.NormFloat64())
	}
	want := make([]float32, n)
	got := make([]float32, n)
	for i := range want {
		want[i] = float32(i%7) - 3
		got[i] = want[i]
	}
	eluBackGo(y, dy, want)
	eluBackBlock(y, dy, got)
	for i := range x {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("x=%v: SIMD %v, Go %v", x[i], got[i], want[i])
		}
		d := 1.0
		if x[i] <= 0 {
			d = math.Exp(float64(x[i]))
		}
		ref := float64(float32(i%7)-3) + float64(dy[i])*d
		if math.Abs(float64(got[i])-ref) > 1e-5*(1+math.Abs(ref)) {
			t.Fatalf("x=%v: dx %v, want %v", x[i], got[i], ref)
		}
	}
}
