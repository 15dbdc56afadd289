package vae

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bitswap-codec/bitswap/vae/nn"
)

// TestParallelPass checks that a data-parallel pass gives the gradient of the whole batch:
// the parts' gradients, each from a pass over its patches alone with the noise the part
// draws, weighted by the part's share of the batch, on a model with every input and output
// of the default architecture.
func TestParallelPass(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Layers, cfg.ZC, cfg.Width = 2, 2, 6
	cfg.BlocksInf, cfg.BlocksGen = []int{1, 0}, []int{1, 1}
	m := tinyModelOf(t, cfg).WithEngine(nn.Config{Workers: 1})
	bt := randomBatch(5, 8)
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range bt.Ctx.Pix {
		bt.Ctx.Pix[i] = uint8(rng.IntN(256))
	}
	for b := range bt.Ctx.Has {
		bt.Ctx.Has[b] = uint8(b % 4)
	}
	for _, n := range []int{2, 3} {
		// The reference: each part alone, with the generator the parallel pass gives it.
		seeds := rand.New(rand.NewPCG(uint64(n), 1))
		_, grads := m.Params()
		want := make([][]float64, len(grads))
		for i, g := range grads {
			want[i] = make([]float64, len(g))
		}
		wantBPD, lo := 0.0, 0
		for i := 0; i < n; i++ {
			hi := bt.B * (i + 1) / n
			part := bt.slice(nil, lo, hi)
			st := m.NewPass().Gradients(part, rand.New(rand.NewPCG(seeds.Uint64(), seeds.Uint64())))
			w := float64(hi-lo) / float64(bt.B)
			wantBPD += w * st.BPD
			for j, g := range grads {
				for k, v := range g {
					want[j][k] += w * float64(v)
				}
			}
			lo = hi
		}
		st := m.NewParallelPass(n).Gradients(bt, rand.New(rand.NewPCG(uint64(n), 1)))
		if math.Abs(st.BPD-wantBPD) > 1e-9*wantBPD {
			t.Errorf("%d parts: -ELBO %v, want %v", n, st.BPD, wantBPD)
		}
		worst, scale := 0.0, 0.0
		for j, g := range grads {
			for k, v := range g {
				worst = math.Max(worst, math.Abs(float64(v)-want[j][k]))
				scale = math.Max(scale, math.Abs(want[j][k]))
			}
		}
		if scale == 0 || worst > 1e-5*scale {
			t.Errorf("%d parts: gradients differ by up to %g (largest %g)", n, worst, scale)
		}
	}
}
