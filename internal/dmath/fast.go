package dmath

import "math"

// Faster variants for the entropy coder's CDFs (package rans), which evaluate a sigmoid per
// symbol edge and need determinism and monotonicity far more than the last bits of accuracy:
// an absolute CDF error of 1e-10 moves a frequency at 24-bit precision by < 0.002.

// ExpFast returns e**x with a relative error below 3e-11, deterministic on every platform and
// non-decreasing over all float64 like Exp.
//
// Same range reduction and scaling as Exp; e**r on [0, ln2) by the degree-11 Taylor
// polynomial evaluated by Estrin's scheme (shorter dependency chains than Horner). Every
// coefficient is positive and r >= 0, so each partial sum and product is a non-negative,
// non-decreasing function of r and so is the rounded result; p(0) = 1 exactly, and the
// truncation error (~2.6e-11 at r = ln2) keeps p below 2, so the result is also monotone across
// the steps from k to k+1.
func ExpFast(x float64) float64 {
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
	r2 := float64(r * r)
	r4 := float64(r2 * r2)
	r8 := float64(r4 * r4)
	p01 := 1 + r
	p23 := 1.0/2 + float64(r*(1.0/6))
	p45 := 1.0/24 + float64(r*(1.0/120))
	p67 := 1.0/720 + float64(r*(1.0/5040))
	p89 := 1.0/40320 + float64(r*(1.0/362880))
	pab := 1.0/3628800 + float64(r*(1.0/39916800))
	q0 := p01 + float64(r2*p23)
	q1 := p45 + float64(r2*p67)
	q2 := p89 + float64(r2*pab)
	p := float64(q0+float64(r4*q1)) + float64(r8*q2)
	return scale2(p, int(k))
}

// SigmoidFast returns 1/(1+e**-x) with a relative error below 4e-11 (so also an absolute one),
// non-decreasing in x (ExpFast(-x) is non-increasing, and 1+E and 1/(1+E) are monotone
// operations), deterministic, and without branches on the data: for x < -709 ExpFast(-x) is
// +Inf and the result 0, for x > 745 it is 1. NaN gives NaN.
func SigmoidFast(x float64) float64 {
	return 1 / (1 + ExpFast(-x))
}

// SigmoidFast2 returns SigmoidFast(a), SigmoidFast(b), bit for bit, with the two evaluations
// interleaved in one call: the coder needs the CDF at both edges of a symbol, and two
// independent chains side by side keep the CPU busy where two calls would mostly wait.
func SigmoidFast2(a, b float64) (float64, float64) {
	x, y := -a, -b
	// Off the common path (NaN, overflow, underflow): the scalar code.
	if !(x <= expMax && x >= expMin && y <= expMax && y >= expMin) {
		return SigmoidFast(a), SigmoidFast(b)
	}
	kx := math.Floor(float64(x * log2e))
	ky := math.Floor(float64(y * log2e))
	rx := reduce(x, kx)
	ry := reduce(y, ky)
	if rx < 0 || rx >= ln2 || ry < 0 || ry >= ln2 {
		return SigmoidFast(a), SigmoidFast(b)
	}
	rx2, ry2 := float64(rx*rx), float64(ry*ry)
	rx4, ry4 := float64(rx2*rx2), float64(ry2*ry2)
	rx8, ry8 := float64(rx4*rx4), float64(ry4*ry4)
	px01, py01 := 1+rx, 1+ry
	px23, py23 := 1.0/2+float64(rx*(1.0/6)), 1.0/2+float64(ry*(1.0/6))
	px45, py45 := 1.0/24+float64(rx*(1.0/120)), 1.0/24+float64(ry*(1.0/120))
	px67, py67 := 1.0/720+float64(rx*(1.0/5040)), 1.0/720+float64(ry*(1.0/5040))
	px89, py89 := 1.0/40320+float64(rx*(1.0/362880)), 1.0/40320+float64(ry*(1.0/362880))
	pxab, pyab := 1.0/3628800+float64(rx*(1.0/39916800)), 1.0/3628800+float64(ry*(1.0/39916800))
	qx0, qy0 := px01+float64(rx2*px23), py01+float64(ry2*py23)
	qx1, qy1 := px45+float64(rx2*px67), py45+float64(ry2*py67)
	qx2, qy2 := px89+float64(rx2*pxab), py89+float64(ry2*pyab)
	px := float64(qx0+float64(rx4*qx1)) + float64(rx8*qx2)
	py := float64(qy0+float64(ry4*qy1)) + float64(ry8*qy2)
	return 1 / (1 + scale2(px, int(kx))), 1 / (1 + scale2(py, int(ky)))
}
