package vae

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bitswap-codec/bitswap/internal/dmath"
	"github.com/bitswap-codec/bitswap/vae/nn"
)

func tinyConfig(stages int) Config {
	return Config{Layers: 2, ZC: 2, Width: 6, BlocksInf: []int{1, 0}, BlocksGen: []int{1, 1}, InKernel: 3, PixelStages: stages, StageBlocks: 1, StageSkip: true, StageHints: isCoarse(stages), EdgeHints: isCoarse(stages)}
}

func tinyModel(t *testing.T, stages int) *Model { return tinyModelOf(t, tinyConfig(stages)) }

func tinyModelOf(t *testing.T, cfg Config) *Model {
	m, err := New(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	// The skip paths start as exact interpolations with near-zero rows; give every weight a
	// size that central differences can resolve.
	srng := rand.New(rand.NewPCG(9, 9))
	for _, c := range m.Skip {
		for i := range c.V {
			c.V[i] += float32(srng.NormFloat64() * 0.2)
		}
	}
	// Non-trivial gains so that every path carries gradient.
	for _, c := range m.Convs() {
		for i := range c.G {
			c.G[i] = 0.7
		}
		for i := range c.Bias {
			c.Bias[i] = 0.05 * float32(i%3)
		}
	}
	m.Refresh()
	return m
}

func randomBatch(b int, seed uint64) *Batch {
	rng := rand.New(rand.NewPCG(seed, 1))
	bt := NewBatch(b)
	for i := range bt.X {
		bt.X[i] = uint8(rng.IntN(256))
	}
	// Some saturated values to exercise the edge bins.
	bt.X[0], bt.X[1], bt.X[2000] = 0, 255, 255
	return bt
}

func (m *Model) lossAt(bt *Batch, seed uint64) float64 {
	return m.NewPass().Loss(bt, rand.New(rand.NewPCG(seed, 2))).BPD
}

// TestGradientFiniteDifference checks the analytic gradient of -ELBO against central
// differences (loss summed in float64) for parameters of every convolution.
func TestGradientFiniteDifference(t *testing.T) {
	for _, stages := range []int{4, CoarseStages, PyramidStages, SplitStages, DeepStages} {
		t.Run(fmt.Sprintf("stages%d", stages), func(t *testing.T) { testGradient(t, tinyModel(t, stages), randomBatch(2, 3)) })
	}
	for _, mix := range []bool{false, true} {
		t.Run(fmt.Sprintf("context,mixture=%v", mix), func(t *testing.T) {
			cfg := tinyConfig(DeepStages)
			cfg.PosChannels, cfg.Context, cfg.Mixture = true, true, mix
			testGradient(t, tinyModelOf(t, cfg), contextBatch())
		})
	}
	t.Run("anchors", func(t *testing.T) {
		cfg := tinyConfig(DeepStages)
		cfg.PosChannels, cfg.Context, cfg.Mixture, cfg.Anchors = true, true, true, true
		testGradient(t, tinyModelOf(t, cfg), runsBatch())
	})
	t.Run("anchors,repeated chroma", func(t *testing.T) {
		cfg := tinyConfig(DeepStages)
		cfg.PosChannels, cfg.Context, cfg.Mixture, cfg.Anchors = true, true, true, true
		bt := runsBatch()
		bt.Ctx.Has[0] |= RepX | RepY
		bt.Ctx.Has[1] |= ChromaKnown
		testGradient(t, tinyModelOf(t, cfg), bt)
	})
}

// TestRepeatedChromaLeftOut: chroma repetition flags lower exactly the terms of the stages
// whose sub-position holds copied chroma (chromaCopy), and leave the others' alone;
// ChromaKnown lowers every stage's.
func TestRepeatedChromaLeftOut(t *testing.T) {
	cfg := tinyConfig(DeepStages)
	cfg.PosChannels, cfg.Context, cfg.Mixture, cfg.Anchors = true, true, true, true
	m := tinyModelOf(t, cfg)
	for _, rep := range []uint8{RepX, RepY, RepX | RepY, ChromaKnown} {
		bt := runsBatch()
		base := m.NewPass().Loss(bt, rand.New(rand.NewPCG(11, 2)))
		bt.Ctx.Has[0] |= rep
		bt.Ctx.Has[1] |= rep
		cut := m.NewPass().Loss(bt, rand.New(rand.NewPCG(11, 2)))
		for s, v := range cut.RecStages {
			k := StageGroups(DeepStages, s)[0]
			left := chromaCopy(rep, k) || rep&ChromaKnown != 0
			if left != (v < base.RecStages[s]) || v > base.RecStages[s] {
				t.Errorf("flags %d, stage %d (sub-position %d): %.6f bits, %.6f without the flags", rep, s, k, v, base.RecStages[s])
			}
		}
	}
}

// runsBatch is contextBatch with content that repeats down the columns (runs of 1-6
// equal pixels, a quarter of the columns noisy), so that the anchor components' responsibilities are far
// from 0 and 1.
func runsBatch() *Batch {
	bt := contextBatch()
	rng := rand.New(rand.NewPCG(6, 6))
	for b := 0; b < bt.B; b++ {
		for x := 0; x < PatchSize; x++ {
			noisy := rng.IntN(4) == 0
			var v [3]uint8
			for y, run := 0, 0; y < PatchSize; y++ {
				if run == 0 {
					run = 1 + rng.IntN(6)
					for c := range v {
						v[c] = uint8(rng.IntN(256))
					}
				}
				run--
				for c := 0; c < 3; c++ {
					p := v[c]
					if noisy {
						p += uint8(rng.IntN(3))
					}
					bt.Plane(c, b)[y*PatchSize+x] = p
				}
			}
		}
	}
	return bt
}

// contextBatch is a random batch of two patches with random context (both sides there for
// one, the left one only for the other).
func contextBatch() *Batch {
	bt := randomBatch(2, 3)
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range bt.Ctx.Pix {
		bt.Ctx.Pix[i] = uint8(rng.IntN(256))
	}
	bt.Ctx.Has[0], bt.Ctx.Has[1] = CtxUp|CtxLeft, CtxLeft
	return bt
}

func testGradient(t *testing.T, m *Model, bt *Batch) {
	m.NewPass().Gradients(bt, rand.New(rand.NewPCG(11, 2)))
	rng := rand.New(rand.NewPCG(5, 5))
	checked, bad := 0, 0
	for ci, c := range m.Convs() {
		params, grads := c.Params()
		for pi, p := range params {
			for trial := 0; trial < 3; trial++ {
				j := rng.IntN(len(p))
				orig := p[j]
				h := float32(3e-3) * float32(math.Max(1, math.Abs(float64(orig))))
				p[j] = orig + h
				m.Refresh()
				lp := m.lossAt(bt, 11)
				p[j] = orig - h
				m.Refresh()
				lm := m.lossAt(bt, 11)
				p[j] = orig
				m.Refresh()
				num := (lp - lm) / (2 * float64(h))
				ana := float64(grads[pi][j])
				checked++
				if testing.Verbose() && trial == 0 {
					t.Logf("conv %d param %d[%d]: analytic %.6g numeric %.6g", ci, pi, j, ana, num)
				}
				if math.Abs(num-ana) > 2e-3*math.Max(math.Abs(num), math.Abs(ana))+2e-5 {
					bad++
					t.Errorf("conv %d param %d[%d]: analytic %.6g, numeric %.6g", ci, pi, j, ana, num)
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d gradient checks failed", bad, checked)
	}
}

func TestDiscLogisticGradient(t *testing.T) {
	for _, tc := range []struct {
		xi     int
		mu, ls float64
	}{{0, -0.9, -3}, {255, 0.95, -2}, {128, 0.01, -4}, {10, 0.9, -6.5}, {200, -1, -5}, {77, 0.3, 0.5}} {
		xv := float64(tc.xi)/127.5 - 1
		_, dmu, dls := discLogistic(tc.xi, xv, tc.mu, tc.ls)
		const h = 1e-6
		lp1, _, _ := discLogistic(tc.xi, xv, tc.mu+h, tc.ls)
		lp0, _, _ := discLogistic(tc.xi, xv, tc.mu-h, tc.ls)
		if num := (lp1 - lp0) / (2 * h); math.Abs(num-dmu) > 1e-4*math.Max(1, math.Abs(num)) {
			t.Errorf("%+v: dmu %v, numeric %v", tc, dmu, num)
		}
		lp1, _, _ = discLogistic(tc.xi, xv, tc.mu, tc.ls+h)
		lp0, _, _ = discLogistic(tc.xi, xv, tc.mu, tc.ls-h)
		if num := (lp1 - lp0) / (2 * h); math.Abs(num-dls) > 1e-4*math.Max(1, math.Abs(num)) {
			t.Errorf("%+v: dls %v, numeric %v", tc, dls, num)
		}
	}
	// The 256 probabilities sum to 1.
	sum := 0.0
	for x := 0; x < 256; x++ {
		lp, _, _ := discLogistic(x, float64(x)/127.5-1, 0.2, -3)
		sum += math.Exp(lp)
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Fatalf("probabilities sum to %v", sum)
	}
}

// TestSkipInterpolates: the stage skips start as interpolators: on a linear ramp, the mean
// each one predicts for an interior pixel of its stage equals the pixel's value.
func TestSkipInterpolates(t *testing.T) {
	for _, stages := range []int{4, CoarseStages, PyramidStages, SplitStages, DeepStages} {
		cfg := DefaultConfig()
		cfg.PixelStages = stages
		cfg.StageHints = isCoarse(stages)
		cfg.EdgeHints = isCoarse(stages)
		cfg.PosChannels = isCoarse(stages)
		cfg.Context = isCoarse(stages)
		cfg.Mixture = isCoarse(stages)
		cfg.Anchors = isCoarse(stages)
		cfg.PatchStats = isCoarse(stages)
		cfg.ErrorMaps = isCoarse(stages)
		cfg.CtxScales = isCoarse(stages)
		if !isCoarse(stages) {
			cfg.FineBlocks = 0
		}
		t.Run(fmt.Sprintf("stages%d", stages), func(t *testing.T) { testSkip(t, cfg) })
	}
}

func testSkip(t *testing.T, cfg Config) {
	m, err := New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	S := cfg.PixelStages
	bt := NewBatch(1)
	for c := 0; c < 3; c++ {
		pl := bt.Plane(c, 0)
		for y := 0; y < PatchSize; y++ {
			for x := 0; x < PatchSize; x++ {
				pl[y*PatchSize+x] = uint8(40 + 3*x + 2*y + 10*c)
			}
		}
	}
	xs := squeezedPatch(bt)
	feat := nn.NewTensor(m.Cfg.Width, 1, LatentHW, LatentHW)
	var ctx nn.Ctx
	checked := 0
	for s := 1; s < S; s++ {
		var in nn.Tensor
		m.stageInput(s, feat, xs, &in, nil)
		out := nn.NewTensor(m.Cfg.stageParams(), 1, LatentHW, LatentHW)
		m.Skip[s-1].Forward(&ctx, knownView(&in, feat.C, new(nn.Tensor)), out)
		k := StageGroups(S, s)[0]
		for c := 0; c < 3; c++ {
			for y := 1; y < LatentHW-1; y++ {
				for x := 1; x < LatentHW-1; x++ {
					if !InStage(StageParity(S, s), y*LatentHW+x) {
						continue
					}
					inside := true
					for _, tp := range m.skipTaps(s)[0] {
						inside = inside && uint(y+tp[1]) < LatentHW && uint(x+tp[2]) < LatentHW
					}
					if !inside {
						continue // the skips interpolate from the taps inside the patch only
					}
					checked++
					// the mean with the channel conditioning (PixelLogistic)
					o := y*16 + x
					px := func(c int) float32 { return xs.Data[(4*c+k)*256+o] }
					got := out.Data[c*256+o]
					switch c {
					case 1:
						got += float32(math.Tanh(float64(out.Data[6*256+o]))) * px(0)
					case 2:
						got += float32(math.Tanh(float64(out.Data[7*256+o])))*px(0) + float32(math.Tanh(float64(out.Data[8*256+o])))*px(1)
					}
					want := px(c)
					if math.Abs(float64(got-want)) > 1e-5 {
						t.Fatalf("stage %d colour %d at (%d,%d): skip predicts %v, pixel is %v", s, c, y, x, got, want)
					}
				}
			}
		}
	}
	if want := 3 * 14 * 14 * 3; S == 4 && checked != want || isCoarse(S) && checked < want {
		t.Fatalf("checked %d predictions", checked)
	}
}

// TestLogLogistic: the one-exponential form equals log of the logistic density and its
// derivative -tanh(u/2).
func TestLogLogistic(t *testing.T) {
	for _, u := range []float64{-40, -5, -0.3, 0, 1e-9, 0.7, 6, 50} {
		lf, d := logLogistic(u)
		e := math.Exp(-math.Abs(u))
		want := math.Log(e / ((1 + e) * (1 + e)))
		if math.Abs(lf-want) > 1e-12*math.Max(1, math.Abs(want)) || math.Abs(d+math.Tanh(u/2)) > 1e-12 {
			t.Fatalf("u=%v: log f %v (want %v), derivative %v (want %v)", u, lf, want, d, -math.Tanh(u/2))
		}
	}
}

// TestStageHints: on a flat patch every interpolation hint (plain and edge-directed) is the
// flat value and every activity is at its floor (or noActivity without an opposite pair); on
// a patch with a stripe the activity rises next to it.
func TestStageHints(t *testing.T) {
	m, err := New(DefaultConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	S := m.Cfg.PixelStages
	xs := nn.NewTensor(12, 1, LatentHW, LatentHW)
	for i := range xs.Data {
		xs.Data[i] = 0.25
	}
	feat := nn.NewTensor(m.Cfg.Width, 1, LatentHW, LatentHW)
	floor := float32(dmath.Log(activityFloor))
	none := float32(dmath.Log(noActivity + activityFloor))
	for s := 1; s < S; s++ {
		var in nn.Tensor
		m.stageInput(s, feat, xs, &in, nil)
		h := in.Data[(feat.C+coarseKnown)*hw:]
		for pos := 0; pos < hw; pos++ {
			if !InStage(StageParity(S, s), pos) {
				continue
			}
			for _, c := range []int{0, 1, 2, 4, 5, 6} {
				if h[c*hw+pos] != 0.25 {
					t.Fatalf("stage %d pos %d: hint channel %d is %v, want 0.25", s, pos, c, h[c*hw+pos])
				}
			}
			for _, c := range []int{3, 7, 8, 9} {
				if a := h[c*hw+pos]; a != floor && a != none {
					t.Fatalf("stage %d pos %d: activity channel %d is %v on a flat patch", s, pos, c, a)
				}
			}
		}
	}
	// A bright column in the top-left pixels: the last stage's pixels next to it see it.
	for y := 0; y < LatentHW; y++ {
		xs.Data[y*LatentHW+8] = 1 // red, sub-position 0, x = 8
	}
	var in nn.Tensor
	m.stageInput(S-1, feat, xs, &in, nil) // sub-position 2: (0,0) above and below, (1,1) left and right
	h := in.Data[(feat.C+coarseKnown)*hw:]
	if a, b := h[3*hw+5*LatentHW+8], h[3*hw+5*LatentHW+3]; !(a == floor && b == floor) {
		// above and below are both bright at x = 8: their difference is 0 there too
		t.Fatalf("activity %v at the stripe, %v away from it; want the floor %v", a, b, floor)
	}
	m.stageInput(S-2, feat, xs, &in, nil) // sub-position 1: (0,0) left and right
	h = in.Data[(feat.C+coarseKnown)*hw:]
	if a, b := h[3*hw+5*LatentHW+8], h[3*hw+5*LatentHW+3]; !(a > floor && b == floor) {
		t.Fatalf("activity %v next to the stripe, %v away from it", a, b)
	}
}

// TestEdgeHints: on a patch that is constant down every column (vertical grain) with
// different columns, the edge-directed interpolation of the stages with vertical neighbours
// is (nearly) the pixel itself where the plain interpolation is far off, and the vertical
// pair's activity is at the floor.
func TestEdgeHints(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PixelStages = SplitStages
	m, err := New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	S := m.Cfg.PixelStages
	bt := NewBatch(1)
	for c := 0; c < 3; c++ {
		pl := bt.Plane(c, 0)
		for y := 0; y < PatchSize; y++ {
			for x := 0; x < PatchSize; x++ {
				pl[y*PatchSize+x] = uint8((x*97 + c*31) % 251)
			}
		}
	}
	xs := squeezedPatch(bt)
	feat := nn.NewTensor(m.Cfg.Width, 1, LatentHW, LatentHW)
	floor := float32(dmath.Log(activityFloor))
	// checkEdge checks stage s's hints for sub-position k on rows y0, y0+dy, ... (columns 1
	// to 14) and returns the number of subpixels where the plain interpolation is off.
	checkEdge := func(s, k, y0, dy int) (h []float32, far int) {
		var in nn.Tensor
		m.stageInput(s, feat, xs, &in, nil)
		h = in.Data[(feat.C+coarseKnown)*hw:]
		for y := y0; y < LatentHW-1; y += dy {
			for x := 1; x < LatentHW-1; x++ {
				o := y*LatentHW + x
				for c := 0; c < 3; c++ {
					want := xs.Data[(4*c+k)*hw+o]
					plain, edge := h[c*hw+o], h[(4+c)*hw+o]
					if d := math.Abs(float64(plain - want)); d > 0.05 {
						far++
						if e := math.Abs(float64(edge - want)); e > 0.05*d {
							t.Fatalf("stage %d (%d,%d) colour %d: edge hint %v, plain %v, pixel %v", s, y, x, c, edge, plain, want)
						}
					}
				}
			}
		}
		return h, far
	}
	// The last stage (sub-position 2, pixel (1,0)): (0,0) above and below are pair 0.
	h, far := checkEdge(S-1, 2, 1, 1)
	if far < 100 {
		t.Fatalf("only %d pixels where the plain interpolation is off: test pattern too smooth", far)
	}
	for y := 1; y < LatentHW-1; y++ {
		for x := 1; x < LatentHW-1; x++ {
			if a := h[8*hw+y*LatentHW+x]; a != floor {
				t.Fatalf("(%d,%d): vertical pair activity %v, want the floor %v", y, x, a, floor)
			}
		}
	}
	// The second half of the split diagonal stage (stage 7, odd rows): its extra pair, the
	// first half's pixels above and below, agrees.
	if _, far := checkEdge(7, 3, 1, 2); far < 50 {
		t.Fatalf("stage 7: only %d pixels where the plain interpolation is off", far)
	}
}

// TestPosChannels: every stage input carries the position of its 2x2 block in the 8x8
// pixel block, one-hot by row and by column.
func TestPosChannels(t *testing.T) {
	m, err := New(DefaultConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Cfg.PosChannels {
		t.Skip("the default model has no position channels")
	}
	const B = 2
	xs := nn.NewTensor(12, B, LatentHW, LatentHW)
	feat := nn.NewTensor(m.Cfg.Width, B, LatentHW, LatentHW)
	n := B * hw
	for s := 1; s < m.Cfg.PixelStages; s++ {
		var in nn.Tensor
		m.stageInput(s, feat, xs, &in, nil)
		pc := in.Data[(feat.C+coarseKnown+edgeHints)*n:]
		extra := 0 // the channels after the position channels
		if m.Cfg.Context {
			extra += ctxChannels
		}
		if m.Cfg.PatchStats {
			extra += statChannels
		}
		if m.Cfg.ErrorMaps {
			extra += errChannels
		}
		if m.Cfg.CtxScales {
			extra += ctxScaleChannels
		}
		pc = pc[:len(pc)-extra*n]
		if len(pc) != posChannels*n {
			t.Fatalf("stage %d: %d position values, want %d", s, len(pc), posChannels*n)
		}
		for b := 0; b < B; b++ {
			for pos := 0; pos < hw; pos++ {
				y, x := pos/LatentHW, pos%LatentHW
				for c := 0; c < posChannels; c++ {
					want := float32(0)
					if c == y%4 || c == 4+x%4 {
						want = 1
					}
					if got := pc[c*n+b*hw+pos]; got != want {
						t.Fatalf("stage %d entry %d (%d,%d) channel %d: %v, want %v", s, b, y, x, c, got, want)
					}
				}
			}
		}
	}
}

// squeezedPatch returns the one patch of bt in [-1, 1], squeezed to [12][1][16][16].
func squeezedPatch(bt *Batch) *nn.Tensor {
	xt := nn.NewTensor(3, 1, PatchSize, PatchSize)
	for i, v := range bt.X {
		xt.Data[i] = float32(v)/127.5 - 1
	}
	xs := nn.NewTensor(12, 1, LatentHW, LatentHW)
	nn.Squeeze(xt, xs)
	return xs
}

// TestPixelComponentsMatchLoss: the coders' per-colour conditionals (PixelComponents,
// deterministic, pixel units) multiply to the pixel probability the training loss uses
// (pixelLoss), stage by stage, for the anchor model on content with column runs and context:
// what the coders code is what the model was trained on.
func TestPixelComponentsMatchLoss(t *testing.T) {
	cfg := tinyConfig(DeepStages)
	cfg.PosChannels, cfg.Context, cfg.Mixture, cfg.Anchors = true, true, true, true
	m := tinyModelOf(t, cfg)
	bt := runsBatch()
	B := bt.B
	r := m.NewInference()
	r.PixelStage0(r.LatentTensor(B))
	valid := make([][2]int, B)
	for i := range valid {
		valid[i] = [2]int{PatchSize, PatchSize}
	}
	xq := make([]uint8, 12*B*hw)
	squeezeU8(bt.X, B, xq)
	S := cfg.PixelStages
	checked, copies := 0, 0
	for s := 1; s < S; s++ {
		P := r.PixelStage(s, bt.X, valid, bt.Ctx)
		k := StageGroups(S, s)[0]
		for b := 0; b < B; b++ {
			for pos := 0; pos < hw; pos++ {
				if !InStage(StageParity(S, s), pos) {
					continue
				}
				want := pixelLoss(P, nil, xq, r.anc[s], 0, k, B, b, pos, 3, false, 0)
				var x [3]uint8
				for c := 0; c < 3; c++ {
					x[c] = xq[((4*c+k)*B+b)*hw+pos]
				}
				got := 0.0
				var st, stale PixelState
				for c := 0; c < 3; c++ {
					var comp, carried Components
					r.PixelComponents(s, P, 0, b, pos, c, x, &comp)
					// The same bits with the state carried from the colour before, and
					// with a state of another pixel (not reused).
					r.PixelComponentsFrom(s, P, 0, b, pos, c, x, &carried, &st)
					if carried != comp {
						t.Fatalf("stage %d, patch %d, position %d, colour %d: %+v with the carried state, want %+v", s, b, pos, c, carried, comp)
					}
					if c > 0 {
						r.PixelComponentsFrom(s, P, 0, b, (pos+2)%hw, c-1, x, &carried, &stale)
						carried = Components{}
						r.PixelComponentsFrom(s, P, 0, b, pos, c, x, &carried, &stale)
						if carried != comp {
							t.Fatalf("stage %d, patch %d, position %d, colour %d: a stale state was reused", s, b, pos, c)
						}
					}
					if comp.K < 3 {
						t.Fatalf("stage %d: %d components, want the anchors too", s, comp.K)
					}
					p := 0.0
					for j := 0; j < comp.K; j++ {
						p += comp.W[j] * discProb(int(x[c]), comp.Mu[j], comp.S[j])
					}
					got -= math.Log(p)
					if c == 0 {
						// Y' alone, as the loss takes a pixel whose chroma is a copy
						// (chromaCopy): the coders' first colour.
						want1 := pixelLoss(P, nil, xq, r.anc[s], 0, k, B, b, pos, 1, false, 0)
						if math.Abs(got-want1) > 1e-6*math.Max(1, want1) {
							t.Fatalf("stage %d, patch %d, position %d: coders %.9f nats for R, loss %.9f", s, b, pos, got, want1)
						}
					}
					if c == 2 && comp.W[0]+comp.W[1] < 0.5 {
						copies++ // mostly a copy by the time B is coded
					}
				}
				checked++
				if math.Abs(got-want) > 1e-6*math.Max(1, want) {
					t.Fatalf("stage %d, patch %d, position %d: coders %.9f nats, loss %.9f", s, b, pos, got, want)
				}
			}
		}
	}
	t.Logf("%d pixels, %d of them mostly copies by B", checked, copies)
	if checked != B*(4*hw-4) || copies < checked/10 {
		t.Fatalf("checked %d pixels, %d of them mostly copies", checked, copies)
	}
}

// TestChromaKnownInput: with ChromaKnown every stage's input holds all of the patch's
// chroma (every sub-position, every position), without it only that of the earlier stages;
// Y' stays that of the earlier stages either way.
func TestChromaKnownInput(t *testing.T) {
	cfg := tinyConfig(DeepStages)
	cfg.PosChannels, cfg.Context, cfg.Mixture, cfg.Anchors = true, true, true, true
	m := tinyModelOf(t, cfg)
	bt := runsBatch()
	bt.B, bt.X = 1, bt.X[:Subpixels] // one patch: squeezedPatch's
	xs := squeezedPatch(bt)
	feat := nn.NewTensor(m.Cfg.Width, 1, LatentHW, LatentHW)
	for _, flags := range []uint8{0, ChromaKnown} {
		ctx := NewContext(1)
		ctx.Has[0] = flags
		var q sqCtx
		q.squeeze(ctx, 1, nil)
		for s := 1; s < DeepStages; s++ {
			var in nn.Tensor
			m.stageInput(s, feat, xs, &in, &q)
			known := 0
			for ch := 0; ch < 12; ch++ {
				for pos := 0; pos < hw; pos++ {
					if v := in.Data[(feat.C+ch)*hw+pos]; v != 0 {
						if v != xs.Data[ch*hw+pos] {
							t.Fatalf("flags %d, stage %d, channel %d, position %d: %v, want %v", flags, s, ch, pos, v, xs.Data[ch*hw+pos])
						}
						known++
					}
				}
			}
			// runsBatch's values are rarely exactly 127.5 (0 in [-1, 1]): count known ones.
			luma := 0
			for t2 := 0; t2 < s; t2++ {
				for pos := 0; pos < hw; pos++ {
					if InStage(StageParity(DeepStages, t2), pos) {
						luma++
					}
				}
			}
			want := 3 * luma
			if flags != 0 {
				want = luma + 2*4*hw
			}
			if known < want*95/100 || known > want {
				t.Errorf("flags %d, stage %d: %d known values in the input, want about %d", flags, s, known, want)
			}
		}
	}
}
