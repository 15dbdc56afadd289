package nn

// Implicit-GEMM convolution for 16-pixel rows (all of the model's convolutions): instead of
// packing every column panel of the im2col matrix, the input is copied once into a
// zero-bordered buffer and the kernels read each row of a B panel straight from it, at
// offset offs[k] from the panel's base. The products and their order are exactly those of
// the packed path (a zero border gives the same +0 as a zero in im2col), so the results are
// bit-identical; it only saves the packing.

// indFn computes the first rows of a tile: c[i][j] += sum_p a[p*MR+i] * B[p][j] with B row p
// = src[bases[s]+offs[p] : +16] for the 16-column segment s of the panel.
type indFn func(k int, a, src []float32, base0, base1 int, offs []int32, c []float32, ldc int)

// indGo is the portable indirect kernel for the first rows <= mr of mr x nr tiles.
func indGo(rows, mr, nr int) indFn {
	return func(k int, a, src []float32, base0, base1 int, offs []int32, c []float32, ldc int) {
		MR, NR := mr, nr
		for i := 0; i < rows; i++ {
			row := c[i*ldc : i*ldc+NR]
			for j := 0; j < NR; j++ {
				base := base0
				if j >= 16 {
					base = base1 - 16
				}
				s := row[j]
				for p := 0; p < k; p++ {
					s += float32(a[p*MR+i] * src[base+int(offs[p])+j])
				}
				row[j] = s
			}
		}
	}
}

// padded holds the zero-bordered copy of a convolution's input.
type padded struct {
	data   []float32
	offs   []int32
	hp, wp int // padded height and width
}

// implicitOK reports whether convAccumulate may use the implicit path with kernel ks.
func implicitOK(in *Tensor, ks *kernelSpec) bool {
	return in.W == 16 && (ks.nr == 16 || ks.nr == 32)
}

func (c *Ctx) pad(s ConvShape, in *Tensor) *padded {
	ph, pw := s.KH/2, s.KW/2
	p := &c.padBuf
	p.hp, p.wp = in.H+2*ph, in.W+2*pw
	B := in.B
	plane := p.hp * p.wp
	n := s.Cin*B*plane + 64 // slack: the last rows may be read past their end
	if cap(p.data) < n {
		p.data = make([]float32, n)
	}
	p.data = p.data[:n]
	t := &c.padT
	t.p, t.in, t.ph, t.pw = p, in, ph, pw
	c.run(s.Cin*B, 1, t)
	t.p, t.in = nil, nil
	clear(p.data[s.Cin*B*plane:])
	K := s.K()
	if cap(p.offs) < K {
		p.offs = make([]int32, K)
	}
	p.offs = p.offs[:K]
	k := 0
	for ci := 0; ci < s.Cin; ci++ {
		for ky := 0; ky < s.KH; ky++ {
			for kx := 0; kx < s.KW; kx++ {
				p.offs[k] = int32(ci*B*plane + ky*p.wp + kx)
				k++
			}
		}
	}
	return p
}

// padTask copies input planes [lo, hi) into their zero-bordered places.
type padTask struct {
	p      *padded
	in     *Tensor
	ph, pw int
}

func (t *padTask) run(_, lo, hi int) {
	p, in, ph, pw := t.p, t.in, t.ph, t.pw
	plane := p.hp * p.wp
	for cb := lo; cb < hi; cb++ {
		dst := p.data[cb*plane : (cb+1)*plane]
		clear(dst[:ph*p.wp])
		clear(dst[(ph+in.H)*p.wp:])
		src := in.Data[cb*in.H*in.W:]
		for y := 0; y < in.H; y++ {
			row := dst[(ph+y)*p.wp : (ph+y+1)*p.wp]
			clear(row[:pw])
			copy(row[pw:pw+in.W], src[y*in.W:(y+1)*in.W])
			clear(row[pw+in.W:])
		}
	}
}

// convImplicit adds conv(in, w) into out reading B in place (w packed for ctx's kernel);
// panels that do not fit (a last half panel) go through the packed path.
func convImplicit(ctx *Ctx, s ConvShape, in *Tensor, w *packing, out *Tensor) {
	t := &ctx.implicitT
	ks := ctx.kernel()
	*t = implicitTask{ctx: ctx, ks: ks, s: s, in: in, w: w, out: out, p: ctx.pad(s, in)}
	ctx.run((in.N()+ks.nr-1)/ks.nr, 1, t)
	*t = implicitTask{}
}

// implicitTask computes column panels [lo, hi) of an implicit-GEMM convolution.
type implicitTask struct {
	ctx *Ctx
	ks  *kernelSpec
	s   ConvShape
	in  *Tensor
	w   *packing
	out *Tensor
	p   *padded
}

func (t *implicitTask) run(wk, lo, hi int) {
	ctx, ks, s, in, w, out, p := t.ctx, t.ks, t.s, t.in, t.w, t.out, t.p
	N := in.N()
	K := s.K()
	MR, NR := ks.mr, ks.nr
	H := in.H
	base := func(r int) int { // padded offset of the receptive field of image row r = b*H + y
		b, y := r/H, r%H
		return (b*p.hp + y) * p.wp
	}
	bp := ctx.buf(wk, slotPackB, KC*NR)
	tmp := ctx.buf(wk, slotTmp, MR*NR)
	for cp := lo; cp < hi; cp++ {
		n0 := cp * NR
		if n0+NR > N {
			for k0 := 0; k0 < K; k0 += KC {
				k1 := min(K, k0+KC)
				packIm2col(s, in, k0, k1, n0, NR, bp)
				gemmPanel(ks, w, K, k0, k1, bp, out.Data[n0:], N, s.Cout, N-n0, tmp)
			}
			continue
		}
		b0 := base(n0 / 16)
		b1 := b0
		if NR == 32 {
			b1 = base(n0/16 + 1)
		}
		c := out.Data[n0:]
		for r := 0; r*MR < s.Cout; r++ {
			ap := w.panel(K, r, 0, K)
			rows := min(MR, s.Cout-r*MR)
			ct := c[r*MR*N:]
			if f := ks.ind[rows]; f != nil {
				f(K, ap, p.data, b0, b1, p.offs, ct, N)
				continue
			}
			// A partial panel without its own kernel: through a temporary tile.
			for i := 0; i < MR; i++ {
				for j := 0; j < NR; j++ {
					if i < rows {
						tmp[i*NR+j] = ct[i*N+j]
					} else {
						tmp[i*NR+j] = 0
					}
				}
			}
			ks.ind[MR](K, ap, p.data, b0, b1, p.offs, tmp, NR)
			for i := 0; i < rows; i++ {
				copy(ct[i*N:i*N+NR], tmp[i*NR:i*NR+NR])
			}
		}
	}
}
