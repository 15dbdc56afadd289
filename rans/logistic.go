package rans

import (
	"fmt"
	"math"

	"github.com/bitswap-codec/bitswap/internal/dmath"
)

// PixelLevels is the number of symbols of the pixel distributions (8-bit subpixels).
const PixelLevels = 256

// MinPixelPrec is the smallest precision of the pixel distributions (at 8 bits every level
// has frequency 1: the logistic has no say).
const MinPixelPrec = 8

// pixelW[p] = 2^p - 256 and invPixelW[p] = 1/pixelW[p] (the latter for decode guesses).
var pixelW, invPixelW = func() (w, iw [MaxPrec + 1]float64) {
	for p := MinPixelPrec; p <= MaxPrec; p++ {
		w[p] = float64(uint32(1)<<p - PixelLevels)
		if w[p] > 0 {
			iw[p] = 1 / w[p]
		}
	}
	return
}()

// Logistic is a discretized logistic distribution over the pixel values 0..255 with mean mu
// and scale s in pixel units. Value x owns [x-0.5, x+0.5), the edge bins 0 and 255 are open
// to -Inf and +Inf. The integer CDF at precision p, M = 2^p, is
//
//	C(0) = 0, C(256) = M, C(x) = floor(F(x-0.5)·(M-256)) + x for x = 1..255,
//	F(y) = dmath.SigmoidFast((y-mu)·(1/s)),
//
// so every value has a frequency of at least 1, and C is monotone because dmath.SigmoidFast is.
// A scale that is not positive (or NaN) is a step at mu; NaN parameters give a valid but
// meaningless distribution. It is a small value (four words, kept in registers): make one per
// pixel, no allocation.
type Logistic struct {
	mu, s, invS float64
	prec        uint
}

// NewLogistic returns the discretized logistic (mu, s) at precision prec in
// MinPixelPrec..MaxPrec.
func NewLogistic(mu, s float64, prec uint) Logistic {
	checkDistPrec(prec, MinPixelPrec, "pixel logistic")
	if !(s > 0) {
		return Logistic{mu, 0, math.Inf(1), prec}
	}
	return Logistic{mu, s, 1 / s, prec}
}

// Prec implements Dist.
func (d Logistic) Prec() uint { return d.prec }

// F returns the continuous CDF the quantization uses, F(y) = dmath.SigmoidFast((y-mu)·(1/s)).
func (d Logistic) F(y float64) float64 {
	return dmath.SigmoidFast(float64((y - d.mu) * d.invS))
}

// pixelCDF is C(x) of the logistic, x in 0..256, on scalars (a struct receiver would be
// copied through memory on every call).
func pixelCDF(x int, mu, invS, w float64, prec uint) uint32 {
	if x <= 0 {
		return 0
	}
	if x >= PixelLevels {
		return 1 << prec
	}
	return floorScaled(dmath.SigmoidFast(float64((float64(x)-0.5-mu)*invS)), w) + uint32(x)
}

// pixelCDF2 returns C(x) and C(x+1) for x in 0..255, bit for bit as pixelCDF, with the two
// sigmoids evaluated side by side.
func pixelCDF2(x int, mu, invS, w float64, prec uint) (uint32, uint32) {
	fa, fb := dmath.SigmoidFast2(float64((float64(x)-0.5-mu)*invS), float64((float64(x+1)-0.5-mu)*invS))
	a, b := floorScaled(fa, w)+uint32(x), floorScaled(fb, w)+uint32(x+1)
	if x <= 0 {
		a = 0
	}
	if x >= PixelLevels-1 {
		b = 1 << prec
	}
	return a, b
}

// Encode implements Dist: two CDF evaluations. It panics if x is not in 0..255.
func (d Logistic) Encode(x int) (start, freq uint32) {
	if uint(x) >= PixelLevels {
		panic(fmt.Sprintf("rans: pixel value %d out of range", x))
	}
	a, b := pixelCDF2(x, d.mu, d.invS, pixelW[d.prec], d.prec)
	return a, b - a
}

// Decode implements Dist. The guess inverts the logistic analytically,
// x ≈ mu + s·logit(F) with F ≈ (cf + 0.5 - x)/(M-256) (taking x ≈ mu, the region most cf
// fall in), rounded to a level and clamped to the levels that can hold cf; it is checked
// against C and its neighbour and, if wrong, locate searches on from it, so the result is
// exact whatever the guess.
func (d Logistic) Decode(cf uint32) (int, uint32, uint32) {
	mu, invS, w, prec := d.mu, d.invS, pixelW[d.prec], d.prec
	xm := mu // mu clamped to [0, 255] (NaN: 0)
	if !(xm > 0) {
		xm = 0
	} else if xm > PixelLevels-1 {
		xm = PixelLevels - 1
	}
	p := float64(float64(float64(cf)+0.5-xm) * invPixelW[prec])
	if !(p > 0x1p-60) {
		p = 0x1p-60
	} else if p > 1-0x1p-53 {
		p = 1 - 0x1p-53
	}
	g := clampGuess(roundLevel(mu+float64(d.s*approxLogit(p)), PixelLevels), cf, PixelLevels, uint32(w))
	if c0, c1 := pixelCDF2(g, mu, invS, w, prec); c0 <= cf && cf < c1 {
		return g, c0, c1 - c0
	}
	return locate(func(x int) uint32 { return pixelCDF(x, mu, invS, w, prec) }, cf, g, PixelLevels, uint32(w))
}

// roundLevel returns y rounded to the nearest integer, clamped to 0..n-1 (NaN gives 0).
func roundLevel(y float64, n int) int {
	if !(y > 0) {
		return 0
	}
	if y >= float64(n-1) {
		return n - 1
	}
	return int(y + 0.5)
}

// Mixture is a discretized mixture of K logistics over the pixel values 0..255, with the
// same binning and integer CDF as Logistic but F(y) = min(1, sum_k w_k·Sigmoid((y-mu_k)/s_k))
// (the sum in order k = 0..K-1, F = dmath.SigmoidFast). Weights that are not positive and
// finite count as 0, a scale that is not positive is a step at its mean, and a component CDF
// that is NaN counts as 0, which keeps F monotone whatever the parameters; weights should sum to 1 (a total below 1 moves the missing mass to level 255).
// The Mixture keeps the caller's slices (no copy, no allocation): don't change them while
// it is in use.
type Mixture struct {
	w, mu, s []float64
	dom      int // component with the largest weight
	wM       float64
	iM       float64
	prec     uint
}

// NewMixture returns the mixture at precision prec in MinPixelPrec..MaxPrec. The three
// slices must have the same length K >= 1.
func NewMixture(weights, means, scales []float64, prec uint) Mixture {
	checkDistPrec(prec, MinPixelPrec, "pixel mixture")
	if len(weights) == 0 || len(means) != len(weights) || len(scales) != len(weights) {
		panic("rans: mixture needs equal, non-zero numbers of weights, means and scales")
	}
	M := uint32(1) << prec
	d := Mixture{w: weights, mu: means, s: scales, wM: float64(M - PixelLevels), iM: exp2(-int(prec)), prec: prec}
	for k, w := range weights {
		if usableWeight(w) && !(weights[d.dom] >= w && usableWeight(weights[d.dom])) {
			d.dom = k
		}
	}
	return d
}

// Prec implements Dist.
func (d Mixture) Prec() uint { return d.prec }

// F returns the continuous mixture CDF the quantization uses.
func (d Mixture) F(y float64) float64 {
	return mixtureF(y, d.w, d.mu, d.s)
}

func mixtureF(y float64, ws, mus, ss []float64) float64 {
	f := 0.0
	for k, w := range ws {
		if !usableWeight(w) {
			continue
		}
		f += float64(w * nanToZero(dmath.SigmoidFast(mixtureT(y, mus[k], ss[k]))))
	}
	if f > 1 {
		f = 1
	}
	return f
}

// mixtureT is the standardized argument of a component: (y-mu)/s, or for a scale that is
// not positive a step at mu ((y-mu)·Inf: -Inf below, NaN at mu, which counts as 0, +Inf
// above).
func mixtureT(y, mu, s float64) float64 {
	if s > 0 {
		return (y - mu) / s
	}
	return float64((y - mu) * math.Inf(1))
}

// usableWeight reports whether a mixture weight counts: positive and finite (others count
// as 0, so that every term is finite and the sum never NaN).
func usableWeight(w float64) bool { return w > 0 && w <= math.MaxFloat64 }

// nanToZero maps NaN to 0 (a component CDF of NaN counts as 0, which keeps the sum monotone).
func nanToZero(f float64) float64 {
	if f != f {
		return 0
	}
	return f
}

func (d *Mixture) cdf(x int) uint32 {
	if x <= 0 {
		return 0
	}
	if x >= PixelLevels {
		return 1 << d.prec
	}
	return floorScaled(mixtureF(float64(x)-0.5, d.w, d.mu, d.s), d.wM) + uint32(x)
}

// cdf2 returns cdf(x), cdf(x+1) for x in 0..255, bit for bit, evaluating the components at
// both edges side by side.
func (d *Mixture) cdf2(x int) (uint32, uint32) {
	ya, yb := float64(x)-0.5, float64(x+1)-0.5
	fa, fb := 0.0, 0.0
	for k, w := range d.w {
		if !usableWeight(w) {
			continue
		}
		mu, s := d.mu[k], d.s[k]
		sa, sb := dmath.SigmoidFast2(mixtureT(ya, mu, s), mixtureT(yb, mu, s))
		fa += float64(w * nanToZero(sa))
		fb += float64(w * nanToZero(sb))
	}
	a := floorScaled(fa, d.wM) + uint32(x) // floorScaled clamps a sum above 1
	b := floorScaled(fb, d.wM) + uint32(x+1)
	if x <= 0 {
		a = 0
	}
	if x >= PixelLevels-1 {
		b = 1 << d.prec
	}
	return a, b
}

// Encode implements Dist. It panics if x is not in 0..255.
func (d Mixture) Encode(x int) (start, freq uint32) {
	if uint(x) >= PixelLevels {
		panic(fmt.Sprintf("rans: pixel value %d out of range", x))
	}
	a, b := d.cdf2(x)
	return a, b - a
}

// Decode implements Dist. The guess inverts the dominant component alone,
// mu_k + s_k·logit((cf+0.5)/M); locate then makes it exact.
func (d Mixture) Decode(cf uint32) (int, uint32, uint32) {
	p := float64((float64(cf) + 0.5) * d.iM)
	k := d.dom
	g := 0
	if s := d.s[k]; s > 0 {
		g = roundLevel(d.mu[k]+float64(s*approxLogit(p)), PixelLevels)
	} else {
		g = roundLevel(d.mu[k], PixelLevels)
	}
	g = clampGuess(g, cf, PixelLevels, uint32(d.wM))
	if c0, c1 := d.cdf2(g); c0 <= cf && cf < c1 {
		return g, c0, c1 - c0
	}
	return locate(d.cdf, cf, g, PixelLevels, uint32(d.wM))
}

// PushPixels pushes xs[i] under NewLogistic(mu[i], s[i], prec) onto lane i % L for
// i = 0..n-1. The slices must have the same length.
func PushPixels(m *Message, xs []uint8, mu, s []float64, prec uint) {
	if len(mu) != len(xs) || len(s) != len(xs) {
		panic("rans: PushPixels with slices of different lengths")
	}
	lane, L := 0, len(m.heads)
	for i, x := range xs {
		st, f := NewLogistic(mu[i], s[i], prec).Encode(int(x))
		m.heads[lane] = m.push(m.heads[lane], st, f, prec)
		if lane++; lane == L {
			lane = 0
		}
	}
}

// PopPixels pops len(xs) pixels pushed by PushPixels with the same parameters, writing them
// into xs. On error the message is unchanged (like PopBatch, whose order it follows).
func PopPixels(m *Message, xs []uint8, mu, s []float64, prec uint) error {
	if len(mu) != len(xs) || len(s) != len(xs) {
		panic("rans: PopPixels with slices of different lengths")
	}
	checkDistPrec(prec, MinPixelPrec, "pixel logistic")
	L := len(m.heads)
	var saved [MaxLanes]uint64
	copy(saved[:], m.heads)
	tl := len(m.tail)
	mask := uint64(1)<<prec - 1
	lane := (len(xs) - 1) % L
	for i := len(xs) - 1; i >= 0; i-- {
		h := m.heads[lane]
		x, st, f := NewLogistic(mu[i], s[i], prec).Decode(uint32(h & mask))
		xs[i] = uint8(x)
		h, err := m.pop(h, st, f, prec)
		if err != nil {
			copy(m.heads, saved[:L])
			m.tail = m.tail[:tl]
			return fmt.Errorf("rans: pixel %d: %w", i, err)
		}
		m.heads[lane] = h
		if lane--; lane < 0 {
			lane = L - 1
		}
	}
	return nil
}
