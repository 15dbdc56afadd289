package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"math/rand/v2"
	"testing"
)

func benchGemm(b *testing.B, m, k, n int, kn string) {
	rng := rand.New(rand.NewPCG(1, 1))
	a, bb := randSlice(rng, m*k), randSlice(rng, k*n)
	c := make([]float32, m*n)
	var pa PackedA
	pa.Pack(a, m, k)
	kern, err := LookupKernel(kn)
	if err != nil {
		b.Skip(err)
	}
	ctx := NewCtx(Config{Kernel: kern})
	Gemm(ctx, &pa, bb, n, c, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Gemm(ctx, &pa, bb, n, c, n)
	}
	b.ReportMetric(float64(2*m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkGemm64x576x4096AVX512(b *testing.B) { benchGemm(b, 64, 576, 4096, "avx512") }
func BenchmarkGemm64x576x4096AVX2(b *testing.B)   { benchGemm(b, 64, 576, 4096, "avx2") }
func BenchmarkGemm64x576x4096Go(b *testing.B)     { benchGemm(b, 64, 576, 4096, "go") }

func benchConv(b *testing.B, pass string) {
	rng := rand.New(rand.NewPCG(1, 1))
	s := ConvShape{64, 64, 3, 3}
	batch := 32
	in := randTensor(rng, 64, batch, 16, 16)
	dout := randTensor(rng, 64, batch, 16, 16)
	out := NewTensor(64, batch, 16, 16)
	w := randSlice(rng, s.WeightLen())
	var pf, pb PackedA
	PackForward(s, w, &pf)
	PackBackwardData(s, w, &pb)
	dw := make([]float32, s.WeightLen())
	var ctx Ctx
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		switch pass {
		case "fwd":
			ConvForward(&ctx, s, in, &pf, nil, out)
		case "bwdData":
			ConvBackwardData(&ctx, s, dout, &pb, out)
		case "bwdWeights":
			ConvBackwardWeights(&ctx, s, in, dout, dw, nil)
		}
	}
	b.ReportMetric(float64(2*64*576*batch*256)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkConv3x3w64Forward(b *testing.B)         { benchConv(b, "fwd") }
func BenchmarkConv3x3w64BackwardData(b *testing.B)    { benchConv(b, "bwdData") }
func BenchmarkConv3x3w64BackwardWeights(b *testing.B) { benchConv(b, "bwdWeights") }

// BenchmarkGemmGonum is the same product with gonum's pure-Go sgemm, for comparison in the
// same run.
func BenchmarkGemm64x576x4096Gonum(b *testing.B) {
	m, k, n := 64, 576, 4096
	rng := rand.New(rand.NewPCG(1, 1))
	a, bb := randSlice(rng, m*k), randSlice(rng, k*n)
	c := make([]float32, m*n)
	A := blas32.General{Rows: m, Cols: k, Stride: k, Data: a}
	B := blas32.General{Rows: k, Cols: n, Stride: n, Data: bb}
	C := blas32.General{Rows: m, Cols: n, Stride: n, Data: c}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, A, B, 1, C)
	}
	b.ReportMetric(float64(2*m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
