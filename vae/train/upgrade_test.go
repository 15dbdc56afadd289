package train

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/vae/nn"
)

// upgradeFixture is a small model of cfg with random non-trivial weights, as a checkpoint.
func upgradeFixture(t *testing.T, cfg vae.Config) (*vae.Model, *Checkpoint) {
	m, err := vae.New(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range m.Convs() {
		for i := range c.V {
			c.V[i] += float32(rng.NormFloat64() * 0.1)
		}
		for i := range c.G {
			c.G[i] = 0.5 + float32(rng.Float64())
		}
	}
	m.Refresh()
	p, _ := m.Params()
	ck := &Checkpoint{Config: cfg, Params: cloneSlices(p), EMA: cloneSlices(p), AdamM: zerosLike(p), AdamV: zerosLike(p), Step: 7, BestVal: 2}
	return m, ck
}

func upgradeConfig(stages int, edge bool) vae.Config {
	return vae.Config{Layers: 2, ZC: 2, Width: 8, BlocksInf: []int{1, 0}, BlocksGen: []int{1, 1}, InKernel: 3,
		PixelStages: stages, StageBlocks: 1, StageSkip: true, StageHints: true, EdgeHints: edge}
}

func contextConfig() vae.Config {
	cfg := upgradeConfig(vae.DeepStages, true)
	cfg.PosChannels = true
	cfg.Context = true
	return cfg
}

// runsBatch is two random patches with content that repeats down the columns (runs of 1-6
// equal pixels, a quarter of the columns noisy) and random context (both sides there for
// one, the left one only for the other): content where the anchor components help.
func runsBatch() *vae.Batch {
	bt := vae.NewBatch(2)
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range bt.Ctx.Pix {
		bt.Ctx.Pix[i] = uint8(rng.IntN(256))
	}
	bt.Ctx.Has[0], bt.Ctx.Has[1] = vae.CtxUp|vae.CtxLeft, vae.CtxLeft
	rng = rand.New(rand.NewPCG(6, 6))
	for b := 0; b < bt.B; b++ {
		for x := 0; x < vae.PatchSize; x++ {
			noisy := rng.IntN(4) == 0
			var v [3]uint8
			for y, run := 0, 0; y < vae.PatchSize; y++ {
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
					bt.Plane(c, b)[y*vae.PatchSize+x] = p
				}
			}
		}
	}
	return bt
}

// upgraded converts checkpoint ck to cfg and returns the upgraded checkpoint and model.
func upgraded(t *testing.T, ck *Checkpoint, cfg vae.Config) (*Checkpoint, *vae.Model) {
	t.Helper()
	up, err := Upgrade(ck, cfg)
	if err != nil {
		t.Fatal(err)
	}
	nm, err := vae.ModelFromParams(up.Config, up.Params, up.Bins)
	if err != nil {
		t.Fatal(err)
	}
	return up, nm
}

func randomPatches(n int, smooth bool) []uint8 {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]uint8, 3*n*vae.PatchSize*vae.PatchSize)
	for i := range x {
		if smooth {
			x[i] = 100
		} else {
			x[i] = uint8(rng.IntN(256))
		}
	}
	return x
}

// TestUpgradePyramid: after the 7-to-9-stage upgrade the old stages 1-6 are stages 3-8 and
// cost exactly what they did, and stage 0's pixels are split over the new stages 0-2.
func TestUpgradePyramid(t *testing.T) {
	old, ck := upgradeFixture(t, upgradeConfig(vae.CoarseStages, true))
	up, nm := upgraded(t, ck, upgradeConfig(vae.PyramidStages, true))
	if len(up.AdamM) != len(up.Params) || len(up.EMA) != len(up.Params) || up.BestEMA == nil || !math.IsInf(up.BestVal, 1) {
		t.Fatalf("upgraded checkpoint: %d params, %d Adam, %d EMA, best %v", len(up.Params), len(up.AdamM), len(up.EMA), up.BestVal)
	}
	x := randomPatches(5, false)
	a, b := old.NegELBO(x, nil, 5), nm.NegELBO(x, nil, 5)
	checkStage0Split(t, a, b, vae.CoarseStages)
	for i := range a.KL {
		if a.KL[i] != b.KL[i] {
			t.Fatalf("KL of layer %d changed: %v -> %v", i, a.KL[i], b.KL[i])
		}
	}
}

// TestUpgradeDeep: after the 10-to-12-stage upgrade the old stages 1-9 are stages 3-11 and
// cost exactly what they did; stage 0's pixels are split over the new stages 0-2.
func TestUpgradeDeep(t *testing.T) {
	cfg := upgradeConfig(vae.SplitStages, true)
	cfg.PosChannels = true
	old, ck := upgradeFixture(t, cfg)
	cfg.PixelStages = vae.DeepStages
	_, nm := upgraded(t, ck, cfg)
	x := randomPatches(5, false)
	a, b := old.NegELBO(x, nil, 5), nm.NegELBO(x, nil, 5)
	checkStage0Split(t, a, b, vae.SplitStages)
}

// TestUpgradeSplit: after the 9-to-10-stage upgrade the stages that see the same pixels cost
// what they did; the halves of the split stage start from the same networks, and on a
// patch without structure across rows they cost together about what the stage did.
func TestUpgradeSplit(t *testing.T) {
	old, ck := upgradeFixture(t, upgradeConfig(vae.PyramidStages, true))
	_, nm := upgraded(t, ck, upgradeConfig(vae.SplitStages, true))
	x := randomPatches(5, false)
	a, b := old.NegELBO(x, nil, 5), nm.NegELBO(x, nil, 5)
	for s, o := range []int{0, 1, 2, 3, 4, 5, -1, -1, 7, 8} {
		if o >= 0 && a.RecStages[o] != b.RecStages[s] {
			t.Fatalf("old stage %d costs %v, new stage %d %v", o, a.RecStages[o], s, b.RecStages[s])
		}
	}
	if h := b.RecStages[6] + b.RecStages[7]; math.Abs(h/a.RecStages[6]-1) > 0.2 || b.RecStages[6] == 0 || b.RecStages[7] == 0 {
		t.Fatalf("split stage: %v + %v, was %v", b.RecStages[6], b.RecStages[7], a.RecStages[6])
	}
	// The second half's network is blind to the first half's pixels at the start.
	in := nm.Stage[7-1].In
	k := in.Shape.KH * in.Shape.KW
	for o := 0; o < in.Shape.Cout; o++ {
		for col := 0; col < 3; col++ {
			ci := nm.Cfg.Width + 4*col + 3
			for j := 0; j < k; j++ {
				if w := in.W[(o*in.Shape.Cin+ci)*k+j]; w != 0 {
					t.Fatalf("second half reads sub-position 3 of colour %d: %v", col, w)
				}
			}
		}
	}
}

// TestUpgradeEdgeHints: adding edge hints keeps every stage network's function (zero weights
// on the new channels) and moves the skips to the edge-directed channels, which equal the
// plain ones on a flat patch: there the model's cost is unchanged.
func TestUpgradeEdgeHints(t *testing.T) {
	old, ck := upgradeFixture(t, upgradeConfig(vae.CoarseStages, false))
	up, nm := upgraded(t, ck, upgradeConfig(vae.CoarseStages, true))
	x := randomPatches(3, true)
	a, b := old.NegELBO(x, nil, 3), nm.NegELBO(x, nil, 3)
	if a.BPD != b.BPD {
		t.Fatalf("flat patches: %v bits/dim before, %v after", a.BPD, b.BPD)
	}
	if y := randomPatches(3, false); old.NegELBO(y, nil, 3).BPD == nm.NegELBO(y, nil, 3).BPD {
		t.Fatal("random patches cost the same: the skips do not read the edge channels")
	}
	for s, sk := range nm.Skip {
		k := sk.Shape.KH * sk.Shape.KW
		for o := 0; o < sk.Shape.Cout; o++ {
			for ci := 0; ci < sk.Shape.Cin; ci++ {
				if _, plain := vae.EdgeHint(ci); !plain {
					continue
				}
				for j := 0; j < k; j++ {
					if w := sk.W[(o*sk.Shape.Cin+ci)*k+j]; w != 0 {
						t.Fatalf("skip %d still reads plain hint channel %d: %v", s, ci, w)
					}
				}
			}
		}
	}
	if _, err := Upgrade(ck, upgradeConfig(vae.CoarseStages, false)); err == nil {
		t.Fatal("upgrade to the same config accepted")
	}
	if _, err := Upgrade(up, upgradeConfig(vae.CoarseStages, false)); err == nil {
		t.Fatal("downgrade accepted")
	}
	other := upgradeConfig(vae.PyramidStages, true)
	other.Width = 16
	if _, err := Upgrade(ck, other); err == nil {
		t.Fatal("width change accepted")
	}
}

// TestUpgradePosChannels: adding the position channels keeps the model's function (their
// weights start at zero).
func TestUpgradePosChannels(t *testing.T) {
	old, ck := upgradeFixture(t, upgradeConfig(vae.SplitStages, true))
	cfg := upgradeConfig(vae.SplitStages, true)
	cfg.PosChannels = true
	up, nm := upgraded(t, ck, cfg)
	x := randomPatches(4, false)
	if a, b := old.NegELBO(x, nil, 4).BPD, nm.NegELBO(x, nil, 4).BPD; a != b {
		t.Fatalf("%v bits/dim before, %v after", a, b)
	}
	if _, err := Upgrade(up, upgradeConfig(vae.SplitStages, true)); err == nil {
		t.Fatal("removing the position channels accepted")
	}
}

// checkStage0Split checks the costs of an upgrade that adds a coarser level: the old stages
// 1..oldS-1 (a) cost exactly what the new stages 3..oldS+1 (b) cost, and the old stage 0's
// pixels are spread over the new stages 0-2.
func checkStage0Split(t *testing.T, a, b vae.Stats, oldS int) {
	t.Helper()
	for s := 1; s < oldS; s++ {
		if a.RecStages[s] != b.RecStages[s+2] {
			t.Fatalf("old stage %d costs %v, new stage %d %v", s, a.RecStages[s], s+2, b.RecStages[s+2])
		}
	}
	if a.RecStages[0] == b.RecStages[0] || b.RecStages[1] == 0 || b.RecStages[2] == 0 {
		t.Fatalf("stage 0 not split: old %v, new %v", a.RecStages[:1], b.RecStages[:3])
	}
}

// randomContext is the context of n patches with random pixels and the given flags.
func randomContext(n int, has uint8) *vae.Context {
	rng := rand.New(rand.NewPCG(8, 9))
	c := vae.NewContext(n)
	for i := range c.Pix {
		c.Pix[i] = uint8(rng.IntN(256))
	}
	for i := range c.Has {
		c.Has[i] = has
	}
	return c
}

// TestUpgradeContext: adding the context keeps the cost of a patch without context exactly
// (the weights on the new channels start at zero and the hints only change where context is
// there); with context the cost changes; the context cannot be removed again.
func TestUpgradeContext(t *testing.T) {
	old, ck := upgradeFixture(t, func() vae.Config { c := contextConfig(); c.Context = false; return c }())
	up, nm := upgraded(t, ck, contextConfig())
	x := randomPatches(4, false)
	if a, b := old.NegELBO(x, nil, 4).BPD, nm.NegELBO(x, nil, 4).BPD; a != b {
		t.Fatalf("without context: %v bits/dim before, %v after", a, b)
	}
	if a, b := old.NegELBO(x, nil, 4).BPD, nm.NegELBO(x, vae.NewContext(4), 4).BPD; a != b {
		t.Fatalf("context not there: %v bits/dim before, %v after", a, b)
	}
	c := nm.NegELBO(x, randomContext(4, vae.CtxUp|vae.CtxLeft), 4).BPD
	if c == old.NegELBO(x, nil, 4).BPD || math.IsNaN(c) || math.IsInf(c, 0) {
		t.Fatalf("with context: %v bits/dim", c)
	}
	if _, err := Upgrade(up, func() vae.Config { c := contextConfig(); c.Context = false; return c }()); err == nil {
		t.Fatal("removing the context accepted")
	}
	// Weights round trip with the context flag.
	m2, err := vae.UnmarshalWeights(nm.MarshalWeights())
	if err != nil || !m2.Cfg.Context {
		t.Fatalf("weights: %v, context %v", err, m2 != nil && m2.Cfg.Context)
	}
}

// TestUpgradeMixture: adding the pixel mixture costs at most log2(1/(1-w)) more bits per
// subpixel, w the second component's starting weight (p_mix >= (1-w) p), and changes the
// cost; the mixture cannot be removed again, and the weights file keeps it.
func TestUpgradeMixture(t *testing.T) {
	old, ck := upgradeFixture(t, contextConfig())
	cfg := contextConfig()
	cfg.Mixture = true
	up, nm := upgraded(t, ck, cfg)
	x := randomPatches(4, false)
	cx := randomContext(4, vae.CtxUp)
	a, b := old.NegELBO(x, cx, 4).BPD, nm.NegELBO(x, cx, 4).BPD
	// The new weight logits start at their biases (gain 0): read w from the pixel network's.
	logit := float64(nm.Gen[0].Out.Bias[vae.GroupParams+3])
	if w := 1 / (1 + math.Exp(-logit)); a == b || b > a-math.Log2(1-w) || w > 0.01 {
		t.Fatalf("%v bits/dim before, %v after", a, b)
	}
	if _, err := Upgrade(up, contextConfig()); err == nil {
		t.Fatal("removing the mixture accepted")
	}
	m2, err := vae.UnmarshalWeights(nm.MarshalWeights())
	if err != nil || !m2.Cfg.Mixture || m2.WithEngine(nn.Config{Float32: true}).NegELBO(x, cx, 4).BPD != b {
		t.Fatalf("weights: %v", err)
	}
}

// TestUpgradeAnchors: adding the anchor components costs at most a trace on noise (where no
// pair of neighbours agrees, so the base component keeps nearly all the weight; the
// fixture's base is so poor there that a copy can even help), lowers the cost a lot on
// content that repeats down the columns, and cannot be undone; the weights keep the flag.
func TestUpgradeAnchors(t *testing.T) {
	cfg := contextConfig()
	cfg.Mixture = true
	old, ck := upgradeFixture(t, cfg)
	cfg.Anchors = true
	up, nm := upgraded(t, ck, cfg)
	x := randomPatches(4, false)
	cx := randomContext(4, vae.CtxUp|vae.CtxLeft)
	if a, b := old.NegELBO(x, cx, 4).BPD, nm.NegELBO(x, cx, 4).BPD; b > a+1e-3 {
		t.Fatalf("noise: %v bits/dim before, %v after", a, b)
	}
	runs := runsBatch()
	a, b := old.NegELBO(runs.X, runs.Ctx, runs.B), nm.NegELBO(runs.X, runs.Ctx, runs.B)
	t.Logf("runs: %.3f bits/dim before, %.3f after", a.BPD, b.BPD)
	if b.BPD > a.BPD-0.5 || b.RecStages[0] != a.RecStages[0] {
		t.Fatalf("runs: before %v, after %v", a, b)
	}
	if _, err := Upgrade(up, contextConfig()); err == nil {
		t.Fatal("removing the anchors accepted")
	}
	m2, err := vae.UnmarshalWeights(nm.MarshalWeights())
	if err != nil || !m2.Cfg.Anchors || m2.WithEngine(nn.Config{Float32: true}).NegELBO(runs.X, runs.Ctx, runs.B).BPD != b.BPD {
		t.Fatalf("weights: %v", err)
	}
}

// TestUpgradePatchStats: adding the patch statistics keeps every cost exactly (the weights
// on the new channels start at zero), training can then use them (their gradients are not
// zero), they cannot be removed again, and the weights file keeps the flag.
func TestUpgradePatchStats(t *testing.T) {
	t.Run("stats", func(t *testing.T) { testUpgradeStats(t, 1) })
	t.Run("maps", func(t *testing.T) { testUpgradeStats(t, 2) })
	t.Run("scales", func(t *testing.T) { testUpgradeStats(t, 3) })
}

// testUpgradeStats adds the level-th of PatchStats, ErrorMaps and CtxScales to a model with
// the ones before it.
func testUpgradeStats(t *testing.T, level int) {
	cfg := contextConfig()
	cfg.Mixture, cfg.Anchors = true, true
	set := func(c *vae.Config, l int) { c.PatchStats, c.ErrorMaps, c.CtxScales = l >= 1, l >= 2, l >= 3 }
	set(&cfg, level-1)
	old, ck := upgradeFixture(t, cfg)
	set(&cfg, level)
	up, nm := upgraded(t, ck, cfg)
	runs := runsBatch()
	a, b := old.NegELBO(runs.X, runs.Ctx, runs.B).BPD, nm.NegELBO(runs.X, runs.Ctx, runs.B).BPD
	if a != b {
		t.Fatalf("%v bits/dim before, %v after", a, b)
	}
	nm.NewPass().Gradients(runs, rand.New(rand.NewPCG(1, 1)))
	in := nm.Stage[len(nm.Stage)-1].In
	_, g := in.Params()
	sh := in.Shape
	taps, grad := sh.KH*sh.KW, 0.0
	for o := 0; o < sh.Cout; o++ {
		for ci := sh.Cin - 3; ci < sh.Cin; ci++ { // the new channels come last
			for _, v := range g[0][(o*sh.Cin+ci)*taps : (o*sh.Cin+ci+1)*taps] {
				grad += math.Abs(float64(v))
			}
		}
	}
	if grad == 0 {
		t.Fatal("no gradient on the new channels' weights")
	}
	prev := cfg
	set(&prev, level-1)
	if _, err := Upgrade(up, prev); err == nil {
		t.Fatal("removing the new channels accepted")
	}
	m2, err := vae.UnmarshalWeights(nm.MarshalWeights())
	if err != nil || !reflect.DeepEqual(m2.Cfg, nm.Cfg) || m2.WithEngine(nn.Config{Float32: true}).NegELBO(runs.X, runs.Ctx, runs.B).BPD != b {
		t.Fatalf("weights: %v", err)
	}
}

// TestUpgradeFineBlocks: more residual blocks in the four finest stage networks keep every
// cost exactly at first, train (their gradients are not zero), cannot be taken away again,
// and the weights file keeps them.
func TestUpgradeFineBlocks(t *testing.T) {
	cfg := contextConfig()
	cfg.Mixture, cfg.Anchors, cfg.PatchStats, cfg.ErrorMaps = true, true, true, true
	old, ck := upgradeFixture(t, cfg)
	cfg.FineBlocks = 1
	up, nm := upgraded(t, ck, cfg)
	S := cfg.PixelStages
	if got, want := len(nm.Stage[S-2].Blocks), cfg.StageBlocks+1; got != want {
		t.Fatalf("finest stage net has %d blocks, want %d", got, want)
	}
	if got := len(nm.Stage[S-6].Blocks); got != cfg.StageBlocks {
		t.Fatalf("a coarser stage net has %d blocks, want %d", got, cfg.StageBlocks)
	}
	runs := runsBatch()
	a, b := old.NegELBO(runs.X, runs.Ctx, runs.B).BPD, nm.NegELBO(runs.X, runs.Ctx, runs.B).BPD
	if a != b {
		t.Fatalf("%v bits/dim before, %v after", a, b)
	}
	nm.NewPass().Gradients(runs, rand.New(rand.NewPCG(1, 1)))
	last := nm.Stage[S-2].Convs()
	_, g := last[len(last)-2].Params() // the new block's second conv: its gain
	grad := 0.0
	for _, v := range g[1] {
		grad += math.Abs(float64(v))
	}
	if grad == 0 {
		t.Fatal("no gradient on the new block")
	}
	prev := cfg
	prev.FineBlocks = 0
	if _, err := Upgrade(up, prev); err == nil {
		t.Fatal("removing the blocks accepted")
	}
	m2, err := vae.UnmarshalWeights(nm.MarshalWeights())
	if err != nil || m2.Cfg.FineBlocks != 1 || m2.WithEngine(nn.Config{Float32: true}).NegELBO(runs.X, runs.Ctx, runs.B).BPD != b {
		t.Fatalf("weights: %v", err)
	}
}

// TestUpgradeFineStages: giving the fine blocks to more stages keeps every cost exactly at
// first, cannot be undone, and the weights file (version 5) keeps them.
func TestUpgradeFineStages(t *testing.T) {
	cfg := contextConfig()
	cfg.Mixture, cfg.Anchors, cfg.PatchStats, cfg.ErrorMaps = true, true, true, true
	cfg.FineBlocks = 1
	old, ck := upgradeFixture(t, cfg)
	S := cfg.PixelStages
	cfg.FineStages = S - 3
	up, nm := upgraded(t, ck, cfg)
	for s := 1; s < S; s++ {
		want := cfg.StageBlocks
		if s >= 3 {
			want++
		}
		if got := len(nm.Stage[s-1].Blocks); got != want {
			t.Fatalf("stage %d net has %d blocks, want %d", s, got, want)
		}
	}
	if got := len(nm.FineBlockConvs()); got != 2*(S-3) {
		t.Fatalf("%d fine block convs, want %d", got, 2*(S-3))
	}
	runs := runsBatch()
	a, b := old.NegELBO(runs.X, runs.Ctx, runs.B).BPD, nm.NegELBO(runs.X, runs.Ctx, runs.B).BPD
	if a != b {
		t.Fatalf("%v bits/dim before, %v after", a, b)
	}
	prev := cfg
	prev.FineStages = 0
	if _, err := Upgrade(up, prev); err == nil {
		t.Fatal("removing the blocks accepted")
	}
	w := nm.MarshalWeights()
	if w[4] != 5 {
		t.Fatalf("weights version %d, want 5", w[4])
	}
	m2, err := vae.UnmarshalWeights(w)
	if err != nil || m2.Cfg.FineStages != S-3 || m2.WithEngine(nn.Config{Float32: true}).NegELBO(runs.X, runs.Ctx, runs.B).BPD != b {
		t.Fatalf("weights: %v", err)
	}
}
