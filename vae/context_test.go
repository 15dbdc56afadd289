package vae

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bitswap-codec/bitswap/vae/nn"
)

func contextConfig() Config {
	cfg := upgradeConfig(DeepStages, true)
	cfg.PosChannels = true
	cfg.Context = true
	return cfg
}

// randomContext is the context of n patches with random pixels and the given flags.
func randomContext(n int, has uint8) *Context {
	rng := rand.New(rand.NewPCG(8, 9))
	c := NewContext(n)
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
	old, ck := upgradeFixture(t, func() Config { c := contextConfig(); c.Context = false; return c }())
	up, nm := upgraded(t, ck, contextConfig())
	x := randomPatches(4, false)
	if a, b := old.NegELBO(x, nil, 4).BPD, nm.NegELBO(x, nil, 4).BPD; a != b {
		t.Fatalf("without context: %v bits/dim before, %v after", a, b)
	}
	if a, b := old.NegELBO(x, nil, 4).BPD, nm.NegELBO(x, NewContext(4), 4).BPD; a != b {
		t.Fatalf("context not there: %v bits/dim before, %v after", a, b)
	}
	c := nm.NegELBO(x, randomContext(4, CtxUp|CtxLeft), 4).BPD
	if c == old.NegELBO(x, nil, 4).BPD || math.IsNaN(c) || math.IsInf(c, 0) {
		t.Fatalf("with context: %v bits/dim", c)
	}
	if _, err := UpgradeCheckpoint(up, func() Config { c := contextConfig(); c.Context = false; return c }()); err == nil {
		t.Fatal("removing the context accepted")
	}
	// Weights round trip with the context flag.
	m2, err := UnmarshalWeights(nm.MarshalWeights())
	if err != nil || !m2.Cfg.Context {
		t.Fatalf("weights: %v, context %v", err, m2 != nil && m2.Cfg.Context)
	}
}

// TestContextHints: on a flat patch whose row above is brighter, the hints of a stage with a
// tap in the row above (the fine row stage: (1,1) above) average it in on the top row only
// when the rows above are there; the context channels hold the row above on the border.
func TestContextHints(t *testing.T) {
	m, err := New(contextConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	S := m.Cfg.PixelStages
	s := S - 2 // sub-position 1: (0,0) left and right, (1,1) above and below
	if StageGroups(S, s)[0] != 1 {
		t.Fatalf("stage %d codes sub-position %d", s, StageGroups(S, s)[0])
	}
	bt := NewBatch(1)
	for i := range bt.X {
		bt.X[i] = 100
	}
	c := NewContext(1)
	for i := range c.Pix {
		c.Pix[i] = 200
	}
	xs := squeezedPatch(bt)
	feat := nn.NewTensor(m.Cfg.Width, 1, LatentHW, LatentHW)
	for _, has := range []uint8{0, CtxUp, CtxLeft, CtxUp | CtxLeft} {
		c.Has[0] = has
		var q sqCtx
		q.squeeze(c, 1, nil)
		var in nn.Tensor
		m.stageInput(s, feat, xs, &in, &q)
		W := feat.C
		plain := float32(100/127.5 - 1)
		withUp := float32((3*(100/127.5-1) + (200/127.5 - 1)) / 4)
		for y := 0; y < LatentHW; y++ {
			for xx := 0; xx < LatentHW; xx++ {
				got := in.Data[(W+hintMean)*hw+y*LatentHW+xx]
				want := plain
				if y == 0 && has&CtxUp != 0 {
					want = withUp
				}
				if xx == LatentHW-1 {
					continue // no (0,0) pixel to the right: three taps
				}
				if math.Abs(float64(got-want)) > 1e-6 {
					t.Fatalf("has %d: hint mean at (%d,%d) = %v, want %v", has, y, xx, got, want)
				}
			}
		}
		base := W + m.knownChannels(s) - ctxChannels
		up := in.Data[(base+0)*hw+5]             // R, even column, row 0
		below := in.Data[(base+0)*hw+LatentHW+5] // row 1: nothing
		left := in.Data[(base+6)*hw+5*LatentHW]  // R, even row, column 0
		mask := in.Data[(base+12)*hw+5] + in.Data[(base+13)*hw+5*LatentHW]
		wantUp, wantLeft := float32(0), float32(0)
		if has&CtxUp != 0 {
			wantUp = float32(200/127.5 - 1)
		}
		if has&CtxLeft != 0 {
			wantLeft = float32(200/127.5 - 1)
		}
		if up != wantUp || left != wantLeft || below != 0 || mask != float32(has&1+has>>1) {
			t.Fatalf("has %d: context channels up %v left %v below %v masks %v", has, up, left, below, mask)
		}
	}
}

// TestPutContext: the context holds the two rows above and the two columns to the left of
// the patch, only where the image has them and they are wanted.
func TestPutContext(t *testing.T) {
	im := &RGB{W: 70, H: 50, Pix: make([]uint8, 3*70*50)}
	for i := range im.Pix {
		im.Pix[i] = uint8(i * 7)
	}
	n := im.W * im.H
	dst := make([]uint8, CtxLen)
	if h := PutContext(dst, im.Planes(), im.W, im.H, 1, 0, CtxUp|CtxLeft); h != 0 {
		t.Fatalf("at (1, 0): flags %d", h)
	}
	if h := PutContext(dst, im.Planes(), im.W, im.H, 20, 10, CtxLeft); h != CtxLeft {
		t.Fatalf("left only: flags %d", h)
	}
	if h := PutContext(dst, im.Planes(), im.W, im.H, 20, 10, CtxUp|CtxLeft); h != CtxUp|CtxLeft {
		t.Fatalf("flags %d", h)
	}
	for c := 0; c < 3; c++ {
		for r := 0; r < 2; r++ {
			for x := 0; x < PatchSize; x++ {
				if got, want := dst[c*CtxPlane+r*PatchSize+x], im.Pix[c*n+(8+r)*im.W+20+x]; got != want {
					t.Fatalf("up c%d r%d x%d: %d, want %d", c, r, x, got, want)
				}
			}
		}
		for y := 0; y < PatchSize; y++ {
			for j := 0; j < 2; j++ {
				if got, want := dst[c*CtxPlane+2*PatchSize+2*y+j], im.Pix[c*n+(10+y)*im.W+18+j]; got != want {
					t.Fatalf("left c%d y%d j%d: %d, want %d", c, y, j, got, want)
				}
			}
		}
	}
	// The sampler fills the context of aligned crops, leaving each side out now and then.
	s := NewSampler([]*RGB{im})
	s.Align = PosAlign
	bt := NewBatch(400)
	s.Fill(bt, rand.New(rand.NewPCG(1, 1)))
	var count [4]int
	for _, h := range bt.Ctx.Has {
		count[h]++
	}
	if count[CtxUp|CtxLeft] == 0 || count[CtxUp|CtxLeft] == 400 || count[0] == 400 {
		t.Fatalf("context flags of 400 crops: %v", count)
	}
}

// TestUpgradeMixture: adding the pixel mixture costs at most log2(1/(1-w)) more bits per
// subpixel, w = sigmoid(initMixLogit) the second component's starting weight (p_mix >=
// (1-w) p), and changes the cost; the mixture cannot be removed again, and the weights file
// keeps it.
func TestUpgradeMixture(t *testing.T) {
	old, ck := upgradeFixture(t, contextConfig())
	cfg := contextConfig()
	cfg.Mixture = true
	up, nm := upgraded(t, ck, cfg)
	x := randomPatches(4, false)
	cx := randomContext(4, CtxUp)
	a, b := old.NegELBO(x, cx, 4).BPD, nm.NegELBO(x, cx, 4).BPD
	if w := 1 / (1 + math.Exp(-initMixLogit)); a == b || b > a-math.Log2(1-w) {
		t.Fatalf("%v bits/dim before, %v after", a, b)
	}
	if _, err := UpgradeCheckpoint(up, contextConfig()); err == nil {
		t.Fatal("removing the mixture accepted")
	}
	m2, err := UnmarshalWeights(nm.MarshalWeights())
	if err != nil || !m2.Cfg.Mixture || m2.NegELBO(x, cx, 4).BPD != b {
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
	cx := randomContext(4, CtxUp|CtxLeft)
	if a, b := old.NegELBO(x, cx, 4).BPD, nm.NegELBO(x, cx, 4).BPD; b > a+1e-3 {
		t.Fatalf("noise: %v bits/dim before, %v after", a, b)
	}
	runs := runsBatch()
	a, b := old.NegELBO(runs.X, runs.Ctx, runs.B), nm.NegELBO(runs.X, runs.Ctx, runs.B)
	t.Logf("runs: %.3f bits/dim before, %.3f after", a.BPD, b.BPD)
	if b.BPD > a.BPD-0.5 || b.RecStages[0] != a.RecStages[0] {
		t.Fatalf("runs: before %v, after %v", a, b)
	}
	if _, err := UpgradeCheckpoint(up, contextConfig()); err == nil {
		t.Fatal("removing the anchors accepted")
	}
	m2, err := UnmarshalWeights(nm.MarshalWeights())
	if err != nil || !m2.Cfg.Anchors || m2.NegELBO(runs.X, runs.Ctx, runs.B).BPD != b.BPD {
		t.Fatalf("weights: %v", err)
	}
}
