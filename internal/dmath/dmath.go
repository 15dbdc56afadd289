// Package dmath holds the few transcendental functions that bits-back coding needs, written so
// that they give the same bits on every platform, compiler setting and CPU.
//
// Bits-back decoding recomputes the encoder's probability distributions, so every float the
// coder depends on must be reproduced exactly. The standard library does not promise that:
// math.Exp and math.Log have architecture-specific assembly, and the Go compiler may fuse
// x*y+z into one FMA instruction (GOAMD64=v3, arm64, ...), which rounds once instead of twice.
// The functions here use only correctly rounded IEEE-754 operations (+, -, *, /), exact
// operations (floor, scaling by powers of two) and explicit float64(...) / float32(...)
// conversions around every product that is added to something, which the Go spec says
// prevents fusion.
//
// Exp and Sigmoid are also monotone by construction (see Exp), which keeps integer CDFs built
// from them monotone: a symbol can never get zero frequency through a rounding wobble.
package dmath

import "math"

const (
	ln2Hi  = 6.93147180369123816490e-01 // high bits of ln 2 (Cody-Waite split)
	ln2Lo  = 1.90821492927058770002e-10 // ln 2 - ln2Hi
	log2e  = 1.44269504088896338700e+00
	expMax = 709.0  // above: +Inf
	expMin = -745.0 // below: 0
	ln2    = 0.6931471805599453
	sqrt2  = 1.4142135623730951
)

// Taylor coefficients 1/n! for n = 17 down to 2: all positive, which makes the Horner
// evaluation monotone in r >= 0. Truncation error on [0, ln2): ln2**18/18! < 1e-18.
var expPoly = [...]float64{1.0 / 355687428096000, 1.0 / 20922789888000, 1.0 / 1307674368000, 1.0 / 87178291200, 1.0 / 6227020800, 1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880, 1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 1.0 / 2}

// Exp returns e**x with a relative error below 1e-15.
//
// x = k*ln2 + r with k = floor(x/ln2) adjusted so that 0 <= r < ln2, e**r by a degree-17
// Taylor polynomial (positive coefficients: monotone in r; truncation makes it stay below 2 at
// r -> ln2, so it is also monotone across the step from k to k+1), and the exact scaling by
// 2**k. Hence Exp is non-decreasing over all of float64.
func Exp(x float64) float64 {
	switch {
	case x != x:
		return x
	case x > expMax:
		return math.Inf(1)
	case x < expMin:
		return 0
	}
	k := math.Floor(float64(x * log2e))
	r := reduce(x, k)
	if r < 0 {
		k--
		r = reduce(x, k)
	} else if r >= ln2 {
		k++
		r = reduce(x, k)
	}
	p := expPoly[0]
	for _, c := range expPoly[1:] {
		p = float64(p*r) + c
	}
	p = float64(p*r) + 1
	p = float64(p*r) + 1
	return scale2(p, int(k))
}

func reduce(x, k float64) float64 {
	return float64(x-float64(k*ln2Hi)) - float64(k*ln2Lo)
}

// scale2 returns p * 2**k exactly for results in the normal range (p in [1, 2)).
func scale2(p float64, k int) float64 {
	if k > 1023 {
		return math.Inf(1)
	}
	if k < -1022 {
		// Two steps keep the value exact until the final (monotone) rounding to subnormal.
		return float64(p*math.Float64frombits(uint64(1023-1022)<<52)) * math.Float64frombits(uint64(1023+k+1022)<<52)
	}
	return p * math.Float64frombits(uint64(1023+k)<<52)
}

// Log returns the natural logarithm of x with an absolute error below 1e-14 for x near 1 and a
// relative error below 1e-14 elsewhere. Log(0) = -Inf, Log(x<0) = NaN.
func Log(x float64) float64 {
	switch {
	case x != x || x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	case math.IsInf(x, 1):
		return x
	}
	m, e := math.Frexp(x) // exact: x = m * 2**e, m in [0.5, 1)
	if m < sqrt2/2 {
		m *= 2
		e--
	}
	f := m - 1 // exact (Sterbenz)
	s := f / (2 + f)
	s2 := float64(s * s)
	// log(m) = 2*atanh(s) = 2s(1 + s2/3 + s2^2/5 + ...), |s| <= 0.1716, s2 <= 0.0295.
	p := 1.0 / 19
	for _, c := range [...]float64{1.0 / 17, 1.0 / 15, 1.0 / 13, 1.0 / 11, 1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3, 1} {
		p = float64(p*s2) + c
	}
	lm := float64(float64(2*s) * p)
	fe := float64(e)
	return float64(fe*ln2Hi) + float64(lm+float64(fe*ln2Lo))
}

// Sigmoid returns 1/(1+e**-x). It is non-decreasing in x (each step is a monotone operation
// on a monotone input), with an absolute error below 2e-15; it is meant for CDFs, where
// absolute accuracy is what counts.
func Sigmoid(x float64) float64 {
	if x != x {
		return x
	}
	if x >= 0 {
		return 1 / (1 + Exp(-x))
	}
	return 1 - 1/(1+Exp(x))
}

// Logit returns log(p/(1-p)), the inverse of Sigmoid, for p in [0, 1].
func Logit(p float64) float64 {
	switch {
	case p != p || p < 0 || p > 1:
		return math.NaN()
	case p == 0:
		return math.Inf(-1)
	case p == 1:
		return math.Inf(1)
	}
	if p <= 0.5 {
		return Log(p / (1 - p))
	}
	return -Log((1 - p) / p)
}

// Softplus returns log(1+e**x).
func Softplus(x float64) float64 {
	if x > 36 {
		return x
	}
	if x < -36 {
		return Exp(x)
	}
	return Log1pExp(x)
}

// Log1pExp returns log(1 + e**x) for moderate x (|x| <= 36) without overflow.
func Log1pExp(x float64) float64 {
	if x > 0 {
		return x + log1p(Exp(-x))
	}
	return log1p(Exp(x))
}

// log1p returns log(1+y) for y in [0, 1], accurate also for tiny y.
func log1p(y float64) float64 {
	u := 1 + y
	if u == 1 {
		return y
	}
	// Correct for the rounding of 1+y (classic trick, exact operations only).
	return Log(u) * (y / (u - 1))
}
