package fallback

import "math/bits"

// Tunables of the model. Changing any of them changes the format.
const (
	nOwn      = 6 // predictors from the plane's own neighbors
	nPerRef   = 2 // predictors per reference plane
	maxRefs   = 2 // reference planes at most (B looks at G and R)
	maxSub    = nOwn + nPerRef*maxRefs
	nA        = 40 // error-level buckets
	maxExp    = 17 // magnitude exponents 0..16
	nAct      = 12 // error-level classes of the bias contexts
	nBias     = nAct * 16 * 3
	biasLimit = 64 // bias statistics are halved at this count
	rateLimit = 60 // bit models adapt no slower than 1/(rateLimit+2)
)

type planeModels struct {
	zero  [nA]bitModel
	zero2 [nA]bitModel
	zero3 [nA]bitModel
	exp2  [nA][maxExp]bitModel
	exp3  [nA][maxExp]bitModel
	mixZ  mixer
	mixE  [maxExp]mixer
	sign  [36]bitModel
	exp   [nA][maxExp]bitModel
	mant  [nA][maxExp][4]bitModel // the first two mantissa bits
	low   [maxExp][maxExp]bitModel
	bsum  [nBias]int32
	bcnt  [nBias]int32
}

func (m *planeModels) reset() {
	for i := range m.zero {
		m.zero[i] = newBitModel()
		m.zero2[i] = newBitModel()
		m.zero3[i] = newBitModel()
		for k := range m.exp2[i] {
			m.exp2[i][k] = newBitModel()
			m.exp3[i][k] = newBitModel()
		}
	}
	m.mixZ = newMixer()
	for i := range m.mixE {
		m.mixE[i] = newMixer()
	}
	for i := range m.sign {
		m.sign[i] = newBitModel()
	}
	for a := range m.exp {
		for k := range m.exp[a] {
			m.exp[a][k] = newBitModel()
			for j := range m.mant[a][k] {
				m.mant[a][k][j] = newBitModel()
			}
		}
	}
	for k := range m.low {
		for j := range m.low[k] {
			m.low[k][j] = newBitModel()
		}
	}
	for i := range m.bsum {
		m.bsum[i], m.bcnt[i] = 0, 1
	}
}

type state struct {
	// costs, when set, receives what each block x block block of the first three planes
	// cost (in 1/256 bits, blocks in raster order, blockCols per row); see EncodeCosts.
	costs            []int64
	block, blockCols int
	mark             int64 // enc.info() at the start of the current run
	m                planeModels
	errs             []uint32  // per predictor, two rows of w+3 absolute errors (x8)
	res              []int32   // two rows of w+3 residuals
	resPl            [][]int16 // full residual planes of the planes used as references
	resBuf           []int16
}

// plan returns the coding order of n planes and the reference planes of each.
func plan(n int) (order []int, refs [][]int) {
	refs = make([][]int, n)
	order = make([]int, 0, n)
	if n >= 3 {
		order = append(order, 1, 0, 2)
		refs[0] = []int{1}
		refs[2] = []int{1, 0}
		for c := 3; c < n; c++ {
			order = append(order, c)
		}
		return
	}
	for c := 0; c < n; c++ {
		order = append(order, c)
	}
	return
}

// run encodes (enc != nil) or decodes (dec != nil) the planes.
func (st *state) run(planes [][]uint16, w, h, depth int, enc *rcEncoder, dec *rcDecoder) error {
	order, refs := plan(len(planes))
	n := w * h
	isRef := make([]bool, len(planes))
	nref := 0
	for _, r := range refs {
		for _, c := range r {
			if !isRef[c] {
				isRef[c] = true
				nref++
			}
		}
	}
	if cap(st.resBuf) < nref*n {
		st.resBuf = make([]int16, nref*n)
	}
	st.resPl = st.resPl[:0]
	for range planes {
		st.resPl = append(st.resPl, nil)
	}
	j := 0
	for c := range planes {
		if isRef[c] {
			st.resPl[c] = st.resBuf[j*n : (j+1)*n]
			j++
		}
	}
	maxv := uint32(1)<<depth - 1
	for _, c := range order {
		p := planes[c]
		var constant bool
		if enc != nil {
			constant = true
			for _, v := range p {
				if v != p[0] {
					constant = false
					break
				}
			}
			enc.encodeRaw(b2u(constant), 1)
			if constant {
				enc.encodeRaw(uint32(p[0]), depth)
			}
		} else {
			constant = dec.decodeRaw(1) == 1
			if constant {
				v := dec.decodeRaw(depth)
				if v > maxv {
					return corruptf("constant plane value %d above %d", v, maxv)
				}
				for i := range p {
					p[i] = uint16(v)
				}
			}
		}
		if constant {
			if rp := st.resPl[c]; rp != nil {
				clear(rp)
			}
			continue
		}
		if err := st.codePlane(planes, c, refs[c], w, h, depth, enc, dec); err != nil {
			return err
		}
	}
	return nil
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// neighbors returns the causal neighbors of sample i = (x, y) of a w-wide plane. Missing
// neighbors are replaced: on the first row everything by W, in the first column W, WW and
// NW by N, past the right edge NE by N, on the second row NN by N; the very first sample
// gets mid for all.
func neighbors(p []uint16, w, x, y, i int, mid int32) (W, N, NW, NE, WW, NN int32) {
	if y >= 2 && x >= 2 && x < w-1 {
		return int32(p[i-1]), int32(p[i-w]), int32(p[i-w-1]), int32(p[i-w+1]), int32(p[i-2]), int32(p[i-2*w])
	}
	if y == 0 {
		if x == 0 {
			return mid, mid, mid, mid, mid, mid
		}
		W = int32(p[i-1])
		WW = W
		if x >= 2 {
			WW = int32(p[i-2])
		}
		return W, W, W, W, WW, W
	}
	N = int32(p[i-w])
	NN = N
	if y >= 2 {
		NN = int32(p[i-2*w])
	}
	NE = N
	if x < w-1 {
		NE = int32(p[i-w+1])
	}
	if x == 0 {
		return N, N, N, NE, N, NN
	}
	W, NW = int32(p[i-1]), int32(p[i-w-1])
	WW = W
	if x >= 2 {
		WW = int32(p[i-2])
	}
	return W, N, NW, NE, WW, NN
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

func sgn3(x int32) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return 2
	}
	return 0
}

// bucket maps an error level to one of nA classes, about two per octave.
func bucket(a uint32) int {
	if a == 0 {
		return 0
	}
	n := bits.Len32(a)
	if n == 1 {
		return 1
	}
	b := 2*n - 2 + int(a>>(n-2)&1)
	if b > nA-1 {
		b = nA - 1
	}
	return b
}

func (st *state) codePlane(planes [][]uint16, c int, refs []int, w, h, depth int, enc *rcEncoder, dec *rcDecoder) error {
	m := &st.m
	m.reset()
	p := planes[c]
	nsub := nOwn + nPerRef*len(refs)
	stride := w + 3
	if cap(st.errs) < maxSub*2*stride {
		st.errs = make([]uint32, maxSub*2*stride)
	}
	errs := st.errs[:nsub*2*stride]
	clear(errs)
	if cap(st.res) < 2*stride {
		st.res = make([]int32, 2*stride)
	}
	res := st.res[:2*stride]
	clear(res)
	var refP [maxRefs][]uint16
	var refR [maxRefs][]int16
	for k, r := range refs {
		refP[k], refR[k] = planes[r], st.resPl[r]
	}
	resOut := st.resPl[c]
	maxv := int32(1)<<depth - 1
	mid := int32(1) << (depth - 1)
	var s [maxSub]int32
	var es [maxSub]uint32
	eps := uint32(12) << (depth - 8) // keeps weights from following single lucky guesses
	for y := 0; y < h; y++ {
		if dec != nil && dec.pos > len(dec.in)+4 {
			return corruptf("stream overrun in plane %d row %d", c, y)
		}
		cur := (y & 1) * stride
		prv := stride - cur
		for x := 0; x < w; x++ {
			i := y*w + x
			W, N, NW, NE, _, _ := neighbors(p, w, x, y, i, mid)
			s[0] = 8 * (W + N - NW)
			s[1] = 8 * (W + NE - N)
			s[2] = 4*(W+N) + 2*(NE-NW)
			s[3] = 8*W + 4*(N-NW)
			s[4] = 8*N + 4*(W-NW)
			s[5] = 4 * (N + NE)
			for k := range refs {
				q := refP[k]
				rW, rN, rNW, rNE, _, _ := neighbors(q, w, x, y, i, mid)
				rc := 8 * int32(q[i])
				dW, dN, dNW, dNE := W-rW, N-rN, NW-rNW, NE-rNE
				s[nOwn+2*k] = rc + 8*(dW+dN-dNW)
				s[nOwn+2*k+1] = rc + 4*(dW+dN) + 2*(dNE-dNW)
			}
			xo := x + 2
			minE := ^uint32(0)
			for k := 0; k < nsub; k++ {
				e := errs[k*2*stride:]
				v := 2*e[prv+xo] + 2*e[cur+xo-1] + e[prv+xo-1] + e[prv+xo+1] + eps
				es[k] = v
				if v < minE {
					minE = v
				}
			}
			sh := bits.Len32(minE) - 8
			var num, den int64
			for k := 0; k < nsub; k++ {
				e := es[k]
				if sh > 0 {
					e >>= uint(sh)
				} else {
					e <<= uint(-sh)
				}
				t := int64(recipTab[min(e, recipMax)])
				wt := t * t
				num += wt * int64(s[k])
				den += wt
			}
			var P8 int32
			if num >= 0 {
				P8 = int32((num + den/2) / den)
			} else {
				P8 = -int32((-num + den/2) / den)
			}
			// Error level of the neighborhood.
			rW, rN, rNW, rNE, rWW := res[cur+xo-1], res[prv+xo], res[prv+xo-1], res[prv+xo+1], res[cur+xo-2]
			A := 3*abs32(rW) + 2*abs32(rN) + abs32(rNW) + abs32(rNE) + abs32(rWW)
			rs := 0
			if len(refs) > 0 {
				rr := int32(refR[0][i])
				A += 4 * abs32(rr)
				rs = sgn3(rr)
			}
			a := bucket(uint32(A)/2 + minE/12)
			a2 := bucket(minE / 6)
			G := abs32(N-NW) + abs32(W-NW) + abs32(NE-N)
			if len(refs) > 0 {
				G += 2 * abs32(int32(refR[0][i]))
			}
			a3 := bucket(uint32(G))
			tex := b2i(8*N > P8) | b2i(8*W > P8)<<1 | b2i(8*NW > P8)<<2 | b2i(8*NE > P8)<<3
			bc := (min(a>>1, nAct-1)*16+tex)*3 + rs
			P8c := P8 + m.bsum[bc]/m.bcnt[bc]
			pr := (P8c + 4) >> 3
			pr = max(0, min(maxv, pr))
			sc := (3*sgn3(rW)+sgn3(rN))*4 + min(a/5, 3)
			var v int32
			if enc != nil {
				v = int32(p[i])
				// The costs are read at the ends of each row's run through a block.
				if st.costs != nil && c < 3 && x%st.block == 0 {
					st.mark = enc.info()
				}
				m.encodeResidual(enc, v-pr, a, a2, a3, sc, pr, maxv)
				if st.costs != nil && c < 3 && (x%st.block == st.block-1 || x == w-1) {
					st.costs[(y/st.block)*st.blockCols+x/st.block] += enc.info() - st.mark
				}
			} else {
				e, ok := m.decodeResidual(dec, a, a2, a3, sc, pr, maxv)
				v = pr + e
				if !ok || v < 0 || v > maxv {
					return corruptf("sample out of range in plane %d at (%d,%d)", c, x, y)
				}
				p[i] = uint16(v)
			}
			e := v - pr
			v8 := 8 * v
			for k := 0; k < nsub; k++ {
				errs[k*2*stride+cur+xo] = uint32(abs32(v8 - s[k]))
			}
			res[cur+xo] = e
			if resOut != nil {
				resOut[i] = int16(max(-32768, min(32767, e)))
			}
			m.bsum[bc] += v8 - P8
			m.bcnt[bc]++
			if m.bcnt[bc] >= biasLimit {
				m.bsum[bc] >>= 1
				m.bcnt[bc] >>= 1
			}
		}
	}
	return nil
}

// recipTab[e] = 2^16/e for the normalized error sums e (at least 128; larger ones are
// clamped to recipMax, where the weight is already negligible).
const recipMax = 4095

var recipTab = func() (t [recipMax + 1]uint16) {
	for e := 1; e <= recipMax; e++ {
		t[e] = uint16(min(65535, (1<<16)/e))
	}
	return
}()

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// maxExpFor returns the largest magnitude exponent possible for a residual whose
// magnitude is at most bound.
func maxExpFor(bound int32) int {
	if bound <= 0 {
		return 0
	}
	return bits.Len32(uint32(bound)) - 1
}

func (m *planeModels) encodeResidual(enc *rcEncoder, e int32, a, a2, a3, sc int, pr, maxv int32) {
	bit := b2i(e != 0)
	mixBit(enc, nil, bit, &m.mixZ, &[nMix]*bitModel{&m.zero[a], &m.zero2[a2], &m.zero3[a3]})
	if e == 0 {
		return
	}
	neg := b2i(e < 0)
	sm := &m.sign[sc]
	enc.encode(neg, sm.p12())
	sm.update(neg, rateLimit)
	mag := abs32(e)
	bound := maxv - pr
	if neg == 1 {
		bound = pr
	}
	kmax := maxExpFor(bound)
	k := bits.Len32(uint32(mag)) - 1
	for i := 0; i < kmax; i++ {
		bit := b2i(k > i)
		mixBit(enc, nil, bit, &m.mixE[i], &[nMix]*bitModel{&m.exp[a][i], &m.exp2[a2][i], &m.exp3[a3][i]})
		if bit == 0 {
			break
		}
	}
	top := 0
	for j := k - 1; j >= 0; j-- {
		bit := int(mag>>uint(j)) & 1
		var bm *bitModel
		switch j {
		case k - 1:
			bm = &m.mant[a][k][1]
			top = bit
		case k - 2:
			bm = &m.mant[a][k][2+top]
		default:
			bm = &m.low[k][j]
		}
		enc.encode(bit, bm.p12())
		bm.update(bit, rateLimit)
	}
}

func (m *planeModels) decodeResidual(dec *rcDecoder, a, a2, a3, sc int, pr, maxv int32) (int32, bool) {
	bit := mixBit(nil, dec, 0, &m.mixZ, &[nMix]*bitModel{&m.zero[a], &m.zero2[a2], &m.zero3[a3]})
	if bit == 0 {
		return 0, true
	}
	sm := &m.sign[sc]
	neg := dec.decode(sm.p12())
	sm.update(neg, rateLimit)
	bound := maxv - pr
	if neg == 1 {
		bound = pr
	}
	if bound <= 0 {
		return 0, false
	}
	kmax := maxExpFor(bound)
	k := 0
	for i := 0; i < kmax; i++ {
		bit := mixBit(nil, dec, 0, &m.mixE[i], &[nMix]*bitModel{&m.exp[a][i], &m.exp2[a2][i], &m.exp3[a3][i]})
		if bit == 0 {
			break
		}
		k++
	}
	mag := int32(1) << uint(k)
	top := 0
	for j := k - 1; j >= 0; j-- {
		var bm *bitModel
		switch j {
		case k - 1:
			bm = &m.mant[a][k][1]
		case k - 2:
			bm = &m.mant[a][k][2+top]
		default:
			bm = &m.low[k][j]
		}
		bit := dec.decode(bm.p12())
		bm.update(bit, rateLimit)
		if j == k-1 {
			top = bit
		}
		mag |= int32(bit) << uint(j)
	}
	if neg == 1 {
		return -mag, true
	}
	return mag, true
}
