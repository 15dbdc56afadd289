package nn

import "fmt"

// ConvShape describes a stride-1, same-padded 2-D convolution with odd kernel sizes.
type ConvShape struct {
	Cin, Cout, KH, KW int
}

// K is the length of the dot product per output element: Cin*KH*KW.
func (s ConvShape) K() int { return s.Cin * s.KH * s.KW }

// WeightLen is the number of weights, Cout*Cin*KH*KW (layout [Cout][Cin][KH][KW]).
func (s ConvShape) WeightLen() int { return s.Cout * s.K() }

func (s ConvShape) check(in, out *Tensor) {
	if s.KH%2 == 0 || s.KW%2 == 0 {
		panic(fmt.Sprintf("nn: conv kernel %dx%d must be odd", s.KH, s.KW))
	}
	if in.C != s.Cin || out.C != s.Cout || in.B != out.B || in.H != out.H || in.W != out.W {
		panic(fmt.Sprintf("nn: conv %+v with input %s and output %s", s, in.Shape(), out.Shape()))
	}
}

// packIm2col packs the k-range [k0, k1) of the implicit im2col matrix of in, for the NR
// columns starting at column n0, into bp (row p at bp[(p-k0)*NR:]). Columns past the end and
// taps outside the image are zero.
func packIm2col(s ConvShape, in *Tensor, k0, k1, n0, NR int, bp []float32) {
	H, W := in.H, in.W
	N := in.N()
	ph, pw := s.KH/2, s.KW/2
	taps := s.KH * s.KW
	if W == 16 && NR%16 == 0 && n0+NR <= N {
		// Fast path for 16-pixel rows (all of the model's convolutions): the panel is NR/16
		// whole image rows. Taps are walked with counters (no division per k); a shifted row
		// is loaded as one 16-float array from the neighbouring memory when that stays inside
		// the channel, and the lanes that fall outside the image row are zeroed.
		ci, t := k0/taps, k0%taps
		ky, kx := t/s.KW, t%s.KW
		for k := k0; k < k1; k++ {
			dy, dx := ky-ph, kx-pw
			chan0 := ci * N
			for seg := 0; seg < NR; seg += 16 {
				row := (n0 + seg) / 16 // b*H + y
				y := row % H
				d := (*[16]float32)(bp[(k-k0)*NR+seg:])
				if yy := y + dy; yy < 0 || yy >= H {
					*d = [16]float32{}
					continue
				}
				o := chan0 + (row+dy)*16 + dx
				if o >= chan0 && o+16 <= chan0+N {
					*d = *(*[16]float32)(in.Data[o:])
					if dx < 0 {
						clear(d[:-dx])
					} else if dx > 0 {
						clear(d[16-dx:])
					}
				} else {
					for j := 0; j < 16; j++ {
						if xx := dx + j; xx < 0 || xx >= 16 {
							d[j] = 0
						} else {
							d[j] = in.Data[o+j]
						}
					}
				}
			}
			if kx++; kx == s.KW {
				kx = 0
				if ky++; ky == s.KH {
					ky = 0
					ci++
				}
			}
		}
		return
	}
	for k := k0; k < k1; k++ {
		ci, t := k/taps, k%taps
		dy, dx := t/s.KW-ph, t%s.KW-pw
		d := bp[(k-k0)*NR : (k-k0+1)*NR]
		for j := 0; j < NR; j++ {
			n := n0 + j
			if n >= N {
				d[j] = 0
				continue
			}
			x := n % W
			y := (n / W) % H
			yy, xx := y+dy, x+dx
			if yy < 0 || yy >= H || xx < 0 || xx >= W {
				d[j] = 0
				continue
			}
			d[j] = in.Data[ci*N+n+dy*W+dx]
		}
	}
}

// ConvForward computes out = bias + conv(in, w) where w is the packed weight matrix
// (Cout x Cin*KH*KW). Deterministic: see the package doc.
func ConvForward(ctx *Ctx, s ConvShape, in *Tensor, w *PackedA, bias []float32, out *Tensor) {
	s.check(in, out)
	if w.M != s.Cout || w.K != s.K() {
		panic("nn: packed weights do not match the conv shape")
	}
	ctx.fillBias(out, bias)
	convAccumulate(ctx, s, in, w, out)
}

// convAccumulate adds conv(in, w) into out.
func convAccumulate(ctx *Ctx, s ConvShape, in *Tensor, w *PackedA, out *Tensor) {
	ctx.grow()
	ks := ctx.kernel()
	pw := w.forKernel(ks)
	if implicitOK(in, ks) {
		convImplicit(ctx, s, in, pw, out)
		return
	}
	N := in.N()
	K := s.K()
	MR, NR := ks.mr, ks.nr
	colPanels := (N + NR - 1) / NR
	ctx.Parallel(colPanels, 1, func(wk, lo, hi int) {
		bp := ctx.buf(wk, slotPackB, KC*NR)
		tmp := ctx.buf(wk, slotTmp, MR*NR)
		for cp := lo; cp < hi; cp++ {
			n0 := cp * NR
			nn := min(NR, N-n0)
			for k0 := 0; k0 < K; k0 += KC {
				k1 := min(K, k0+KC)
				packIm2col(s, in, k0, k1, n0, NR, bp)
				gemmPanel(ks, pw, K, k0, k1, bp, out.Data[n0:], N, s.Cout, nn, tmp)
			}
		}
	})
}

// PackForward packs weights w ([Cout][Cin][KH][KW]) for ConvForward.
func PackForward(s ConvShape, w []float32, p *PackedA) {
	p.Pack(w, s.Cout, s.K())
}

// PackBackwardData packs weights w for ConvBackwardData: the transposed, flipped kernel
// w'[ci][co][KH-1-i][KW-1-j] = w[co][ci][i][j].
func PackBackwardData(s ConvShape, w []float32, p *PackedA) {
	taps := s.KH * s.KW
	p.packFn(s.Cin, s.Cout*taps, func(ci, k int) float32 {
		co, t := k/taps, k%taps
		return w[(co*s.Cin+ci)*taps+taps-1-t]
	})
}

// ConvBackwardData adds the gradient with respect to the input, given the output gradient
// dout and the weights packed by PackBackwardData, into din.
func ConvBackwardData(ctx *Ctx, s ConvShape, dout *Tensor, wT *PackedA, din *Tensor) {
	t := ConvShape{Cin: s.Cout, Cout: s.Cin, KH: s.KH, KW: s.KW}
	t.check(dout, din)
	convAccumulate(ctx, t, dout, wT, din)
}

// ConvBackwardWeights adds the gradients with respect to the weights ([Cout][Cin][KH][KW])
// and bias into dw and dbias (dbias may be nil). Training only: no determinism promise.
func ConvBackwardWeights(ctx *Ctx, s ConvShape, in, dout *Tensor, dw, dbias []float32) {
	s.check(in, dout)
	ctx.grow()
	N := in.N()
	K := s.K()
	if dbias != nil {
		for co := 0; co < s.Cout; co++ {
			var acc float32
			for _, v := range dout.Data[co*N : (co+1)*N] {
				acc += v
			}
			dbias[co] += acc
		}
	}
	ks := ctx.kernel()
	if ks.direct && in.W == 16 {
		convBackwardWeightsDirect(ctx, s, in, dout, dw)
		return
	}
	// dW^T[k][co] = sum_n im2col[k][n] * dout[co][n]: a GEMM with M = K, N = Cout and the
	// reduction over the N columns, blocked by nc. Workers split the k rows; each packs its
	// own panels and accumulates its rows of dW^T, added transposed into dw at the end.
	nc := 512
	if in.W <= nc {
		nc -= nc % in.W // keep blocks on image-row boundaries (fast packing)
	}
	MR, NR := ks.mr, ks.nr
	kPanels := (K + MR - 1) / MR
	coPanels := (s.Cout + NR - 1) / NR
	ldc := coPanels * NR
	ctx.Parallel(kPanels, 1, func(wk, lo, hi int) {
		bp := ctx.buf(wk, slotPackB, coPanels*nc*NR)
		ap := ctx.buf(wk, slotPackA, nc*MR)
		acc := ctx.buf(wk, slotTmp, (hi-lo)*MR*ldc)
		clear(acc)
		for n0 := 0; n0 < N; n0 += nc {
			m := min(nc, N-n0)
			// Pack dout^T: panel q, row p, column j = dout[q*NR+j][n0+p].
			for q := 0; q < coPanels; q++ {
				d := bp[q*nc*NR:]
				for j := 0; j < NR; j++ {
					co := q*NR + j
					if co >= s.Cout {
						for p := 0; p < m; p++ {
							d[p*NR+j] = 0
						}
						continue
					}
					for p, v := range dout.Data[co*N+n0 : co*N+n0+m] {
						d[p*NR+j] = v
					}
				}
			}
			for r := lo; r < hi; r++ {
				packIm2colRows(s, in, r*MR, n0, m, MR, ap)
				for q := 0; q < coPanels; q++ {
					ks.fn(m, ap, bp[q*nc*NR:], acc[(r-lo)*MR*ldc+q*NR:], ldc)
				}
			}
		}
		for r := lo; r < hi; r++ {
			for i := 0; i < MR; i++ {
				k := r*MR + i
				if k >= K {
					break
				}
				row := acc[((r-lo)*MR+i)*ldc:]
				for co := 0; co < s.Cout; co++ {
					dw[co*K+k] += row[co]
				}
			}
		}
	})
}

// packIm2colRows packs MR rows [k0, k0+MR) of the im2col matrix of in, columns [n0, n0+nc),
// interleaved as an A panel: ap[p*MR+i] = im2col[k0+i][n0+p]. Rows past K are zero.
func packIm2colRows(s ConvShape, in *Tensor, k0, n0, nc, MR int, ap []float32) {
	H, W := in.H, in.W
	if W != 16 || n0%W != 0 || nc%W != 0 {
		packIm2colRowsGeneric(s, in, k0, n0, nc, MR, ap)
		return
	}
	// Fast path for 16-pixel rows: gather each image row's MR shifted source rows as 16-float
	// arrays, then write them interleaved, sequentially.
	N := in.N()
	K := s.K()
	taps := s.KH * s.KW
	ph, pw := s.KH/2, s.KW/2
	var off [maxMR]int // source offset of the row start for tap i (relative to the image row)
	var dys, dxs [maxMR]int
	var valid [maxMR]bool
	for i := 0; i < MR; i++ {
		k := k0 + i
		if valid[i] = k < K; !valid[i] {
			continue
		}
		ci, t := k/taps, k%taps
		dys[i], dxs[i] = t/s.KW-ph, t%s.KW-pw
		off[i] = ci*N + dys[i]*W + dxs[i]
	}
	var rows [maxMR][16]float32
	for r0 := 0; r0 < nc; r0 += W {
		row := (n0 + r0) / W
		y := row % H
		for i := 0; i < MR; i++ {
			d := &rows[i]
			if !valid[i] || y+dys[i] < 0 || y+dys[i] >= H {
				*d = [16]float32{}
				continue
			}
			o := off[i] + row*W
			dx := dxs[i]
			if o >= 0 && o+16 <= len(in.Data) {
				*d = *(*[16]float32)(in.Data[o:])
				if dx < 0 {
					clear(d[:-dx])
				} else if dx > 0 {
					clear(d[16-dx:])
				}
			} else {
				for j := 0; j < 16; j++ {
					if xx := j + dx; xx < 0 || xx >= W {
						d[j] = 0
					} else {
						d[j] = in.Data[o+j]
					}
				}
			}
		}
		dst := ap[r0*MR : (r0+W)*MR]
		for x := 0; x < 16; x++ {
			o := x * MR
			for i := 0; i < MR; i++ {
				dst[o+i] = rows[i][x]
			}
		}
	}
}

func packIm2colRowsGeneric(s ConvShape, in *Tensor, k0, n0, nc, MR int, ap []float32) {
	H, W := in.H, in.W
	N := in.N()
	K := s.K()
	taps := s.KH * s.KW
	ph, pw := s.KH/2, s.KW/2
	for i := 0; i < MR; i++ {
		k := k0 + i
		if k >= K {
			for p := 0; p < nc; p++ {
				ap[p*MR+i] = 0
			}
			continue
		}
		ci, t := k/taps, k%taps
		dy, dx := t/s.KW-ph, t%s.KW-pw
		src := in.Data[ci*N : (ci+1)*N]
		for p := 0; p < nc; p++ {
			n := n0 + p
			x := n % W
			y := (n / W) % H
			yy, xx := y+dy, x+dx
			if yy < 0 || yy >= H || xx < 0 || xx >= W {
				ap[p*MR+i] = 0
			} else {
				ap[p*MR+i] = src[n+dy*W+dx]
			}
		}
	}
}

// convBackwardWeightsDirect computes dW[co][k] += sum_n dout[co][n] * im2col[k][n] for
// 16-pixel rows by dot products along the rows, reading the input in place from its
// zero-bordered copy (no im2col packing). Tiles of 4 output channels x 6 taps use the AVX-512
// kernel, the partial ones too: a last partial group of output channels reads a copy of
// dout padded with zero rows, and a partial group of taps repeats tap 0 (whose results
// are dropped).
func convBackwardWeightsDirect(ctx *Ctx, s ConvShape, in, dout *Tensor, dw []float32) {
	p := ctx.pad(s, in)
	N := in.N()
	K := s.K()
	rows := N / 16
	if cap(ctx.rowBases) < rows {
		ctx.rowBases = make([]int32, rows)
	}
	bases := ctx.rowBases[:rows]
	for r := range bases {
		b, y := r/in.H, r%in.H
		bases[r] = int32((b*p.hp + y) * p.wp)
	}
	coT, kT := (s.Cout+3)/4, (K+5)/6
	var tail []float32 // the last output channels, padded with zero rows to 4
	if r := s.Cout % 4; r != 0 {
		if cap(ctx.dwTail) < 4*N {
			ctx.dwTail = make([]float32, 4*N)
		}
		tail = ctx.dwTail[:4*N]
		copy(tail, dout.Data[(s.Cout-r)*N:s.Cout*N])
		clear(tail[r*N:])
	}
	var offTail [6]int32
	if r := K % 6; r != 0 {
		copy(offTail[:], p.offs[K-r:])
		for j := r; j < 6; j++ {
			offTail[j] = p.offs[0]
		}
	}
	tiles := coT * kT
	ctx.Parallel(tiles, 1, func(wk, lo, hi int) {
		acc := ctx.buf(wk, slotTmp, 24*16+24)
		out := acc[24*16:]
		for t := lo; t < hi; t++ {
			co0, k0 := (t/kT)*4, (t%kT)*6
			src, c0 := dout.Data, co0
			if co0+4 > s.Cout {
				src, c0 = tail, 0
			}
			offs := p.offs[k0:min(k0+6, K)]
			if len(offs) < 6 {
				offs = offTail[:]
			}
			dwTile(rows, src, c0, N, bases, p.data, offs, acc, out)
			for i := 0; i < min(4, s.Cout-co0); i++ {
				for j := 0; j < min(6, K-k0); j++ {
					dw[(co0+i)*K+k0+j] += out[i*6+j]
				}
			}
		}
	})
}

// fill sets every element of x to v (by doubling copies, which run as vectorized memmoves).
func fill(x []float32, v float32) {
	if len(x) == 0 {
		return
	}
	x[0] = v
	for n := 1; n < len(x); n *= 2 {
		copy(x[n:], x[:n])
	}
}

// fillBias sets every output channel of out to its bias (nil: zero).
func (c *Ctx) fillBias(out *Tensor, bias []float32) {
	t := &c.fillT
	t.out, t.n, t.bias = out.Data, out.N(), bias
	c.run(out.C, 1, t)
	t.out, t.bias = nil, nil
}

// fillTask fills output channels [lo, hi) of a conv with their biases.
type fillTask struct {
	out  []float32
	n    int
	bias []float32
}

func (t *fillTask) run(_, lo, hi int) {
	for co := lo; co < hi; co++ {
		b := float32(0)
		if t.bias != nil {
			b = t.bias[co]
		}
		fill(t.out[co*t.n:(co+1)*t.n], b)
	}
}
