package nn

import (
	"math"
)

// The integer path: a convolution whose weights were quantized (Conv.SetInteger, SetQuantized) runs its
// forward pass on 16-bit integers. Integer dot products are exact in any order, so the
// kernels may use whatever instructions a CPU has (VPDPWSSD, VPMADDWD, plain Go) and still
// give the same bits, at twice the float32 kernels' multiply-adds per cycle on AVX-512 VNNI.
//
//   - Weights: per output row m, w_q = round(w * 2^we[m]), |w_q| <= 2^14, with we[m] also
//     small enough that every chunk of qChunk pair-steps has sum |w_q| <= qL1Max, so that a
//     chunk's int32 sum cannot overflow whatever the activations.
//   - Activations: per patch b (the input's B index; a patch's 16x16 plane never shares a
//     scale with another patch, so a patch's outputs do not depend on its batch),
//     x_q = round(x * 2^xe[b]) with max |x| < 2^(qActBits-xe[b]), so |x_q| <= 2^qActBits.
//   - Input channels go in pairs (2c, 2c+1) at the same tap: one "pair-step" is the two
//     products that VPDPWSSD adds into one 32-bit lane.
//   - Output: bias, then per chunk of qChunk pair-steps (in order), plus
//     float32(int32 sum) * 2^-(we[m]+xe[b]). The scale is a power of two, so the product is
//     exact and the only roundings are the conversion and the float32 additions, in a fixed
//     order.
const (
	qMR      = 8  // rows of an integer tile (its columns: 32, two 16-pixel rows)
	qChunk   = 32 // pair-steps summed in int32 before they are added to the float32 tile
	qActBits = 14
	qWBits   = 14
	qL1Max   = (1<<31 - 1) >> qActBits // 131071: sum |w_q| * 2^14 < 2^31
)

// qweights are a convolution's weights as 16-bit pairs, packed in panels of qMR rows.
type qweights struct {
	pairs int
	a     []int32 // a[(r*pairs+p)*qMR+i]: low half channel 2c, high half 2c+1
	we    []int   // per row (padded to whole panels)
}

// qround rounds x (|x| < 2^51) to the nearest integer, ties to even: adding and taking away
// 1.5 * 2^52 leaves the float64 addition's own rounding to do it.
func qround(x float64) int32 {
	const magic = 1.5 * (1 << 52)
	return int32(float64(x+magic) - magic)
}

// quantizeWeights quantizes w ([Cout][Cin][KH][KW]) for the integer path.
func quantizeWeights(s ConvShape, w []float32) *qweights {
	taps := s.KH * s.KW
	cp := (s.Cin + 1) / 2
	pairs := cp * taps
	panels := (s.Cout + qMR - 1) / qMR
	q := &qweights{pairs: pairs, a: make([]int32, panels*pairs*qMR), we: make([]int, panels*qMR)}
	K := s.K()
	// wp holds a row's weights in pair-step order, (channel 2c, channel 2c+1) per step.
	wp := make([]float64, 2*pairs)
	row := make([]int32, 2*pairs)
	for m := 0; m < s.Cout; m++ {
		clear(wp)
		for c := 0; c < s.Cin; c++ {
			d := wp[2*(c/2)*taps+c%2:]
			for t, v := range w[m*K+c*taps : m*K+(c+1)*taps] {
				d[2*t] = float64(v)
			}
		}
		// The largest weight and the largest chunk sum of |w| (float64 sums of float32
		// values, in a fixed order: the same on every platform) give e; the exact check on
		// the rounded weights below then rarely has to lower it.
		mx, l1f, chunk := 0.0, 0.0, 0.0
		for j, v := range wp {
			if j%(2*qChunk) == 0 {
				chunk = 0
			}
			a := math.Abs(v) // (finite: the weights file is checked)
			if a > mx {
				mx = a
			}
			chunk += a
			if chunk > l1f {
				l1f = chunk
			}
		}
		e := 0
		if mx > 0 {
			_, E := math.Frexp(mx) // mx < 2^E
			e = qWBits - E
			for math.Ldexp(l1f, e)+qChunk > qL1Max { // rounding adds at most 1/2 per weight
				e--
			}
		}
		for ; ; e-- {
			sc := math.Ldexp(1, e)
			ok := true
			l1 := int64(0)
			for j, v := range wp {
				if j%(2*qChunk) == 0 {
					l1 = 0
				}
				q := qround(v * sc)
				row[j] = q
				if l1 += int64(abs32(q)); l1 > qL1Max {
					ok = false
					break
				}
			}
			if ok {
				break
			}
		}
		r, i := m/qMR, m%qMR
		q.we[m] = e
		for p := 0; p < pairs; p++ {
			q.a[(r*pairs+p)*qMR+i] = int32(uint32(uint16(row[2*p])) | uint32(uint16(row[2*p+1]))<<16)
		}
	}
	return q
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

// qpadded is the zero-bordered, quantized copy of an integer convolution's input:
// [Cin/2 pairs][B][hp][wp] 32-bit words, each the two channels' 16-bit values.
type qpadded struct {
	data   []int32
	offs   []int32 // per pair-step: word offset of its tap in pair plane 0
	xe     []int   // per patch: the activation exponent
	hp, wp int
}

// qquant sets p to the quantized, zero-bordered copy of in for shape s.
func (c *Ctx) qquant(s ConvShape, in *Tensor) *qpadded {
	p := &c.qpad
	ph, pw := s.KH/2, s.KW/2
	p.hp, p.wp = in.H+2*ph, in.W+2*pw
	B := in.B
	plane := p.hp * p.wp
	cp := (s.Cin + 1) / 2
	n := cp*B*plane + 64 // slack: the kernels may read a row past the last one
	if cap(p.data) < n {
		p.data = make([]int32, n)
	}
	p.data = p.data[:n]
	clear(p.data[cp*B*plane:])
	if cap(p.xe) < B {
		p.xe = make([]int, B)
	}
	p.xe = p.xe[:B]
	t := &c.qquantT
	*t = qquantTask{p: p, s: s, in: in, zeros: c.qzeros(in.H * in.W)}
	c.run(B, 1, qexpTask{t})
	c.run(cp*B, 1, t)
	*t = qquantTask{}
	taps := s.KH * s.KW
	if cap(p.offs) < cp*taps {
		p.offs = make([]int32, cp*taps)
	}
	p.offs = p.offs[:cp*taps]
	for pc := 0; pc < cp; pc++ {
		for t := 0; t < taps; t++ {
			p.offs[pc*taps+t] = int32(pc*B*plane + (t/s.KW)*p.wp + t%s.KW)
		}
	}
	return p
}

// qquantTask quantizes an integer convolution's input: qexpTask the patches' exponents,
// then run the (pair, patch) planes [lo, hi) into their zero-bordered places.
type qquantTask struct {
	p     *qpadded
	s     ConvShape
	in    *Tensor
	zeros []float32
}

type qexpTask struct{ *qquantTask }

func (t qexpTask) run(_, lo, hi int) {
	in, hw, N := t.in, t.in.H*t.in.W, t.in.N()
	for b := lo; b < hi; b++ {
		mx := uint32(0)
		for ci := 0; ci < t.s.Cin; ci++ {
			mx = max(mx, qabsmax(in.Data[ci*N+b*hw:ci*N+(b+1)*hw]))
		}
		t.p.xe[b] = qexp(mx, qActBits)
	}
}

func (t *qquantTask) run(_, lo, hi int) {
	p, in, s := t.p, t.in, t.s
	B, hw, N := in.B, in.H*in.W, in.N()
	ph, pw := s.KH/2, s.KW/2
	plane := p.hp * p.wp
	for j := lo; j < hi; j++ {
		pc, b := j/B, j%B
		dst := p.data[j*plane : (j+1)*plane]
		clear(dst[:ph*p.wp+pw])
		for y := 0; y < in.H; y++ {
			clear(dst[(ph+y)*p.wp+pw+in.W : (ph+y+1)*p.wp+pw])
		}
		clear(dst[(ph+in.H-1)*p.wp+pw+in.W:])
		c0, c1 := 2*pc, 2*pc+1
		src0, src1 := in.Data[c0*N+b*hw:c0*N+(b+1)*hw], t.zeros
		if c1 < s.Cin {
			src1 = in.Data[c1*N+b*hw : c1*N+(b+1)*hw]
		}
		qpack(src0, src1, dst[ph*p.wp+pw:], in.H, p.wp, float32(math.Ldexp(1, p.xe[b])))
	}
}

// qexp returns the exponent e that brings a largest magnitude of float32 bits mx below
// 2^bits: mx < 2^(bits-e). Zero, infinite and NaN magnitudes give 0.
func qexp(mx uint32, bits int) int {
	if mx == 0 || mx >= 0x7f800000 {
		return 0
	}
	_, E := math.Frexp(float64(math.Float32frombits(mx)))
	return bits - E
}

// qsat is the activations' rounding: x*scale (float32) to the nearest integer, ties to even,
// clamped to +-2^qActBits, with NaN and values out of the int32 range going to -2^qActBits
// (VCVTPS2DQ's "integer indefinite", then the clamp).
func qsat(x, scale float32) int32 {
	const lim = 1 << qActBits
	v := float32(x * scale) // (the conversion keeps it from fusing with anything)
	i := int32(math.MinInt32)
	if v >= -(1<<31) && v < 1<<31 {
		i = qround(float64(v))
	}
	return min(max(i, -lim), lim)
}

// qabsmaxGo returns the largest |x[i]| as float32 bits (NaN above +Inf).
func qabsmaxGo(x []float32) uint32 {
	m := uint32(0)
	for _, v := range x {
		m = max(m, math.Float32bits(v)&0x7fffffff)
	}
	return m
}

// qpackGo quantizes rows of 16 values of x0 and x1 (qsat) into the words
// (q0 & 0xffff) | q1<<16 of dst, rows stride words apart.
func qpackGo(x0, x1 []float32, dst []int32, rows, stride int, scale float32) {
	for y := 0; y < rows; y++ {
		d := dst[y*stride : y*stride+16]
		for j := range d {
			lo, hi := qsat(x0[y*16+j], scale), qsat(x1[y*16+j], scale)
			d[j] = int32(uint32(uint16(lo)) | uint32(uint16(hi))<<16)
		}
	}
}

// qindFn computes a qMR x 32 tile: c[i*ldc+j] += sum over chunks of
// float32(int32 dot) * sc[i], B row p of the segment at base0 (j < 16) or base1 (j >= 16)
// being the 16 words at src[base+offs[p]:].
type qindFn func(pairs int, a, src []int32, base0, base1 int, offs []int32, sc, c []float32, ldc int)

// qindGo is the portable integer kernel, the reference of the others.
func qindGo(pairs int, a, src []int32, base0, base1 int, offs []int32, sc, c []float32, ldc int) {
	var acc [qMR][32]int32
	for p0 := 0; p0 < pairs; p0 += qChunk {
		acc = [qMR][32]int32{}
		for p := p0; p < min(pairs, p0+qChunk); p++ {
			o := int(offs[p])
			x0 := (*[16]int32)(src[base0+o:])
			x1 := (*[16]int32)(src[base1+o:])
			for i, wv := range (*[qMR]int32)(a[p*qMR:]) {
				lo, hi := int32(int16(wv)), wv>>16
				r := &acc[i]
				for j, x := range x0 {
					r[j] += lo*int32(int16(x)) + hi*(x>>16)
				}
				for j, x := range x1 {
					r[16+j] += lo*int32(int16(x)) + hi*(x>>16)
				}
			}
		}
		for i := range acc {
			row := c[i*ldc : i*ldc+32]
			for j, v := range acc[i] {
				row[j] += float32(float32(v) * sc[i])
			}
		}
	}
}

// qconvForward computes out = bias + conv(in, w) on the integer path (16-pixel rows).
func qconvForward(ctx *Ctx, s ConvShape, in *Tensor, q *qweights, bias []float32, out *Tensor) {
	s.check(in, out)
	ctx.fillBias(out, bias)
	ctx.grow()
	t2 := &ctx.qconvT
	*t2 = qconvTask{ctx: ctx, s: s, in: in, q: q, out: out, p: ctx.qquant(s, in), f: ctx.qkernel()}
	ctx.run(in.N()/32, 1, t2)
	*t2 = qconvTask{}
}

// qconvTask computes the 32-column panels [lo, hi) of an integer convolution.
type qconvTask struct {
	ctx *Ctx
	s   ConvShape
	in  *Tensor
	q   *qweights
	out *Tensor
	p   *qpadded
	f   qindFn
}

func (t *qconvTask) run(wk, lo, hi int) {
	s, q, p, f := t.s, t.q, t.p, t.f
	N, H := t.in.N(), t.in.H
	panels := (s.Cout + qMR - 1) / qMR
	buf := t.ctx.buf(wk, slotTmp, qMR*32+qMR) // (arrays on the stack would escape through f)
	tmp, sc := buf[:qMR*32], buf[qMR*32:]
	for cpn := lo; cpn < hi; cpn++ {
		n0 := cpn * 32
		row := n0 / 16
		b, y := row/H, row%H
		base0 := (b*p.hp + y) * p.wp
		base1 := base0 + p.wp
		for r := 0; r < panels; r++ {
			rows := min(qMR, s.Cout-r*qMR)
			for i := range sc {
				sc[i] = 0
				if i < rows {
					sc[i] = float32(math.Ldexp(1, -(q.we[r*qMR+i] + p.xe[b])))
				}
			}
			a := q.a[r*q.pairs*qMR : (r+1)*q.pairs*qMR]
			c := t.out.Data[r*qMR*N+n0:]
			if rows == qMR {
				f(q.pairs, a, p.data, base0, base1, p.offs, sc, c, N)
				continue
			}
			for i := 0; i < rows; i++ {
				copy(tmp[i*32:(i+1)*32], c[i*N:i*N+32])
			}
			f(q.pairs, a, p.data, base0, base1, p.offs, sc, tmp, 32)
			for i := 0; i < rows; i++ {
				copy(c[i*N:i*N+32], tmp[i*32:(i+1)*32])
			}
		}
	}
}

// qOK reports whether the integer path can take the input in: 16-pixel rows, an even
// number of them per patch (a 32-column panel is two rows of one patch).
func qOK(in *Tensor) bool { return in.W == 16 && in.H%2 == 0 }
