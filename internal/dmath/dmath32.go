package dmath

import "math"

// Exp32 returns e**x in float32 arithmetic, deterministic on every platform (relative error
// below 3e-7 for |x| <= 80). It is the exponential used inside the network (ELU, scales).
//
// x = k*ln2 + r with k = floor(float32(x*log2e) + 0.5) (every step a float32 operation, so
// that SIMD code can compute the same bits: vae/nn's AVX2 ELU does), |r| <= ~0.35, e**r by a
// degree-6 polynomial in float32 with explicit roundings, then exact scaling by 2**k.
func Exp32(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > 88:
		return float32(math.Inf(1))
	case x < -87:
		return 0
	}
	t := float32(x * 1.442695)
	k := float32(math.Floor(float64(t + 0.5)))
	r := float32(x-float32(k*0.693359375)) - float32(k*-2.12194440e-4)
	p := float32(1.0 / 720)
	p = float32(p*r) + 1.0/120
	p = float32(p*r) + 1.0/24
	p = float32(p*r) + 1.0/6
	p = float32(p*r) + 0.5
	p = float32(p*r) + 1
	p = float32(p*r) + 1
	return p * math.Float32frombits(uint32(int32(k)+127)<<23)
}

// Sigmoid32 returns 1/(1+e**-x) in float32, deterministic on every platform.
func Sigmoid32(x float32) float32 {
	if x >= 0 {
		return 1 / (1 + Exp32(-x))
	}
	e := Exp32(x)
	return e / (1 + e)
}
