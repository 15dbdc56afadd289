package dmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

func relErr(got, want float64) float64 {
	if got == want {
		return 0
	}
	return math.Abs(got-want) / math.Max(math.Abs(want), 1e-300)
}

func TestExpAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	for i := 0; i < 200000; i++ {
		x := (rng.Float64()*2 - 1) * 700
		if i%2 == 0 {
			x = (rng.Float64()*2 - 1) * 5
		}
		if e := relErr(Exp(x), math.Exp(x)); e > worst {
			worst = e
		}
	}
	if worst > 1e-15 {
		t.Fatalf("Exp worst relative error %g", worst)
	}
	for _, c := range []struct{ x, want float64 }{
		{0, 1}, {1000, math.Inf(1)}, {-1000, 0}, {math.Inf(-1), 0}, {math.Inf(1), math.Inf(1)},
	} {
		if got := Exp(c.x); got != c.want {
			t.Errorf("Exp(%g) = %g, want %g", c.x, got, c.want)
		}
	}
	if !math.IsNaN(Exp(math.NaN())) {
		t.Error("Exp(NaN) is not NaN")
	}
	// Subnormal results stay close.
	if e := relErr(Exp(-740), math.Exp(-740)); e > 1e-3 {
		t.Errorf("Exp(-740) rel err %g", e)
	}
}

// Exp must be non-decreasing everywhere, in particular at the steps of the range reduction
// (x near k*ln2), where a polynomial approximation most easily wobbles.
func TestExpMonotone(t *testing.T) {
	for k := -1070; k <= 1023; k++ {
		x0 := float64(k) * ln2
		if x0 < expMin || x0 > expMax {
			continue
		}
		x := x0
		for i := 0; i < 64; i++ {
			x = math.Nextafter(x, math.Inf(-1))
		}
		prev := Exp(x)
		for i := 0; i < 128; i++ {
			x = math.Nextafter(x, math.Inf(1))
			v := Exp(x)
			if v < prev {
				t.Fatalf("Exp not monotone at %v: %v < %v", x, v, prev)
			}
			prev = v
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 100000; i++ {
		x := (rng.Float64()*2 - 1) * 40
		y := math.Nextafter(x, math.Inf(1))
		if Exp(y) < Exp(x) {
			t.Fatalf("Exp not monotone at %v", x)
		}
	}
}

func TestLogAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	worst := 0.0
	for i := 0; i < 200000; i++ {
		x := math.Exp((rng.Float64()*2 - 1) * 700)
		if i%2 == 0 {
			x = rng.Float64() * 4
		}
		want := math.Log(x)
		err := math.Abs(Log(x) - want)
		if math.Abs(want) > 1 {
			err /= math.Abs(want)
		}
		if err > worst {
			worst = err
		}
	}
	if worst > 1e-14 {
		t.Fatalf("Log worst error %g", worst)
	}
	if Log(1) != 0 || !math.IsInf(Log(0), -1) || !math.IsNaN(Log(-1)) || !math.IsInf(Log(math.Inf(1)), 1) {
		t.Fatal("Log special values wrong")
	}
	// The smallest subnormal is 2**-1074. (math.Log gets this one wrong on amd64: -709.09.)
	if e := relErr(Log(5e-324), -1074*math.Ln2); e > 1e-14 {
		t.Fatalf("Log of the smallest subnormal: rel err %g", e)
	}
}

func TestSigmoidLogit(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	prev := -1.0
	for x := -50.0; x <= 50; x += 1.0 / 1024 {
		s := Sigmoid(x)
		if s < prev {
			t.Fatalf("Sigmoid not monotone at %v", x)
		}
		prev = s
		want := 1 / (1 + math.Exp(-x))
		if math.Abs(s-want) > 2e-15 {
			t.Fatalf("Sigmoid(%v) = %v, want %v", x, s, want)
		}
	}
	for i := 0; i < 100000; i++ {
		p := rng.Float64()
		if p == 0 {
			continue
		}
		l := Logit(p)
		if want := math.Log(p / (1 - p)); math.Abs(l-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Fatalf("Logit(%v) = %v, want %v", p, l, want)
		}
		if math.Abs(Sigmoid(l)-p) > 1e-14 {
			t.Fatalf("Sigmoid(Logit(%v)) = %v", p, Sigmoid(l))
		}
	}
	if !math.IsInf(Logit(0), -1) || !math.IsInf(Logit(1), 1) || !math.IsNaN(Logit(2)) {
		t.Fatal("Logit special values wrong")
	}
}

func TestSoftplus(t *testing.T) {
	for x := -60.0; x <= 60; x += 0.01 {
		want := math.Log1p(math.Exp(x))
		if x > 36 {
			want = x + math.Log1p(math.Exp(-x))
		}
		if e := relErr(Softplus(x), want); e > 1e-13 {
			t.Fatalf("Softplus(%v) = %v, want %v", x, Softplus(x), want)
		}
	}
}

func TestExp32(t *testing.T) {
	worst := 0.0
	for x := float32(-87); x <= 88; x += 0.00137 {
		if e := relErr(float64(Exp32(x)), math.Exp(float64(x))); e > worst {
			worst = e
		}
	}
	if worst > 3e-7 {
		t.Fatalf("Exp32 worst relative error %g", worst)
	}
	if Exp32(0) != 1 || Exp32(-100) != 0 || !math.IsInf(float64(Exp32(100)), 1) {
		t.Fatal("Exp32 special values wrong")
	}
	for x := float32(-30); x <= 30; x += 0.01 {
		want := 1 / (1 + math.Exp(-float64(x)))
		if e := math.Abs(float64(Sigmoid32(x)) - want); e > 2e-7 {
			t.Fatalf("Sigmoid32(%v) = %v, want %v", x, Sigmoid32(x), want)
		}
	}
}

func BenchmarkExp(b *testing.B) {
	s := 0.0
	for i := 0; i < b.N; i++ {
		s += Exp(float64(i&1023) * 0.01)
	}
	_ = s
}

func BenchmarkExp32(b *testing.B) {
	var s float32
	for i := 0; i < b.N; i++ {
		s += Exp32(float32(i&1023) * -0.01)
	}
	_ = s
}
