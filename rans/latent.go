package rans

import (
	"fmt"
	"math"
	"sync"

	"github.com/bitswap-codec/bitswap/internal/dmath"
)

// MaxLatentBits is the largest k for latent bins (B = 2^k bins).
const MaxLatentBits = 16

// Bins is the set of B = 2^k bins of a latent variable that have equal mass under a reference
// logistic (m0, s0): bin j is [e_j, e_{j+1}) with e_j = m0 + s0·logit(j/B), e_0 = -Inf,
// e_B = +Inf. Only the standard table logit(j/B) depends on k; it is computed once per k
// with dmath.Logit and shared read-only (safe for concurrent use).
type Bins struct {
	k      uint
	n      int
	edge   []float64 // logit(j/B), j = 0..B (edge[0] = -Inf, edge[B] = +Inf)
	centre []float64 // logit((j+0.5)/B), j = 0..B-1
}

var binTables [MaxLatentBits + 1]struct {
	once sync.Once
	b    *Bins
}

// LatentBins returns the shared table for B = 2^k bins, 1 <= k <= MaxLatentBits.
func LatentBins(k uint) *Bins {
	if k < 1 || k > MaxLatentBits {
		panic(fmt.Sprintf("rans: %d latent bits, want 1..%d", k, MaxLatentBits))
	}
	t := &binTables[k]
	t.once.Do(func() {
		n := 1 << k
		b := &Bins{k: k, n: n, edge: make([]float64, n+1), centre: make([]float64, n)}
		for j := 0; j <= n; j++ {
			b.edge[j] = dmath.Logit(float64(j) / float64(n)) // j/B and (j+0.5)/B are exact
		}
		for j := 0; j < n; j++ {
			b.centre[j] = dmath.Logit((float64(j) + 0.5) / float64(n))
		}
		t.b = b
	})
	return t.b
}

// Bits returns k; Len returns B = 2^k.
func (b *Bins) Bits() uint { return b.k }

// Len returns the number of bins B.
func (b *Bins) Len() int { return b.n }

// Centre returns the value that stands for bin j under the reference (m0, s0):
// m0 + s0·logit((j+0.5)/B), the median of the bin under the reference.
func (b *Bins) Centre(j int, m0, s0 float64) float64 {
	return m0 + float64(s0*b.centre[j])
}

// Edge returns e_j = m0 + s0·logit(j/B) for j = 0..B (±Inf at the ends).
func (b *Bins) Edge(j int, m0, s0 float64) float64 {
	if j <= 0 {
		return math.Inf(-1)
	}
	if j >= b.n {
		return math.Inf(1)
	}
	return m0 + float64(s0*b.edge[j])
}

// Bin returns the bin that holds the value z under the reference (m0, s0), by the closed-form
// quantile map floor(B·Sigmoid((z-m0)/s0)). It can be off by one next to an edge (rounding);
// the coder never relies on it (Decode checks its guess against the CDF).
func (b *Bins) Bin(z, m0, s0 float64) int {
	u := dmath.SigmoidFast((z - m0) / s0)
	j := float64(u * float64(b.n))
	if !(j > 0) {
		return 0
	}
	if j >= float64(b.n-1) {
		return b.n - 1
	}
	return int(j)
}

// Latent is a logistic (mu, s) discretized into the bins b under the reference (m0, s0):
// P(bin j) = F(e_{j+1}) - F(e_j) with F the CDF of the logistic (mu, s). At precision p,
// M = 2^p, the integer CDF is
//
//	C(0) = 0, C(B) = M, C(j) = floor(F(e_j)·(M-B)) + j for j = 1..B-1,
//	F(e) = dmath.SigmoidFast((e-mu)·(1/s)), e_j = m0 + float64(s0·logit(j/B)),
//
// so every bin has a frequency of at least 1. A posterior narrower than a bin or wider than
// all of them is fine. A scale s that is not positive is a step at mu; a reference that is
// not usable (s0 not positive and finite, m0 not finite) is replaced by (0, 1) so that the
// edges stay increasing. It is a small value: make one per latent, no allocation.
type Latent struct {
	b           *Bins
	mu, s, invS float64
	m0, s0, is0 float64
	w           float64 // M - B
	iM          float64
	prec        uint
}

// Latent returns the distribution of a latent with posterior or prior (mu, s) over the bins
// under the reference (m0, s0), at precision prec in k..MaxPrec.
func (b *Bins) Latent(mu, s, m0, s0 float64, prec uint) Latent {
	checkDistPrec(prec, b.k, "latent")
	if !(s0 > 0) || math.IsInf(s0, 1) || math.IsNaN(m0) || math.IsInf(m0, 0) {
		m0, s0 = 0, 1
	}
	M := uint32(1) << prec
	d := Latent{b: b, mu: mu, s: s, invS: 1 / s, m0: m0, s0: s0, is0: 1 / s0,
		w: float64(M - uint32(b.n)), iM: exp2(-int(prec)), prec: prec}
	if !(s > 0) {
		d.s, d.invS = 0, math.Inf(1)
	}
	return d
}

// Prec implements Dist.
func (d Latent) Prec() uint { return d.prec }

// Bins returns the bins the latent is coded in.
func (d Latent) Bins() *Bins { return d.b }

// F returns the CDF of the logistic (mu, s) at e, as the quantization uses it:
// dmath.SigmoidFast((e-mu)·(1/s)).
func (d Latent) F(e float64) float64 {
	return dmath.SigmoidFast(float64((e - d.mu) * d.invS))
}

// latentCDF is C(j) on scalars (a struct receiver would be copied through memory).
func latentCDF(j int, edge []float64, m0, s0, mu, invS, w float64, prec uint) uint32 {
	n := len(edge) - 1
	if j <= 0 {
		return 0
	}
	if j >= n {
		return 1 << prec
	}
	e := m0 + float64(s0*edge[j])
	return floorScaled(dmath.SigmoidFast(float64((e-mu)*invS)), w) + uint32(j)
}

// latentCDF2 returns C(j), C(j+1) for j in 0..B-1, bit for bit as latentCDF, with the two
// sigmoids evaluated side by side.
func latentCDF2(j int, edge []float64, m0, s0, mu, invS, w float64, prec uint) (uint32, uint32) {
	n := len(edge) - 1
	ea, eb := m0+float64(s0*edge[j]), m0+float64(s0*edge[j+1])
	fa, fb := dmath.SigmoidFast2(float64((ea-mu)*invS), float64((eb-mu)*invS))
	a, b := floorScaled(fa, w)+uint32(j), floorScaled(fb, w)+uint32(j+1)
	if j <= 0 {
		a = 0
	}
	if j >= n-1 {
		b = 1 << prec
	}
	return a, b
}

// Encode implements Dist: two CDF evaluations. It panics if j is not in 0..B-1.
func (d Latent) Encode(j int) (start, freq uint32) {
	if uint(j) >= uint(d.b.n) {
		panic(fmt.Sprintf("rans: latent bin %d out of range 0..%d", j, d.b.n-1))
	}
	a, c := latentCDF2(j, d.b.edge, d.m0, d.s0, d.mu, d.invS, d.w, d.prec)
	return a, c - a
}

// Decode implements Dist: z = mu + s·logit((cf+0.5)/M), then the bin of z by the quantile
// map floor(B·Sigmoid((z-m0)/s0)), clamped to the bins that can hold cf; the guess is
// checked against C and its neighbour and, if wrong, locate searches on from it, so the
// result is exact.
func (d Latent) Decode(cf uint32) (int, uint32, uint32) {
	n := d.b.n
	p := float64((float64(cf) + 0.5) * d.iM)
	z := d.mu + float64(d.s*approxLogit(p))
	u := dmath.SigmoidFast(float64((z - d.m0) * d.is0))
	g := 0
	if j := float64(u * float64(n)); j > 0 {
		g = int(min(j, float64(n-1)))
	}
	g = clampGuess(g, cf, n, uint32(d.w))
	e, m0, s0, mu, invS, w, prec := d.b.edge, d.m0, d.s0, d.mu, d.invS, d.w, d.prec
	if c0, c1 := latentCDF2(g, e, m0, s0, mu, invS, w, prec); c0 <= cf && cf < c1 {
		return g, c0, c1 - c0
	}
	return locate(func(j int) uint32 { return latentCDF(j, e, m0, s0, mu, invS, w, prec) }, cf, g, n, uint32(w))
}

// Centre returns the value that stands for bin j (see Bins.Centre) under this latent's
// reference.
func (d Latent) Centre(j int) float64 { return d.b.Centre(j, d.m0, d.s0) }
