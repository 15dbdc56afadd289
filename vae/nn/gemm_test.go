package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// refGemm is the obvious triple loop with the engine's summation order.
func refGemm(a []float32, m, k int, b []float32, n int, c []float32) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := c[i*n+j]
			for p := 0; p < k; p++ {
				s += float32(a[i*k+p] * b[p*n+j])
			}
			c[i*n+j] = s
		}
	}
}

func TestGemmMatchesReferenceBitForBit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, sz := range [][3]int{{1, 1, 1}, {6, 16, 5}, {7, 17, 3}, {13, 40, 100}, {64, 256, 576}, {5, 33, 1700}, {12, 48, 0}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, b := randSlice(rng, m*k), randSlice(rng, k*n)
		c0 := randSlice(rng, m*n)
		want := append([]float32(nil), c0...)
		refGemm(a, m, k, b, n, want)
		var pa PackedA
		pa.Pack(a, m, k)
		for _, kn := range Kernels() {
			for _, workers := range []int{1, 2, 3} {
				got := append([]float32(nil), c0...)
				Gemm(NewCtx(Config{Workers: workers, Kernel: kn}), &pa, b, n, got, n)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("m,n,k=%v kernel=%s workers=%d: element %d = %v, want %v", sz, kn, workers, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestGemmAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	m, n, k := 30, 50, 700
	a, b := randSlice(rng, m*k), randSlice(rng, k*n)
	c := make([]float32, m*n)
	var pa PackedA
	pa.Pack(a, m, k)
	var ctx Ctx
	Gemm(&ctx, &pa, b, n, c, n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for p := 0; p < k; p++ {
				s += float64(a[i*k+p]) * float64(b[p*n+j])
			}
			if math.Abs(s-float64(c[i*n+j])) > 1e-3 {
				t.Fatalf("C[%d][%d] = %v, float64 says %v", i, j, c[i*n+j], s)
			}
		}
	}
}
