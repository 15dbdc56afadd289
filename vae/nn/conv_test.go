package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randTensor(rng *rand.Rand, c, b, h, w int) *Tensor {
	t := NewTensor(c, b, h, w)
	for i := range t.Data {
		t.Data[i] = float32(rng.NormFloat64())
	}
	return t
}

// refConv is the direct convolution in the engine's summation order (bias, then taps in
// (ci, kh, kw) order), in float32.
func refConv(s ConvShape, in *Tensor, w, bias []float32) *Tensor {
	out := NewTensor(s.Cout, in.B, in.H, in.W)
	ph, pw := s.KH/2, s.KW/2
	for co := 0; co < s.Cout; co++ {
		for b := 0; b < in.B; b++ {
			for y := 0; y < in.H; y++ {
				for x := 0; x < in.W; x++ {
					acc := bias[co]
					for ci := 0; ci < s.Cin; ci++ {
						for i := 0; i < s.KH; i++ {
							for j := 0; j < s.KW; j++ {
								yy, xx := y+i-ph, x+j-pw
								v := float32(0)
								if yy >= 0 && yy < in.H && xx >= 0 && xx < in.W {
									v = in.Data[((ci*in.B+b)*in.H+yy)*in.W+xx]
								}
								acc += float32(w[((co*s.Cin+ci)*s.KH+i)*s.KW+j] * v)
							}
						}
					}
					out.Data[((co*in.B+b)*in.H+y)*in.W+x] = acc
				}
			}
		}
	}
	return out
}

var convCases = []struct {
	s       ConvShape
	b, h, w int
	name    string
}{
	{ConvShape{3, 5, 3, 3}, 2, 16, 16, "3x3 16x16"},
	{ConvShape{4, 7, 5, 5}, 3, 16, 16, "5x5 16x16"},
	{ConvShape{2, 3, 3, 3}, 2, 5, 7, "3x3 5x7 (generic packing)"},
	{ConvShape{13, 17, 1, 1}, 1, 4, 32, "1x1"},
	{ConvShape{70, 9, 3, 3}, 1, 16, 16, "K > KC"},
	{ConvShape{5, 20, 3, 3}, 2, 16, 16, "Cout 20 (8-row remainder)"},
	{ConvShape{3, 13, 5, 5}, 1, 5, 16, "16 wide, odd row count"},
	{ConvShape{7, 64, 1, 1}, 1, 16, 16, "Cout 64 (4-row remainder)"},
}

func TestConvForwardBitExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, tc := range convCases {
		in := randTensor(rng, tc.s.Cin, tc.b, tc.h, tc.w)
		w := randSlice(rng, tc.s.WeightLen())
		bias := randSlice(rng, tc.s.Cout)
		want := refConv(tc.s, in, w, bias)
		var p PackedA
		PackForward(tc.s, w, &p)
		for _, kn := range Kernels() {
			for _, workers := range []int{1, 2, 5} {
				out := NewTensor(tc.s.Cout, tc.b, tc.h, tc.w)
				ctx := NewCtx(Config{Workers: workers, Kernel: kn})
				ConvForward(ctx, tc.s, in, &p, bias, out)
				for i := range out.Data {
					if math.Float32bits(out.Data[i]) != math.Float32bits(want.Data[i]) {
						t.Fatalf("%s kernel=%s workers=%d: out[%d] = %v, want %v", tc.name, kn, workers, i, out.Data[i], want.Data[i])
					}
				}
			}
		}
	}
}

// TestConvBatchInvariance: a patch's output does not depend on what else is in the batch.
func TestConvBatchInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	s := ConvShape{8, 12, 3, 3}
	w := randSlice(rng, s.WeightLen())
	bias := randSlice(rng, s.Cout)
	var p PackedA
	PackForward(s, w, &p)
	big := randTensor(rng, s.Cin, 7, 16, 16)
	outBig := NewTensor(s.Cout, 7, 16, 16)
	var ctx Ctx
	ConvForward(&ctx, s, big, &p, bias, outBig)
	for b := 0; b < 7; b++ {
		one := NewTensor(s.Cin, 1, 16, 16)
		for c := 0; c < s.Cin; c++ {
			copy(one.Chan(c), big.Chan(c)[b*256:(b+1)*256])
		}
		out := NewTensor(s.Cout, 1, 16, 16)
		ConvForward(&ctx, s, one, &p, bias, out)
		for c := 0; c < s.Cout; c++ {
			got, want := out.Chan(c), outBig.Chan(c)[b*256:(b+1)*256]
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("patch %d channel %d differs alone vs in a batch of 7", b, c)
				}
			}
		}
	}
}

// Backward passes against float64 references: dIn = conv^T(dOut), dW = sum dOut * im2col,
// with every kernel (the avx512 kernel's weight gradient takes the direct path on 16-pixel
// rows, the others pack panels).
func TestConvBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, tc := range convCases {
		s := tc.s
		in := randTensor(rng, s.Cin, tc.b, tc.h, tc.w)
		dout := randTensor(rng, s.Cout, tc.b, tc.h, tc.w)
		w := randSlice(rng, s.WeightLen())
		ph, pw := s.KH/2, s.KW/2
		wantDin := make([]float64, in.Len())
		wantDw := make([]float64, s.WeightLen())
		wantDb := make([]float64, s.Cout)
		for co := 0; co < s.Cout; co++ {
			for b := 0; b < tc.b; b++ {
				for y := 0; y < tc.h; y++ {
					for x := 0; x < tc.w; x++ {
						g := float64(dout.Data[((co*tc.b+b)*tc.h+y)*tc.w+x])
						wantDb[co] += g
						for ci := 0; ci < s.Cin; ci++ {
							for i := 0; i < s.KH; i++ {
								for j := 0; j < s.KW; j++ {
									yy, xx := y+i-ph, x+j-pw
									if yy < 0 || yy >= tc.h || xx < 0 || xx >= tc.w {
										continue
									}
									ii := ((ci*tc.b+b)*tc.h+yy)*tc.w + xx
									wi := ((co*s.Cin+ci)*s.KH+i)*s.KW + j
									wantDin[ii] += g * float64(w[wi])
									wantDw[wi] += g * float64(in.Data[ii])
								}
							}
						}
					}
				}
			}
		}
		var pb PackedA
		PackBackwardData(s, w, &pb)
		for _, kn := range Kernels() {
			for _, workers := range []int{1, 2} {
				din := NewTensor(s.Cin, tc.b, tc.h, tc.w)
				dw := make([]float32, s.WeightLen())
				db := make([]float32, s.Cout)
				ctx := NewCtx(Config{Workers: workers, Kernel: kn})
				ConvBackwardData(ctx, s, dout, &pb, din)
				ConvBackwardWeights(ctx, s, in, dout, dw, db)
				check := func(what string, got []float32, want []float64) {
					for i := range got {
						if d := math.Abs(float64(got[i]) - want[i]); d > 1e-3*math.Max(1, math.Abs(want[i])) {
							t.Fatalf("%s kernel=%s workers=%d: %s[%d] = %v, want %v", tc.name, kn, workers, what, i, got[i], want[i])
						}
					}
				}
				check("din", din.Data, wantDin)
				check("dw", dw, wantDw)
				check("dbias", db, wantDb)
			}
		}
	}
}

// TestConcurrentCtxs: passes with different Configs (kernels of both tile heights, worker
// counts) run at once over the same packed weights and give the reference bits.
func TestConcurrentCtxs(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	s := ConvShape{20, 28, 3, 3}
	in := randTensor(rng, s.Cin, 3, 16, 16)
	w := randSlice(rng, s.WeightLen())
	bias := randSlice(rng, s.Cout)
	want := refConv(s, in, w, bias)
	var p PackedA
	PackForward(s, w, &p)
	var cfgs []Config
	for _, kn := range Kernels() {
		for _, workers := range []int{0, 1, 3} {
			cfgs = append(cfgs, Config{Workers: workers, Kernel: kn})
		}
	}
	errs := make(chan string, len(cfgs))
	for _, cfg := range cfgs {
		go func() {
			ctx := NewCtx(cfg)
			out := NewTensor(s.Cout, in.B, in.H, in.W)
			for range 3 {
				ConvForward(ctx, s, in, &p, bias, out)
				for i := range out.Data {
					if math.Float32bits(out.Data[i]) != math.Float32bits(want.Data[i]) {
						errs <- fmt.Sprintf("kernel %s, workers %d: out[%d] = %v, want %v", cfg.Kernel, ctx.Workers(), i, out.Data[i], want.Data[i])
						return
					}
				}
			}
			errs <- ""
		}()
	}
	for range cfgs {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}

func TestConfig(t *testing.T) {
	var ctx Ctx
	if ctx.Workers() != DefaultWorkers() || ctx.Kernel() != BestKernel() {
		t.Fatalf("zero Ctx: %d workers, kernel %s", ctx.Workers(), ctx.Kernel())
	}
	ks := Kernels()
	if len(ks) == 0 || ks[len(ks)-1] != BestKernel() || ks[0].String() != "go" {
		t.Fatalf("kernels %v, best %s", ks, BestKernel())
	}
	for _, k := range ks {
		if got, err := LookupKernel(k.String()); err != nil || got != k {
			t.Fatalf("LookupKernel(%s) = %v, %v", k, got, err)
		}
	}
	if _, err := LookupKernel("sse9"); err == nil {
		t.Fatal("LookupKernel of an unknown name succeeds")
	}
	ctx.Configure(Config{Workers: 3, Kernel: ks[0]})
	if ctx.Workers() != 3 || ctx.Kernel() != ks[0] || ctx.Config().Workers != 3 {
		t.Fatalf("configured: %d workers, kernel %s", ctx.Workers(), ctx.Kernel())
	}
	seen := make([]bool, 3)
	ctx.Parallel(100, 1, func(w, lo, hi int) { seen[w] = true })
	if !seen[0] || !seen[1] || !seen[2] {
		t.Fatalf("workers used: %v", seen)
	}
}
