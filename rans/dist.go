package rans

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/bitswap-codec/bitswap/internal/dmath"
)

// Dist is a discrete distribution over symbols 0..n-1 with integer frequencies that sum to
// 2^Prec(), every one of them at least 1: Uniform, *Categorical, Logistic, Mixture and Latent.
// All are pure functions of their parameters: the same parameters give the same
// (start, freq) on every platform. The set is closed (an unexported method), which lets
// PushSym and PopSym dispatch without an interface call, so that passing a distribution
// value to them does not allocate; code with its own distributions uses Push, Peek and Pop.
type Dist interface {
	// Prec returns the precision: frequencies sum to 2^Prec().
	Prec() uint
	// Encode returns the interval [start, start+freq) of sym. It panics on a symbol out of
	// range.
	Encode(sym int) (start, freq uint32)
	// Decode returns the symbol whose interval holds cf, cf < 2^Prec(), and its interval.
	Decode(cf uint32) (sym int, start, freq uint32)

	dist()
}

func (Uniform) dist()      {}
func (*Categorical) dist() {}
func (Logistic) dist()     {}
func (Mixture) dist()      {}
func (Latent) dist()       {}

// encodeSym and decodeSym dispatch on the concrete type with static calls: an interface
// method call would make the argument escape, and every Latent or Logistic passed to
// PushSym/PopSym would be copied to the heap.
func encodeSym(d Dist, sym int) (start, freq uint32, prec uint) {
	switch d := d.(type) {
	case Logistic:
		start, freq = d.Encode(sym)
		return start, freq, d.prec
	case Latent:
		start, freq = d.Encode(sym)
		return start, freq, d.prec
	case Mixture:
		start, freq = d.Encode(sym)
		return start, freq, d.prec
	case Uniform:
		start, freq = d.Encode(sym)
		return start, freq, d.prec
	case *Categorical:
		start, freq = d.Encode(sym)
		return start, freq, d.prec
	}
	panic("rans: nil Dist")
}

func decodeSym(d Dist, m *Message, lane int) (sym int, start, freq uint32, prec uint) {
	switch d := d.(type) {
	case Logistic:
		sym, start, freq = d.Decode(m.Peek(lane, d.prec))
		return sym, start, freq, d.prec
	case Latent:
		sym, start, freq = d.Decode(m.Peek(lane, d.prec))
		return sym, start, freq, d.prec
	case Mixture:
		sym, start, freq = d.Decode(m.Peek(lane, d.prec))
		return sym, start, freq, d.prec
	case Uniform:
		sym, start, freq = d.Decode(m.Peek(lane, d.prec))
		return sym, start, freq, d.prec
	case *Categorical:
		sym, start, freq = d.Decode(m.Peek(lane, d.prec))
		return sym, start, freq, d.prec
	}
	panic("rans: nil Dist")
}

// PushSym pushes sym under d onto the lane. It does not allocate.
func (m *Message) PushSym(lane int, d Dist, sym int) {
	s, f, p := encodeSym(d, sym)
	m.Push(lane, s, f, p)
}

// PopSym pops a symbol under d from the lane (the inverse of PushSym). On error the message
// is unchanged. It does not allocate.
func (m *Message) PopSym(lane int, d Dist) (int, error) {
	sym, s, f, p := decodeSym(d, m, lane)
	return sym, m.Pop(lane, s, f, p)
}

func checkDistPrec(prec, min uint, what string) {
	if prec < min || prec > MaxPrec {
		panic(fmt.Sprintf("rans: %s at precision %d, want %d..%d", what, prec, min, MaxPrec))
	}
}

// Uniform is the uniform distribution over 0..n-1 at a precision: C(x) = floor(x·2^prec/n).
type Uniform struct {
	n    uint64
	prec uint
}

// NewUniform returns the uniform distribution over n symbols, 1 <= n <= 2^prec,
// prec <= MaxPrec. Frequencies are floor(2^prec/n) or one more.
func NewUniform(n int, prec uint) Uniform {
	checkDistPrec(prec, 0, "uniform")
	if n < 1 || uint64(n) > 1<<prec {
		panic(fmt.Sprintf("rans: uniform over %d symbols at precision %d", n, prec))
	}
	return Uniform{uint64(n), prec}
}

// Prec implements Dist.
func (u Uniform) Prec() uint { return u.prec }

// Encode implements Dist.
func (u Uniform) Encode(x int) (start, freq uint32) {
	if uint64(x) >= u.n {
		panic(fmt.Sprintf("rans: symbol %d out of range 0..%d", x, u.n-1))
	}
	a := uint64(x) << u.prec / u.n
	b := uint64(x+1) << u.prec / u.n
	return uint32(a), uint32(b - a)
}

// Decode implements Dist: x = floor(((cf+1)·n - 1) / 2^prec), the largest x with
// floor(x·2^prec/n) <= cf.
func (u Uniform) Decode(cf uint32) (int, uint32, uint32) {
	x := int(((uint64(cf)+1)*u.n - 1) >> u.prec)
	s, f := u.Encode(x)
	return x, s, f
}

// Categorical is a distribution over 0..K-1 given by integer counts, quantized to a
// precision as C(i) = floor(cum_i·(2^prec - K)/T) + i, where cum_i is the sum of the first i
// counts and T their total: every symbol gets at least 1, counts of 0 included, and the
// rest of the mass is shared in proportion to the counts.
type Categorical struct {
	cdf  []uint32 // K+1 entries, cdf[0] = 0, cdf[K] = 2^prec
	prec uint
}

// NewCategorical builds the distribution. It needs 1 <= K <= 2^prec and prec <= MaxPrec;
// counts that are all zero give the uniform-like C(i) = floor(i·2^prec/K).
func NewCategorical(counts []uint64, prec uint) (*Categorical, error) {
	K := len(counts)
	if prec > MaxPrec {
		return nil, fmt.Errorf("rans: categorical at precision %d > %d", prec, MaxPrec)
	}
	if K < 1 || uint64(K) > 1<<prec {
		return nil, fmt.Errorf("rans: categorical over %d symbols at precision %d", K, prec)
	}
	var total uint64
	for _, c := range counts {
		var carry uint64
		total, carry = bits.Add64(total, c, 0)
		if carry != 0 {
			return nil, errors.New("rans: categorical counts overflow 64 bits")
		}
	}
	M := uint64(1) << prec
	d := &Categorical{cdf: make([]uint32, K+1), prec: prec}
	if total == 0 {
		for i := range d.cdf {
			d.cdf[i] = uint32(uint64(i) * M / uint64(K))
		}
		return d, nil
	}
	W := M - uint64(K)
	var cum uint64
	for i, c := range counts {
		hi, lo := bits.Mul64(cum, W)
		q, _ := bits.Div64(hi, lo, total) // cum <= total, so hi < total: no overflow
		d.cdf[i] = uint32(q) + uint32(i)
		cum += c
	}
	d.cdf[K] = uint32(M)
	return d, nil
}

// Prec implements Dist.
func (d *Categorical) Prec() uint { return d.prec }

// Len returns the number of symbols.
func (d *Categorical) Len() int { return len(d.cdf) - 1 }

// Encode implements Dist.
func (d *Categorical) Encode(i int) (start, freq uint32) {
	return d.cdf[i], d.cdf[i+1] - d.cdf[i]
}

// Decode implements Dist (binary search in the CDF table).
func (d *Categorical) Decode(cf uint32) (int, uint32, uint32) {
	lo, hi := 0, len(d.cdf)-2 // answer in [lo, hi]
	for lo < hi {
		mid := int(uint(lo+hi+1) >> 1)
		if d.cdf[mid] <= cf {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo, d.cdf[lo], d.cdf[lo+1] - d.cdf[lo]
}

// locate returns the x in 0..n-1 with C(x) <= cf < C(x+1), and C(x), C(x+1)-C(x), searching
// from the guess g. C(x) = floor(F(x)·W) + x with W = 2^prec - n lies in [x, x + W], so
// the answer lies in [max(0, cf-W), min(n-1, cf)]; the guess is clamped into that bracket
// (which alone finds the symbol in the far tails, where C(x) = x or x + W), checked with its
// neighbour, and if wrong the search gallops away from it and bisects. The result is exact
// whatever the guess; a good guess only makes it fast. The Decode methods check their guess
// themselves first and call locate only when it was wrong.
func locate(cdf func(int) uint32, cf uint32, g, n int, W uint32) (int, uint32, uint32) {
	// Invariant: the answer is in [lo, hi]; cLo = C(lo) and cHi = C(hi+1) when known (ok*).
	lo, hi := 0, n-1
	if cf > W {
		lo = int(cf - W)
	}
	if int64(cf) < int64(hi) {
		hi = int(cf)
	}
	var cLo, cHi uint32
	okLo, okHi := false, false
	g = min(max(g, lo), hi)
	if c0 := cdf(g); c0 <= cf {
		lo, cLo, okLo = g, c0, true
		for step := 1; ; step <<= 1 { // gallop up: probe C(g+step) > cf?
			p := g + step
			if p > hi+1 {
				break
			}
			if c := cdf(p); c > cf {
				hi, cHi, okHi = p-1, c, true
				break
			} else {
				lo, cLo = p, c
			}
		}
	} else {
		hi, cHi, okHi = g-1, c0, true
		for step := 1; ; step <<= 1 { // gallop down: probe C(g-step) <= cf?
			p := g - step
			if p < lo {
				break
			}
			if c := cdf(p); c <= cf {
				lo, cLo, okLo = p, c, true
				break
			} else {
				hi, cHi = p-1, c
			}
		}
	}
	for lo < hi {
		mid := int(uint(lo+hi+1) >> 1)
		if c := cdf(mid); c <= cf {
			lo, cLo, okLo = mid, c, true
		} else {
			hi, cHi, okHi = mid-1, c, true
		}
	}
	if !okLo {
		cLo = cdf(lo)
	}
	if !okHi {
		cHi = cdf(lo + 1)
	}
	return lo, cLo, cHi - cLo
}

// floorScaled returns floor(f·w) for a CDF value f, treating NaN and f < 0 as 0 and f > 1
// as 1, so that the result is in [0, w] and non-decreasing in f. w < 2^31.
func floorScaled(f, w float64) uint32 {
	if !(f > 0) {
		return 0
	}
	if f >= 1 {
		return uint32(w)
	}
	return uint32(f * w) // truncation = floor for non-negative values
}

// clampGuess clamps a guess g for the symbol holding cf into [max(0, cf-W), min(n-1, cf)],
// the symbols that can hold cf (see locate).
func clampGuess(g int, cf uint32, n int, W uint32) int {
	if cf > W && g < int(cf-W) {
		g = int(cf - W)
	}
	if int64(g) > int64(cf) {
		g = int(cf)
	}
	return g
}

// approxLogit returns log(p/(1-p)) for p in (0, 1) to about 4e-6: cheap, for the initial
// guesses of the Decode searches only. Decoded symbols do not depend on it (the guess is
// checked against the CDF), but it is deterministic anyway.
func approxLogit(p float64) float64 {
	return approxLog(p) - approxLog(1-p) // two independent chains; 1-p is exact for p >= 1/2
}

// logTable[i] = log(1 + i/256), i = 0..256, for approxLog.
var logTable = func() (t [257]float64) {
	for i := range t {
		t[i] = dmath.Log(1 + float64(i)/256)
	}
	return
}()

// approxLog returns the natural logarithm of a positive normal x to about 2e-6, without a
// division or a branch: x = (1 + i/256 + f/256)·2^e, log by linear interpolation in logTable.
func approxLog(x float64) float64 {
	b := math.Float64bits(x)
	e := float64(int(b>>52&0x7ff) - 1023)
	i := b >> 44 & 255
	f := float64(float64(b&(1<<44-1)) * (1.0 / (1 << 44)))
	lo := logTable[i]
	return float64(e*math.Ln2) + float64(lo+float64(f*(logTable[i+1]-lo)))
}

// exp2 returns 2^k exactly for -1022 <= k <= 1023.
func exp2(k int) float64 { return math.Float64frombits(uint64(1023+k) << 52) }
