package nn

import "sync"

// The GEMM core: a 6x16 register-tiled micro-kernel over packed panels.
//
// A panel holds MR rows of A for a range of k, interleaved: a[p*MR+i] = A[i][k0+p].
// A B panel holds NR columns of B for the same range: b[p*NR+j] = B[k0+p][j].
// The kernel adds their product into a 6x16 tile of C, summing over p in increasing order:
//
//	c[i][j] = c[i][j] + float32(a[0][i]*b[0][j]) + float32(a[1][i]*b[1][j]) + ...
//
// with every product rounded to float32 before the add. Running the k range in blocks, each
// block continuing from the stored tile, gives the same sum, so results depend neither on the
// blocking nor on which worker computes which tile.

// The tile shape depends on the kernel (see Kernel): 6x16 for AVX2 (and the portable kernel
// that stands in for it), 12x32 for AVX-512. The shape changes how the work is cut, never the
// order of any sum, so every kernel gives the same bits.

const (
	maxMR = 12
	KC    = 512 // k-block length
)

// kernelGo returns the portable micro-kernel for mr x nr tiles (nr a multiple of 4).
func kernelGo(mr, nr int) func(k int, a, b, c []float32, ldc int) {
	return func(k int, a, b, c []float32, ldc int) {
		if k == 0 {
			return
		}
		MR, NR := mr, nr
		a = a[:k*MR]
		b = b[:k*NR]
		for i := 0; i < MR; i++ {
			row := c[i*ldc : i*ldc+NR]
			for j := 0; j < NR; j += 4 {
				s0, s1, s2, s3 := row[j], row[j+1], row[j+2], row[j+3]
				for p := 0; p < k; p++ {
					av := a[p*MR+i]
					bp := b[p*NR+j : p*NR+j+4]
					s0 += float32(av * bp[0])
					s1 += float32(av * bp[1])
					s2 += float32(av * bp[2])
					s3 += float32(av * bp[3])
				}
				row[j], row[j+1], row[j+2], row[j+3] = s0, s1, s2, s3
			}
		}
	}
}

// kernelEdge runs kernel ks for a partial tile (m <= mr rows, n <= nr columns) through a
// temporary full tile.
func kernelEdge(ks *kernelSpec, k int, a, b, c []float32, ldc, m, n int, tmp []float32) {
	MR, NR := ks.mr, ks.nr
	tmp = tmp[:MR*NR]
	for i := 0; i < MR; i++ {
		for j := 0; j < NR; j++ {
			if i < m && j < n {
				tmp[i*NR+j] = c[i*ldc+j]
			} else {
				tmp[i*NR+j] = 0
			}
		}
	}
	ks.fn(k, a, b, tmp, NR)
	for i := 0; i < m; i++ {
		copy(c[i*ldc:i*ldc+n], tmp[i*NR:i*NR+n])
	}
}

// PackedA is a matrix A[M][K] packed into row panels for the kernels: for a kernel of mr-row
// tiles, the rows zero padded to a multiple of mr, panel r holding element (r*mr+i, k) at
// r*K*mr + k*mr + i. Pack makes the packing for the best kernel's tile height; a pass with a
// kernel of another height makes (once, safely while other passes read the matrix) and keeps
// its own from the row-major source kept here. A PackedA may be read by any number of passes
// at once; it must not be repacked while one runs.
type PackedA struct {
	M, K int
	src  []float32
	main packing
	alt  *altPackings // the packings for other tile heights (nil before the first Pack)
}

// packing is a PackedA packed for mr-row panels.
type packing struct {
	mr   int
	data []float32
}

// altPackings holds a PackedA's packings for tile heights other than the best kernel's, made
// on first use (only the kernels chosen by tests and benchmarks need them).
type altPackings struct {
	mu sync.Mutex
	by []*packing
}

// Pack packs the row-major matrix a (M x K) into p, reusing p's storage.
func (p *PackedA) Pack(a []float32, m, k int) {
	if cap(p.src) < m*k {
		p.src = make([]float32, m*k)
	}
	p.src = p.src[:m*k]
	copy(p.src, a[:m*k])
	p.M, p.K = m, k
	p.repack()
}

// Adopt packs the row-major matrix a (M x K) into p, keeping a itself as the source of
// the other tile heights' packings: for weights that never change (a model loaded for
// inference), where Pack's copy would cost a tenth of the load.
func (p *PackedA) Adopt(a []float32, m, k int) {
	p.src, p.M, p.K = a[:m*k], m, k
	p.repack()
}

// packFn packs the matrix whose element (i, k) is at(i, k).
func (p *PackedA) packFn(m, k int, at func(i, k int) float32) {
	if cap(p.src) < m*k {
		p.src = make([]float32, m*k)
	}
	p.src = p.src[:m*k]
	for i := 0; i < m; i++ {
		for kk := 0; kk < k; kk++ {
			p.src[i*k+kk] = at(i, kk)
		}
	}
	p.M, p.K = m, k
	p.repack()
}

func (p *PackedA) repack() {
	p.main.mr = best.mr
	p.main.data = packPanels(p.src, p.M, p.K, best.mr, p.main.data)
	if p.alt == nil || len(p.alt.by) > 0 {
		p.alt = &altPackings{} // (passes that hold the old one keep reading it)
	}
}

// packPanels packs the row-major m x k matrix src into mr-row panels, reusing buf.
func packPanels(src []float32, m, k, mr int, buf []float32) []float32 {
	MR := mr
	panels := (m + MR - 1) / MR
	n := panels * MR * k
	if cap(buf) < n {
		buf = make([]float32, n)
	}
	d := buf[:n]
	for r := 0; r < panels; r++ {
		d := d[r*k*MR : (r+1)*k*MR]
		for i := 0; i < MR; i++ {
			row := r*MR + i
			if row >= m {
				for kk := 0; kk < k; kk++ {
					d[kk*MR+i] = 0
				}
				continue
			}
			src := src[row*k : (row+1)*k]
			for kk, v := range src {
				d[kk*MR+i] = v
			}
		}
	}
	return buf[:n]
}

// forKernel returns p packed for ks's tile height.
func (p *PackedA) forKernel(ks *kernelSpec) *packing {
	if ks.mr == p.main.mr {
		return &p.main
	}
	if p.alt == nil {
		panic("nn: PackedA used before Pack")
	}
	a := p.alt
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, q := range a.by {
		if q.mr == ks.mr {
			return q
		}
	}
	q := &packing{mr: ks.mr, data: packPanels(p.src, p.M, p.K, ks.mr, nil)}
	a.by = append(a.by, q)
	return q
}

// panel returns the k-range [k0, k1) of row panel r of a matrix with K columns.
func (q *packing) panel(K, r, k0, k1 int) []float32 {
	base := r * K * q.mr
	return q.data[base+k0*q.mr : base+k1*q.mr]
}

// Gemm computes C += A*B for a packed A (M x K) and a row-major B (K x N), C row-major M x N
// with row stride ldc. It is the plain matrix form of the engine's GEMM, used by tests and
// benchmarks; the convolutions pack B themselves.
func Gemm(ctx *Ctx, a *PackedA, b []float32, n int, c []float32, ldc int) {
	ctx.grow()
	ks := ctx.kernel()
	pa := a.forKernel(ks)
	m, k := a.M, a.K
	MR, NR := ks.mr, ks.nr
	colPanels := (n + NR - 1) / NR
	ctx.Parallel(colPanels, 1, func(w, lo, hi int) {
		bp := ctx.buf(w, slotPackB, KC*NR)
		tmp := ctx.buf(w, slotTmp, MR*NR)
		for cp := lo; cp < hi; cp++ {
			j0 := cp * NR
			nn := min(NR, n-j0)
			for k0 := 0; k0 < k; k0 += KC {
				k1 := min(k, k0+KC)
				for p := k0; p < k1; p++ {
					d := bp[(p-k0)*NR : (p-k0+1)*NR]
					copy(d, b[p*n+j0:p*n+j0+nn])
					clear(d[nn:])
				}
				gemmPanel(ks, pa, k, k0, k1, bp, c[j0:], ldc, m, nn, tmp)
			}
		}
	})
}

// gemmPanel multiplies every row panel of a (an m x K matrix packed for kernel ks; k-range
// [k0, k1)) by one packed B panel block and adds the result into the column tile starting at
// c (nn valid columns).
func gemmPanel(ks *kernelSpec, a *packing, K, k0, k1 int, bp []float32, c []float32, ldc, m, nn int, tmp []float32) {
	kk := k1 - k0
	MR, NR := ks.mr, ks.nr
	for r := 0; r*MR < m; r++ {
		ap := a.panel(K, r, k0, k1)
		ct := c[r*MR*ldc:]
		mm := min(MR, m-r*MR)
		if mm == MR && nn == NR {
			ks.fn(kk, ap, bp, ct, ldc)
		} else if f := ks.rows[mm]; f != nil && nn == NR {
			f(kk, ap, bp, ct, ldc)
		} else {
			kernelEdge(ks, kk, ap, bp, ct, ldc, mm, nn, tmp)
		}
	}
}
