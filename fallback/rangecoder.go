package fallback

// A binary arithmetic (range) coder with 32-bit range, carry propagation through a cached
// byte, and 12-bit probabilities, plus adaptive bit models with count-based learning rates.
//
// The encoder never writes the leading byte that a coder of this kind always starts with
// (it is zero), and it ends on the value with the most trailing zero bits inside the final
// interval, then drops up to 4 trailing zero bytes: the decoder reads zeros past the end of
// its input, so those bytes carry no information.

import (
	"math"
	"math/bits"

	"github.com/bitswap-codec/bitswap/internal/dmath"
)

const (
	probBits  = 12
	probOne   = 1 << probBits
	rangeTop  = 1 << 24
	modelBits = 16 // precision of the adaptive model's state
)

type rcEncoder struct {
	low       uint64
	rng       uint32
	cache     byte
	cacheSize int64
	first     bool // the pending cache byte is the always-zero leading byte
	out       []byte
}

func (e *rcEncoder) init(out []byte) {
	*e = rcEncoder{rng: 0xFFFFFFFF, cacheSize: 1, first: true, out: out}
}

func (e *rcEncoder) shiftLow() {
	if uint32(e.low) < 0xFF000000 || e.low>>32 != 0 {
		carry := byte(e.low >> 32)
		temp := e.cache
		for {
			if e.first {
				e.first = false // the leading byte is zero (a carry into it is impossible)
			} else {
				e.out = append(e.out, temp+carry)
			}
			temp = 0xFF
			e.cacheSize--
			if e.cacheSize == 0 {
				break
			}
		}
		e.cache = byte(e.low >> 24)
	}
	e.cacheSize++
	e.low = (e.low & 0x00FFFFFF) << 8
}

// info returns the information the encoder has taken in so far, in 1/256 bits: the bytes
// written or pending, plus the 32 bits of low's window, less log2 of the range still open
// (its integer part from the leading bit, the fraction from the next 8 bits). Differences
// between two calls measure what was coded in between to within about 1/64 bit; integers,
// so the same on every machine.
func (e *rcEncoder) info() int64 {
	l := bits.Len32(e.rng) - 1
	frac := (e.rng << uint(31-l)) >> 23 & 0xFF
	return 256*(8*(int64(len(e.out))+e.cacheSize)+32-int64(l)) - int64(log2Frac[frac])
}

// log2Frac[i] is log2(1 + i/256) in 1/256 units, rounded.
var log2Frac = func() (t [256]uint16) {
	for i := range t {
		t[i] = uint16(math.Round(256 * dmath.Log(1+float64(i)/256) / math.Ln2))
	}
	return
}()

// encode codes bit with probability p0/probOne of a zero, 0 < p0 < probOne.
func (e *rcEncoder) encode(bit int, p0 uint32) {
	bound := (e.rng >> probBits) * p0
	if bit == 0 {
		e.rng = bound
	} else {
		e.low += uint64(bound)
		e.rng -= bound
	}
	for e.rng < rangeTop {
		e.rng <<= 8
		e.shiftLow()
	}
}

// encodeRaw codes the n low bits of v (n <= 16), most significant first, at 1 bit each.
func (e *rcEncoder) encodeRaw(v uint32, n int) {
	for i := n - 1; i >= 0; i-- {
		e.encode(int(v>>uint(i))&1, probOne/2)
	}
}

// finish flushes the coder and returns the output.
func (e *rcEncoder) finish() []byte {
	// Pick the value in [low, low+rng) with the most trailing zero bits.
	hi := e.low + uint64(e.rng) - 1
	for k := 32; k > 0; k-- {
		mask := uint64(1)<<k - 1
		if v := (e.low + mask) &^ mask; v <= hi {
			e.low = v
			break
		}
	}
	for i := 0; i < 5; i++ {
		e.shiftLow()
	}
	// Drop up to 4 trailing zero bytes (no more, so that a decoder of a valid stream never
	// reads more than 4 bytes past its end, which lets it reject overrun garbage early).
	n := len(e.out)
	for i := 0; i < 4 && n > 0 && e.out[n-1] == 0; i++ {
		n--
	}
	return e.out[:n]
}

type rcDecoder struct {
	code, rng uint32
	in        []byte
	pos       int
}

func (d *rcDecoder) next() uint32 {
	if d.pos < len(d.in) {
		b := d.in[d.pos]
		d.pos++
		return uint32(b)
	}
	d.pos++ // count reads past the end, to detect grossly overrun streams
	return 0
}

func (d *rcDecoder) init(in []byte) {
	*d = rcDecoder{rng: 0xFFFFFFFF, in: in}
	for i := 0; i < 4; i++ {
		d.code = d.code<<8 | d.next()
	}
}

func (d *rcDecoder) decode(p0 uint32) int {
	bound := (d.rng >> probBits) * p0
	var bit int
	if d.code < bound {
		d.rng = bound
	} else {
		d.code -= bound
		d.rng -= bound
		bit = 1
	}
	for d.rng < rangeTop {
		d.rng <<= 8
		d.code = d.code<<8 | d.next()
	}
	return bit
}

func (d *rcDecoder) decodeRaw(n int) uint32 {
	var v uint32
	for i := 0; i < n; i++ {
		v = v<<1 | uint32(d.decode(probOne/2))
	}
	return v
}

// bitModel is an adaptive estimate of the probability that a bit is zero. Its learning
// rate starts at 1/2 and falls as 1/(n+2) with the number n of bits seen, down to
// 1/(limit+2), so that it learns fast on small images and is stable on large ones.
type bitModel struct {
	p uint16 // P(0) in units of 2^-16
	n uint16
}

func newBitModel() bitModel { return bitModel{p: 1 << 15} }

// rateTab[n] = 65536/(n+2).
var rateTab = func() (t [256]int32) {
	for n := range t {
		t[n] = int32(65536 / (n + 2))
	}
	return
}()

func (m *bitModel) p12() uint32 {
	p := uint32(m.p) >> (modelBits - probBits)
	if p < 1 {
		return 1
	}
	if p > probOne-1 {
		return probOne - 1
	}
	return p
}

func (m *bitModel) update(bit int, limit uint16) {
	target := int32(65535)
	if bit != 0 {
		target = 0
	}
	p := int32(m.p)
	p += ((target - p) * rateTab[m.n]) >> 16
	m.p = uint16(p)
	if m.n < limit {
		m.n++
	}
}
