package rans

import (
	"math"
	"math/rand/v2"
	"testing"
)

// checkDist verifies a distribution over n symbols: intervals contiguous from 0 to 2^prec,
// every frequency >= 1, and Decode exact at both ends of every interval and at random points
// (every cf when the precision is small).
func checkDist(t *testing.T, rng *rand.Rand, d Dist, n int, what string) {
	t.Helper()
	M := uint64(1) << d.Prec()
	var next uint64
	for x := 0; x < n; x++ {
		s, f := d.Encode(x)
		if uint64(s) != next || f == 0 {
			t.Fatalf("%s: symbol %d: interval [%d, +%d), want start %d and freq >= 1", what, x, s, f, next)
		}
		next = uint64(s) + uint64(f)
		for _, cf := range []uint64{uint64(s), next - 1, uint64(s) + rng.Uint64N(uint64(f))} {
			y, s2, f2 := d.Decode(uint32(cf))
			if y != x || s2 != s || f2 != f {
				t.Fatalf("%s: Decode(%d) = %d [%d,+%d), want %d [%d,+%d)", what, cf, y, s2, f2, x, s, f)
			}
		}
	}
	if next != M {
		t.Fatalf("%s: frequencies sum to %d, want %d", what, next, M)
	}
	if M <= 1<<12 {
		x := 0
		for cf := uint64(0); cf < M; cf++ {
			for s, f := d.Encode(x); cf >= uint64(s)+uint64(f); s, f = d.Encode(x) {
				x++
			}
			if y, _, _ := d.Decode(uint32(cf)); y != x {
				t.Fatalf("%s: Decode(%d) = %d, want %d", what, cf, y, x)
			}
		}
	}
}

// logUniform returns a value log-uniform in [lo, hi].
func logUniform(rng *rand.Rand, lo, hi float64) float64 {
	return lo * math.Pow(hi/lo, rng.Float64())
}

var oddFloats = []float64{0, -1, math.NaN(), math.Inf(1), math.Inf(-1), 5e-324, 1e300, -1e300}

func TestUniform(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 1))
	for _, c := range []struct {
		n    int
		prec uint
	}{{1, 0}, {1, 5}, {2, 1}, {3, 2}, {7, 12}, {256, 8}, {1000, 16}, {3, 31}, {1 << 20, 31}} {
		checkDist(t, rng, NewUniform(c.n, c.prec), c.n, "uniform")
	}
	u := NewUniform(3, 16)
	for x := 0; x < 3; x++ {
		if _, f := u.Encode(x); f < 21845 || f > 21846 {
			t.Fatalf("uniform freq %d", f)
		}
	}
}

func TestCategorical(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 1))
	for i := 0; i < 300; i++ {
		K := 1 + rng.IntN(300)
		prec := uint(max(1, bitsFor(K)) + rng.IntN(MaxPrec+1-bitsFor(K)))
		counts := make([]uint64, K)
		for j := range counts {
			switch rng.IntN(4) {
			case 0: // zero
			case 1:
				counts[j] = rng.Uint64N(1 << 50)
			default:
				counts[j] = rng.Uint64N(1000)
			}
		}
		d, err := NewCategorical(counts, prec)
		if err != nil {
			t.Fatal(err)
		}
		checkDist(t, rng, d, K, "categorical")
		// Frequencies follow the counts: freq - 1 is within 1 of count·(M-K)/T.
		var T float64
		for _, c := range counts {
			T += float64(c)
		}
		W := float64(uint64(1)<<prec - uint64(K))
		for j, c := range counts {
			_, f := d.Encode(j)
			want := 1.0
			if T > 0 {
				want += float64(c) * W / T
			} else {
				want = float64(uint64(1)<<prec) / float64(K)
			}
			if math.Abs(float64(f)-want) > 1.0001 {
				t.Fatalf("categorical count %d: freq %d, want ~%v", c, f, want)
			}
		}
	}
	if _, err := NewCategorical(nil, 8); err == nil {
		t.Error("empty categorical accepted")
	}
	if _, err := NewCategorical(make([]uint64, 9), 3); err == nil {
		t.Error("categorical with more symbols than 2^prec accepted")
	}
	if _, err := NewCategorical([]uint64{math.MaxUint64, 1}, 8); err == nil {
		t.Error("overflowing counts accepted")
	}
	if _, err := NewCategorical([]uint64{1}, 32); err == nil {
		t.Error("precision 32 accepted")
	}
	d, _ := NewCategorical([]uint64{math.MaxUint64 - 1, 1, 0}, 31)
	checkDist(t, rng, d, 3, "categorical huge")
}

func bitsFor(n int) int {
	b := 0
	for 1<<b < n {
		b++
	}
	return b
}

// logisticF is the reference CDF from package math.
func logisticF(y, mu, s float64) float64 { return 1 / (1 + math.Exp(-(y-mu)/s)) }

func TestLogisticExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 1))
	n := scaleN(3000, 30)
	for i := 0; i < n; i++ {
		prec := uint(MinPixelPrec + rng.IntN(MaxPrec+1-MinPixelPrec))
		if i%3 == 0 {
			prec = uint(16 + rng.IntN(9)) // the codec's range
		}
		mu := rng.Float64()*600 - 172
		s := logUniform(rng, 1e-4, 1e3)
		if i%50 == 0 {
			mu = oddFloats[rng.IntN(len(oddFloats))]
		}
		if i%50 == 25 {
			s = oddFloats[rng.IntN(len(oddFloats))]
		}
		d := NewLogistic(mu, s, prec)
		checkDist(t, rng, d, PixelLevels, "logistic")
	}
	for prec := uint(MinPixelPrec); prec <= MaxPrec; prec++ {
		checkDist(t, rng, NewLogistic(127.3, 0.7, prec), PixelLevels, "logistic all precisions")
		checkDist(t, rng, NewLogistic(-3, 1e-4, prec), PixelLevels, "logistic all precisions")
	}
}

// The CDF against package math, and the quantized frequencies against the true bin
// probabilities: freq - 1 is within ~1 of P(x)·(M-256).
func TestLogisticAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	for i := 0; i < 2000; i++ {
		mu, s := rng.Float64()*300-20, logUniform(rng, 0.01, 100)
		prec := uint(16 + rng.IntN(9))
		d := NewLogistic(mu, s, prec)
		W := math.Ldexp(1, int(prec)) - 256
		for x := 0; x < 256; x++ {
			lo, hi := 0.0, 1.0
			if x > 0 {
				lo = logisticF(float64(x)-0.5, mu, s)
				if e := math.Abs(d.F(float64(x)-0.5) - lo); e > 1e-6 {
					t.Fatalf("F(%v) off by %g", float64(x)-0.5, e)
				}
			}
			if x < 255 {
				hi = logisticF(float64(x)+0.5, mu, s)
			}
			_, f := d.Encode(x)
			if e := math.Abs(float64(f) - 1 - (hi-lo)*W); e > 1+1e-6*W {
				t.Fatalf("mu %v s %v prec %d x %d: freq %d, want ~%v", mu, s, prec, x, f, 1+(hi-lo)*W)
			}
		}
	}
}

func TestMixtureExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 1))
	n := scaleN(1500, 30)
	for i := 0; i < n; i++ {
		K := 1 + rng.IntN(6)
		w, mu, s := make([]float64, K), make([]float64, K), make([]float64, K)
		sum := 0.0
		for k := range w {
			w[k] = rng.Float64()
			if rng.IntN(4) == 0 {
				w[k] *= 1e-9
			}
			sum += w[k]
			mu[k] = rng.Float64()*400 - 72
			s[k] = logUniform(rng, 1e-4, 1e3)
		}
		for k := range w {
			w[k] /= sum
		}
		if i%20 == 0 {
			switch rng.IntN(4) {
			case 0:
				w[rng.IntN(K)] = oddFloats[rng.IntN(len(oddFloats))]
			case 1:
				mu[rng.IntN(K)] = oddFloats[rng.IntN(len(oddFloats))]
			case 2:
				s[rng.IntN(K)] = oddFloats[rng.IntN(len(oddFloats))]
			case 3:
				w[0] = 1.5 // total above 1: F is clamped
			}
		}
		prec := uint(MinPixelPrec + rng.IntN(MaxPrec+1-MinPixelPrec))
		checkDist(t, rng, NewMixture(w, mu, s, prec), PixelLevels, "mixture")
	}
	// A one-component mixture is the logistic, up to the division vs multiplication by 1/s.
	rng2 := rand.New(rand.NewPCG(15, 1))
	for i := 0; i < 200; i++ {
		mu, s := rng2.Float64()*255, logUniform(rng2, 0.1, 50)
		a, b := NewMixture([]float64{1}, []float64{mu}, []float64{s}, 24), NewLogistic(mu, s, 24)
		for x := 0; x < 256; x++ {
			_, fa := a.Encode(x)
			_, fb := b.Encode(x)
			if d := int64(fa) - int64(fb); d < -2 || d > 2 {
				t.Fatalf("mixture of one differs from logistic at %d: %d vs %d", x, fa, fb)
			}
		}
	}
	// Against package math.
	w, mu, s := []float64{0.2, 0.5, 0.3}, []float64{30, 100, 101}, []float64{3, 10, 0.5}
	d := NewMixture(w, mu, s, 24)
	for y := -10.0; y < 270; y += 0.37 {
		want := 0.0
		for k := range w {
			want += w[k] * logisticF(y, mu[k], s[k])
		}
		if e := math.Abs(d.F(y) - want); e > 1e-6 {
			t.Fatalf("mixture F(%v) off by %g", y, e)
		}
	}
}

func TestLatentBinsTable(t *testing.T) {
	for k := uint(1); k <= 12; k++ {
		b := LatentBins(k)
		if b.Len() != 1<<k || b.Bits() != k || LatentBins(k) != b {
			t.Fatalf("LatentBins(%d) wrong or not shared", k)
		}
		B := float64(b.Len())
		for j := 1; j < b.Len(); j++ {
			m0, s0 := 0.3, 1.7
			want := m0 + s0*math.Log(float64(j)/(B-float64(j)))
			if e := math.Abs(b.Edge(j, m0, s0) - want); e > 1e-6 {
				t.Fatalf("k=%d edge %d off by %g", k, j, e)
			}
			if b.Edge(j, m0, s0) <= b.Edge(j-1, m0, s0) {
				t.Fatalf("k=%d edges not increasing at %d", k, j)
			}
		}
		for j := 0; j < b.Len(); j++ {
			c := b.Centre(j, -1, 2)
			want := -1 + 2*math.Log((float64(j)+0.5)/(B-float64(j)-0.5))
			if e := math.Abs(c - want); e > 1e-6 {
				t.Fatalf("k=%d centre %d off by %g", k, j, e)
			}
			if c <= b.Edge(j, -1, 2) || c >= b.Edge(j+1, -1, 2) {
				t.Fatalf("k=%d centre %d outside its bin", k, j)
			}
			if got := b.Bin(c, -1, 2); got != j {
				t.Fatalf("k=%d: Bin(Centre(%d)) = %d", k, j, got)
			}
		}
		// Equal mass under the reference: every bin gets probability 1/B.
		d := b.Latent(0.3, 1.7, 0.3, 1.7, 24)
		for j := 0; j < b.Len(); j++ {
			_, f := d.Encode(j)
			want := 1 + float64(uint64(1)<<24-uint64(b.Len()))/B
			if math.Abs(float64(f)-want) > 1.0001 {
				t.Fatalf("k=%d bin %d under the reference: freq %d, want ~%v", k, j, f, want)
			}
		}
	}
	if b := LatentBins(MaxLatentBits); b.Len() != 1<<MaxLatentBits {
		t.Fatal("largest table")
	}
	for _, k := range []uint{0, MaxLatentBits + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("LatentBins(%d) did not panic", k)
				}
			}()
			LatentBins(k)
		}()
	}
}

// Latents with extreme posteriors: much narrower than a bin, much wider than the range, far
// outside it, degenerate parameters. Every bin keeps freq >= 1 and Decode stays exact.
func TestLatentExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 1))
	n := scaleN(600, 30)
	for i := 0; i < n; i++ {
		k := []uint{1, 2, 5, 8, 10, 12}[rng.IntN(6)]
		b := LatentBins(k)
		prec := k + uint(rng.IntN(int(MaxPrec-k)+1))
		if i%2 == 0 {
			prec = max(k, uint(20+rng.IntN(5)))
		}
		m0, s0 := rng.NormFloat64()*3, logUniform(rng, 0.05, 20)
		mu := m0 + rng.NormFloat64()*s0*3
		if i%4 == 1 {
			mu = m0 + (rng.Float64()*2-1)*1e4 // far outside
		}
		s := logUniform(rng, 1e-4, 1e3)
		if i%40 == 0 {
			mu = oddFloats[rng.IntN(len(oddFloats))]
		}
		if i%40 == 20 {
			s = oddFloats[rng.IntN(len(oddFloats))]
		}
		if i%40 == 10 {
			m0, s0 = oddFloats[rng.IntN(len(oddFloats))], oddFloats[rng.IntN(len(oddFloats))]
		}
		checkDist(t, rng, b.Latent(mu, s, m0, s0, prec), b.Len(), "latent")
	}
	// The bin that holds mu gets nearly all the mass when s is tiny.
	b := LatentBins(10)
	d := b.Latent(0.123, 1e-6, 0, 1, 24)
	j := b.Bin(0.123, 0, 1)
	if _, f := d.Encode(j); f < 1<<24-2048 {
		t.Fatalf("narrow posterior: bin %d has freq %d", j, f)
	}
	// Against package math.
	for i := 0; i < 200; i++ {
		mu, s, m0, s0 := rng.NormFloat64(), logUniform(rng, 0.01, 10), rng.NormFloat64(), logUniform(rng, 0.1, 10)
		d := b.Latent(mu, s, m0, s0, 24)
		W := float64(uint64(1)<<24 - 1024)
		for j := 0; j < b.Len(); j++ {
			lo, hi := 0.0, 1.0
			if j > 0 {
				lo = logisticF(m0+s0*math.Log(float64(j)/float64(1024-j)), mu, s)
			}
			if j < 1023 {
				hi = logisticF(m0+s0*math.Log(float64(j+1)/float64(1023-j)), mu, s)
			}
			_, f := d.Encode(j)
			if e := math.Abs(float64(f) - 1 - (hi-lo)*W); e > 1+1e-6*W {
				t.Fatalf("latent bin %d: freq %d, want ~%v", j, f, 1+(hi-lo)*W)
			}
		}
	}
}

// PushSym / PopSym through the Dist interface, mixing all the distributions in one stream.
func TestDistStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 1))
	cat, _ := NewCategorical([]uint64{5, 0, 1, 100, 7}, 14)
	b := LatentBins(8)
	type rec struct {
		lane int
		d    Dist
		x    int
	}
	var recs []rec
	m := NewMessage(5)
	for i := 0; i < 20000; i++ {
		var d Dist
		var n int
		switch i % 5 {
		case 0:
			d, n = NewUniform(1+rng.IntN(1000), 20), 0
			n = int(d.(Uniform).n)
		case 1:
			d, n = cat, 5
		case 2:
			d, n = NewLogistic(rng.Float64()*255, logUniform(rng, 0.1, 30), 16), 256
		case 3:
			d, n = NewMixture([]float64{0.7, 0.3}, []float64{rng.Float64() * 255, 40}, []float64{2, 9}, 20), 256
		case 4:
			d, n = b.Latent(rng.NormFloat64(), logUniform(rng, 0.01, 3), 0, 1, 22), 256
		}
		// Draw x from the distribution itself so the stream has a realistic rate.
		x, _, _ := d.Decode(uint32(rng.Uint64N(1 << d.Prec())))
		if x < 0 || x >= n {
			t.Fatalf("decode gave %d of %d", x, n)
		}
		r := rec{rng.IntN(5), d, x}
		m.PushSym(r.lane, r.d, r.x)
		recs = append(recs, r)
	}
	for i := len(recs) - 1; i >= 0; i-- {
		x, err := m.PopSym(recs[i].lane, recs[i].d)
		if err != nil || x != recs[i].x {
			t.Fatalf("symbol %d: got %d, %v, want %d", i, x, err, recs[i].x)
		}
	}
	if !m.Equal(NewMessage(5)) {
		t.Fatal("stream did not return to the empty message")
	}
}
