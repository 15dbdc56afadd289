package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// qkernels lists the integer kernels of this build that this CPU runs.
func qkernels() map[string]qindFn {
	ks := map[string]qindFn{"go": qindGo}
	for _, k := range Kernels() {
		ks[k.String()] = k.s.qind
	}
	return ks
}

// TestQKernels checks every integer kernel against a direct sum, bit for bit, on extreme
// values (the overflow bound's worst case) and random ones, with chunk tails.
func TestQKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, pairs := range []int{1, 31, 32, 33, 100, 594} {
		a := make([]int32, pairs*qMR)
		src := make([]int32, 16*pairs+96)
		offs := make([]int32, pairs)
		for p := range offs {
			offs[p] = int32(rng.IntN(16*pairs + 32))
		}
		for i := range a {
			a[i] = int32(uint32(uint16(rng.IntN(2049)-1024)) | uint32(uint16(rng.IntN(2049)-1024))<<16)
		}
		for i := range src {
			lo, hi := rng.IntN(2*16384+1)-16384, rng.IntN(2*16384+1)-16384
			if i%7 == 0 {
				lo, hi = 16384, -16384
			}
			src[i] = int32(uint32(uint16(lo)) | uint32(uint16(hi))<<16)
		}
		sc := make([]float32, qMR)
		for i := range sc {
			sc[i] = float32(math.Ldexp(1, -20-i))
		}
		base0, base1 := rng.IntN(16), 16+rng.IntN(16)
		want := make([]float32, qMR*40)
		for i := range want {
			want[i] = float32(rng.NormFloat64())
		}
		init := append([]float32(nil), want...)
		for i := 0; i < qMR; i++ {
			for j := 0; j < 32; j++ {
				base, jj := base0, j
				if j >= 16 {
					base, jj = base1, j-16
				}
				s := want[i*40+j]
				for p0 := 0; p0 < pairs; p0 += qChunk {
					var acc int64
					for p := p0; p < min(pairs, p0+qChunk); p++ {
						w, x := a[p*qMR+i], src[base+int(offs[p])+jj]
						acc += int64(int16(w))*int64(int16(x)) + int64(w>>16)*int64(x>>16)
					}
					s += float32(float32(acc) * sc[i])
				}
				want[i*40+j] = s
			}
		}
		for name, f := range qkernels() {
			got := append([]float32(nil), init...)
			f(pairs, a, src, base0, base1, offs, sc, got, 40)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("pairs %d kernel %s: element %d = %v, want %v", pairs, name, i, got[i], want[i])
				}
			}
		}
	}
}

// TestQConv checks the integer path against the float32 convolution (close) and against
// itself across kernels, worker counts and batches (exact).
func TestQConv(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range []ConvShape{{64, 64, 3, 3}, {15, 24, 3, 3}, {12, 64, 5, 5}, {64, 15, 3, 3}, {1, 8, 1, 1}} {
		c := NewConv(s, 1, rng)
		c.Refresh()
		for i := range c.Bias {
			c.Bias[i] = float32(rng.NormFloat64())
		}
		in := NewTensor(s.Cin, 3, 16, 16)
		for i := range in.Data {
			in.Data[i] = float32(rng.NormFloat64()) * float32(1+i%5)
		}
		ref := NewTensor(s.Cout, 3, 16, 16)
		c.Forward(NewCtx(Config{}), in, ref)
		c.SetInteger(true)
		var first *Tensor
		for _, k := range Kernels() {
			for _, w := range []int{1, 2, 3} {
				out := NewTensor(s.Cout, 3, 16, 16)
				c.Forward(NewCtx(Config{Workers: w, Kernel: k}), in, out)
				if first == nil {
					first = out
					rms := 0.0
					for _, v := range ref.Data {
						rms += float64(v) * float64(v)
					}
					rms = math.Sqrt(rms / float64(len(ref.Data)))
					md := 0.0
					for i, v := range out.Data {
						md = math.Max(md, math.Abs(float64(v-ref.Data[i])))
					}
					t.Logf("%v: rms %.4f max error %.5f", s, rms, md)
					for i, v := range out.Data {
						// 14-bit activations and weights: errors of about 1e-4 of the outputs' size
						if d := math.Abs(float64(v - ref.Data[i])); d > 2e-3*rms {
							t.Fatalf("%v: output %d = %v, float32 %v", s, i, v, ref.Data[i])
						}
					}
					continue
				}
				for i, v := range out.Data {
					if math.Float32bits(v) != math.Float32bits(first.Data[i]) {
						t.Fatalf("%v kernel %v workers %d: output %d differs", s, k, w, i)
					}
				}
			}
		}
		// A patch's outputs do not depend on the rest of the batch.
		one := &Tensor{C: s.Cin, B: 1, H: 16, W: 16, Data: make([]float32, s.Cin*256)}
		for ci := 0; ci < s.Cin; ci++ {
			copy(one.Data[ci*256:], in.Data[(ci*3+1)*256:(ci*3+2)*256])
		}
		o1 := NewTensor(s.Cout, 1, 16, 16)
		c.Forward(NewCtx(Config{}), one, o1)
		for co := 0; co < s.Cout; co++ {
			for j := 0; j < 256; j++ {
				if o1.Data[co*256+j] != first.Data[(co*3+1)*256+j] {
					t.Fatalf("%v: patch 1 alone differs at %d,%d", s, co, j)
				}
			}
		}
		// Float32 in the Config gives the float32 path back.
		out := NewTensor(s.Cout, 3, 16, 16)
		c.Forward(NewCtx(Config{Float32: true}), in, out)
		for i := range out.Data {
			if out.Data[i] != ref.Data[i] {
				t.Fatalf("%v: Float32 pass differs from the float32 path", s)
			}
		}
	}
}

// BenchmarkQConv3x3w64 is BenchmarkConv3x3w64's convolution on the integer path against
// float32, one worker, in the same run.
func BenchmarkQConv3x3w64(b *testing.B) {
	s := ConvShape{64, 64, 3, 3}
	rng := rand.New(rand.NewPCG(5, 6))
	c := NewConv(s, 1, rng)
	c.Refresh()
	in := NewTensor(64, 32, 16, 16)
	for i := range in.Data {
		in.Data[i] = float32(rng.NormFloat64())
	}
	out := NewTensor(64, 32, 16, 16)
	flops := float64(2 * s.WeightLen() * in.N())
	for _, k := range Kernels() {
		ctx := NewCtx(Config{Workers: 1, Kernel: k})
		b.Run("float32-"+k.String(), func(b *testing.B) {
			c.q = nil
			for b.Loop() {
				c.Forward(ctx, in, out)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run("int16-"+k.String(), func(b *testing.B) {
			c.SetInteger(true)
			for b.Loop() {
				c.Forward(ctx, in, out)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestQPack checks the activations' quantization (qabsmax, qpack) against the portable
// code, ties, non-finite values and the clamp included.
func TestQPack(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, 2*256)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 3)
		switch i % 29 {
		case 1:
			x[i] = float32(i%7) + 0.5 // ties
		case 2:
			x[i] = -float32(i%7) - 0.5
		case 3:
			x[i] = float32(math.NaN())
		case 4:
			x[i] = float32(math.Inf(1 - 2*(i%2)))
		case 5:
			x[i] = 3e9
		case 6:
			x[i] = 1e-40 // subnormal
		}
	}
	for _, impl := range qpackImpls() {
		for _, n := range []int{16, 256} {
			if got, want := impl.absmax(x[:n]), qabsmaxGo(x[:n]); got != want {
				t.Errorf("%s: qabsmax(%d values) = %#x, want %#x", impl.name, n, got, want)
			}
		}
		for _, sc := range []float32{1, 1024, 0.25, 1 << 20} {
			got, want := make([]int32, 16*20), make([]int32, 16*20)
			impl.pack(x[:256], x[256:], got, 16, 20, sc)
			qpackGo(x[:256], x[256:], want, 16, 20, sc)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s, scale %v: word %d = %#x, want %#x", impl.name, sc, i, got[i], want[i])
				}
			}
		}
	}
}
