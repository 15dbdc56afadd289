package rans

import (
	"math"
	"math/rand/v2"
	"testing"
)

// rateCase codes a long stream of symbols drawn from their own quantized distributions and
// compares the serialized size with the ideal code length sum -log2(freq/2^prec).
type rateResult struct {
	n             int
	ideal, actual float64 // bits
	flush         float64 // allowed flush overhead in bits
}

func (r rateResult) check(t *testing.T, what string) {
	t.Helper()
	over := r.actual - r.ideal
	t.Logf("%s: %d symbols, ideal %.0f bits (%.4f/symbol), actual %.0f bits: +%.0f bits = %.5f%% (flush allowance %.0f)",
		what, r.n, r.ideal, r.ideal/float64(r.n), r.actual, over, 100*over/r.ideal, r.flush)
	if r.actual > r.ideal*1.001+r.flush {
		t.Errorf("%s: rate %.0f bits exceeds ideal %.0f by more than 0.1%% + flush", what, r.actual, r.ideal)
	}
	if r.actual < r.ideal-r.flush {
		t.Errorf("%s: rate %.0f bits below the ideal %.0f: the accounting is wrong", what, r.actual, r.ideal)
	}
}

func TestRatePixels(t *testing.T) {
	for _, prec := range []uint{12, 16, 24} {
		const L = 8
		n := scaleN(1_000_000, 10)
		// Pixels drawn from the exact logistic (the model is right), so that both the
		// quantized and the exact code lengths are meaningful.
		rng := rand.New(rand.NewPCG(32, uint64(prec)))
		xs, mu, s := make([]uint8, n), make([]float64, n), make([]float64, n)
		ideal, trueIdeal := 0.0, 0.0
		for i := range xs {
			mu[i], s[i] = rng.Float64()*270-7, logUniform(rng, 0.3, 20)
			u := rng.Float64()
			y := math.Round(mu[i] + s[i]*math.Log(u/(1-u)))
			x := int(max(0, min(255, y)))
			xs[i] = uint8(x)
			_, f := NewLogistic(mu[i], s[i], prec).Encode(x)
			ideal += float64(prec) - math.Log2(float64(f))
			lo, hi := 0.0, 1.0
			if x > 0 {
				lo = logisticF(float64(x)-0.5, mu[i], s[i])
			}
			if x < 255 {
				hi = logisticF(float64(x)+0.5, mu[i], s[i])
			}
			trueIdeal -= math.Log2(hi - lo)
		}
		m := NewMessage(L)
		PushPixels(m, xs, mu, s, prec)
		flush := float64(8 + 64*L)
		rateResult{n, ideal, float64(8 * len(m.Bytes())), flush}.check(t, "pixels vs quantized p, prec "+itoa(int(prec)))
		// The quantization to 2^prec costs this much against the exact logistic bin
		// probabilities (informational; it shrinks with the precision).
		t.Logf("prec %d: quantization costs %.4f%% over the exact discretized logistic", prec, 100*(ideal-trueIdeal)/trueIdeal)
		if prec >= 16 && ideal > trueIdeal*1.01 {
			t.Errorf("prec %d: quantized rate %.0f is more than 1%% above the exact %.0f", prec, ideal, trueIdeal)
		}
		if prec == 24 && ideal > trueIdeal*1.001 {
			t.Errorf("prec 24: quantized rate %.0f is more than 0.1%% above the exact %.0f", ideal, trueIdeal)
		}
		out := make([]uint8, n)
		if err := PopPixels(m, out, mu, s, prec); err != nil {
			t.Fatal(err)
		}
		for i := range out {
			if out[i] != xs[i] {
				t.Fatalf("pixel %d: got %d, want %d", i, out[i], xs[i])
			}
		}
		if !m.Equal(NewMessage(L)) {
			t.Fatal("message not empty after popping everything")
		}
	}
}

// Symbols of every probability, precisions up to 31: the coder's own loss is tiny.
func TestRateRandomIntervals(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 1))
	for _, prec := range []uint{8, 20, 24, 31} {
		const L = 4
		n := scaleN(500_000, 10)
		m := NewMessage(L)
		ideal := 0.0
		for i := 0; i < n; i++ {
			s, f := randSym(rng, prec)
			m.Push(i%L, s, f, prec)
			ideal += float64(prec) - math.Log2(float64(f))
		}
		rateResult{n, ideal, float64(8 * len(m.Bytes())), float64(8 + 64*L)}.check(t, "random intervals, prec "+itoa(int(prec)))
		// Info is the content without the flush: the coder's own loss, from the integer
		// division in Push, which grows as 2^prec approaches the head's lower bound 2^31.
		loss := m.Info() - ideal
		t.Logf("prec %d: coder loss before the flush %.1f bits = %.6f bits/symbol", prec, loss, loss/float64(n))
		if loss < -1e-6*ideal || loss > 1e-3*ideal || (prec <= 24 && loss > 1e-5*ideal) {
			t.Errorf("prec %d: Info %.1f vs ideal %.1f", prec, m.Info(), ideal)
		}
	}
}

func TestRateLatents(t *testing.T) {
	const prec, L = 22, 8
	n := scaleN(300_000, 10)
	js, ds := benchLatents(n, prec)
	m := NewMessage(L)
	ideal := 0.0
	for i, d := range ds {
		s, f := d.Encode(js[i])
		m.Push(i%L, s, f, prec)
		ideal += prec - math.Log2(float64(f))
	}
	rateResult{n, ideal, float64(8 * len(m.Bytes())), float64(8 + 64*L)}.check(t, "latents")
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
