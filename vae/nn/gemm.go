package nn

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

// The tile shape depends on the kernel in use: 6x16 for AVX2 (and the portable kernel that
// stands in for it), 12x32 for AVX-512. The shape changes how the work is cut, never the
// order of any sum, so every kernel gives the same bits.
var (
	MR = 6  // rows of a register tile
	NR = 16 // columns of a register tile
)

const (
	maxMR = 12
	KC    = 512 // k-block length
)

// kernel is the micro-kernel in use; see UseKernel.
var kernel = kernelGo

// kernelGo is the portable micro-kernel, for any MR x NR tile (NR a multiple of 4).
func kernelGo(k int, a, b, c []float32, ldc int) {
	if k == 0 {
		return
	}
	MR, NR := MR, NR
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

// kernelEdge runs the kernel for a partial tile (m <= MR rows, n <= NR columns) through a
// temporary full tile.
func kernelEdge(k int, a, b, c []float32, ldc, m, n int, tmp []float32) {
	MR, NR := MR, NR
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
	kernel(k, a, b, tmp, NR)
	for i := 0; i < m; i++ {
		copy(c[i*ldc:i*ldc+n], tmp[i*NR:i*NR+n])
	}
}

// PackedA is a matrix A[M][K] packed into MR-row panels, zero padded to a multiple of MR rows.
// Panel r occupies Data[r*K*MR : (r+1)*K*MR] with element (i, k) at k*MR+i. It keeps the
// row-major source so that it can repack itself when the kernel (and so MR) changes.
type PackedA struct {
	M, K int
	Data []float32
	src  []float32
	mr   int
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
	m, k, MR := p.M, p.K, MR
	panels := (m + MR - 1) / MR
	n := panels * MR * k
	if cap(p.Data) < n {
		p.Data = make([]float32, n)
	}
	p.Data = p.Data[:n]
	p.mr = MR
	for r := 0; r < panels; r++ {
		d := p.Data[r*k*MR : (r+1)*k*MR]
		for i := 0; i < MR; i++ {
			row := r*MR + i
			if row >= m {
				for kk := 0; kk < k; kk++ {
					d[kk*MR+i] = 0
				}
				continue
			}
			src := p.src[row*k : (row+1)*k]
			for kk, v := range src {
				d[kk*MR+i] = v
			}
		}
	}
}

// ready repacks p if the kernel changed since it was packed.
func (p *PackedA) ready() {
	if p.mr != MR {
		p.repack()
	}
}

// panel returns the k-range [k0, k1) of row panel r.
func (p *PackedA) panel(r, k0, k1 int) []float32 {
	base := r * p.K * MR
	return p.Data[base+k0*MR : base+k1*MR]
}

// Gemm computes C += A*B for a packed A (M x K) and a row-major B (K x N), C row-major M x N
// with row stride ldc. It is the plain matrix form of the engine's GEMM, used by tests and
// benchmarks; the convolutions pack B themselves.
func Gemm(ctx *Ctx, a *PackedA, b []float32, n int, c []float32, ldc int) {
	ctx.grow()
	a.ready()
	m, k := a.M, a.K
	NR := NR
	colPanels := (n + NR - 1) / NR
	parallel(colPanels, 1, func(w, lo, hi int) {
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
				gemmPanel(a, k0, k1, bp, c[j0:], ldc, m, nn, tmp)
			}
		}
	})
}

// gemmPanel multiplies every row panel of a (k-range [k0, k1)) by one packed B panel block
// and adds the result into the column tile starting at c (nn valid columns).
func gemmPanel(a *PackedA, k0, k1 int, bp []float32, c []float32, ldc, m, nn int, tmp []float32) {
	kk := k1 - k0
	MR, NR := MR, NR
	for r := 0; r*MR < m; r++ {
		ap := a.panel(r, k0, k1)
		ct := c[r*MR*ldc:]
		mm := min(MR, m-r*MR)
		if mm == MR && nn == NR {
			kernel(kk, ap, bp, ct, ldc)
		} else if f := rowKernels[mm]; f != nil && nn == NR {
			f(kk, ap, bp, ct, ldc)
		} else {
			kernelEdge(kk, ap, bp, ct, ldc, mm, nn, tmp)
		}
	}
}
