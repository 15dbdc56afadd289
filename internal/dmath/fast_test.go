package dmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestExpFastAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1))
	worst := 0.0
	for i := 0; i < 300000; i++ {
		x := (rng.Float64()*2 - 1) * 700
		if i%2 == 0 {
			x = (rng.Float64()*2 - 1) * 5
		}
		if e := relErr(ExpFast(x), math.Exp(x)); e > worst {
			worst = e
		}
	}
	if worst > 3e-11 {
		t.Fatalf("ExpFast worst relative error %g", worst)
	}
	for _, c := range []struct{ x, want float64 }{
		{0, 1}, {1000, math.Inf(1)}, {-1000, 0}, {math.Inf(-1), 0}, {math.Inf(1), math.Inf(1)},
	} {
		if got := ExpFast(c.x); got != c.want {
			t.Errorf("ExpFast(%g) = %g, want %g", c.x, got, c.want)
		}
	}
	if !math.IsNaN(ExpFast(math.NaN())) {
		t.Error("ExpFast(NaN) is not NaN")
	}
	if e := relErr(ExpFast(-740), math.Exp(-740)); e > 1e-3 {
		t.Errorf("ExpFast(-740) rel err %g", e)
	}
}

// Monotone everywhere, in particular around the range-reduction steps x = k·ln2 and at the
// over/underflow limits.
func TestExpFastMonotone(t *testing.T) {
	check := func(x0 float64, n int) {
		x := x0
		for i := 0; i < n; i++ {
			x = math.Nextafter(x, math.Inf(-1))
		}
		prev := ExpFast(x)
		for i := 0; i < 2*n; i++ {
			x = math.Nextafter(x, math.Inf(1))
			v := ExpFast(x)
			if v < prev {
				t.Fatalf("ExpFast not monotone at %v: %v < %v", x, v, prev)
			}
			prev = v
		}
	}
	for k := -1075; k <= 1024; k++ {
		x0 := float64(k) * ln2
		if x0 < expMin-1 || x0 > expMax+1 {
			continue
		}
		check(x0, 64)
	}
	check(expMax, 64)
	check(expMin, 64)
	rng := rand.New(rand.NewPCG(22, 1))
	for i := 0; i < 200000; i++ {
		x := (rng.Float64()*2 - 1) * 40
		if ExpFast(math.Nextafter(x, math.Inf(1))) < ExpFast(x) {
			t.Fatalf("ExpFast not monotone at %v", x)
		}
	}
}

func TestSigmoidFast(t *testing.T) {
	prev := -1.0
	for x := -60.0; x <= 60; x += 1.0 / 4096 {
		s := SigmoidFast(x)
		if s < prev {
			t.Fatalf("SigmoidFast not monotone at %v", x)
		}
		prev = s
		want := 1 / (1 + math.Exp(-x))
		if e := math.Abs(s - want); e > 4e-11*want {
			t.Fatalf("SigmoidFast(%v) = %v, want %v (err %g)", x, s, want, e)
		}
	}
	// Around 0 and at the extremes, ulp by ulp.
	for _, x0 := range []float64{0, math.Copysign(0, -1), 36.7, -36.7, 745, -745} {
		x := x0
		for i := 0; i < 100; i++ {
			x = math.Nextafter(x, math.Inf(-1))
		}
		prev := SigmoidFast(x)
		for i := 0; i < 200; i++ {
			x = math.Nextafter(x, math.Inf(1))
			if v := SigmoidFast(x); v < prev {
				t.Fatalf("SigmoidFast not monotone at %v", x)
			} else {
				prev = v
			}
		}
	}
	if SigmoidFast(0) != 0.5 || SigmoidFast(math.Copysign(0, -1)) != 0.5 || SigmoidFast(math.Inf(1)) != 1 ||
		SigmoidFast(math.Inf(-1)) != 0 || !math.IsNaN(SigmoidFast(math.NaN())) {
		t.Fatal("SigmoidFast special values wrong")
	}
}

func BenchmarkExpFast(b *testing.B) {
	s := 0.0
	for i := 0; i < b.N; i++ {
		s += ExpFast(float64(i&1023) * 0.01)
	}
	_ = s
}

func BenchmarkSigmoidFast(b *testing.B) {
	s := 0.0
	for i := 0; i < b.N; i++ {
		s += SigmoidFast(float64(i&1023)*0.01 - 5)
	}
	_ = s
}

func BenchmarkSigmoid(b *testing.B) {
	s := 0.0
	for i := 0; i < b.N; i++ {
		s += Sigmoid(float64(i&1023)*0.01 - 5)
	}
	_ = s
}

func TestSigmoidFast2(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 1))
	vals := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 709, -709, 710, -710, 745, -746, 5e-324}
	for k := -1000; k <= 1000; k++ { // the range-reduction steps
		x := float64(k) * ln2
		vals = append(vals, x, math.Nextafter(x, 0), math.Nextafter(x, math.Inf(1)), -x)
	}
	for i := 0; i < 200000; i++ {
		vals = append(vals, (rng.Float64()*2-1)*40)
	}
	same := func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) || (a != a && b != b) }
	for i, a := range vals {
		b := vals[(i*7919+1)%len(vals)]
		sa, sb := SigmoidFast2(a, b)
		if !same(sa, SigmoidFast(a)) || !same(sb, SigmoidFast(b)) {
			t.Fatalf("SigmoidFast2(%v, %v) = %v, %v; want %v, %v", a, b, sa, sb, SigmoidFast(a), SigmoidFast(b))
		}
	}
}
