package vae

import (
	"math"
	"math/rand/v2"
	"testing"
)

// upgradeFixture is a small model of cfg with random non-trivial weights, as a checkpoint.
func upgradeFixture(t *testing.T, cfg Config) (*Model, *Checkpoint) {
	m, err := New(cfg, 5)
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
	p, _ := m.paramSlices()
	ck := &Checkpoint{Config: cfg, Params: cloneSlices(p), EMA: cloneSlices(p), AdamM: zerosLike(p), AdamV: zerosLike(p), Step: 7, BestVal: 2}
	return m, ck
}

func upgradeConfig(stages int, edge bool) Config {
	return Config{Layers: 2, ZC: 2, Width: 8, BlocksInf: []int{1, 0}, BlocksGen: []int{1, 1}, InKernel: 3,
		PixelStages: stages, StageBlocks: 1, StageSkip: true, StageHints: true, EdgeHints: edge}
}

// upgraded converts checkpoint ck to cfg and returns the upgraded checkpoint and model.
func upgraded(t *testing.T, ck *Checkpoint, cfg Config) (*Checkpoint, *Model) {
	t.Helper()
	up, err := UpgradeCheckpoint(ck, cfg)
	if err != nil {
		t.Fatal(err)
	}
	nm, err := ModelFromParams(up.Config, up.Params, up.Bins)
	if err != nil {
		t.Fatal(err)
	}
	return up, nm
}

func randomPatches(n int, smooth bool) []uint8 {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]uint8, 3*n*PatchSize*PatchSize)
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
	old, ck := upgradeFixture(t, upgradeConfig(CoarseStages, true))
	up, nm := upgraded(t, ck, upgradeConfig(PyramidStages, true))
	if len(up.AdamM) != len(up.Params) || len(up.EMA) != len(up.Params) || up.BestEMA == nil || !math.IsInf(up.BestVal, 1) {
		t.Fatalf("upgraded checkpoint: %d params, %d Adam, %d EMA, best %v", len(up.Params), len(up.AdamM), len(up.EMA), up.BestVal)
	}
	x := randomPatches(5, false)
	a, b := old.NegELBO(x, nil, 5), nm.NegELBO(x, nil, 5)
	checkStage0Split(t, a, b, CoarseStages)
	for i := range a.KL {
		if a.KL[i] != b.KL[i] {
			t.Fatalf("KL of layer %d changed: %v -> %v", i, a.KL[i], b.KL[i])
		}
	}
}

// TestUpgradeDeep: after the 10-to-12-stage upgrade the old stages 1-9 are stages 3-11 and
// cost exactly what they did; stage 0's pixels are split over the new stages 0-2.
func TestUpgradeDeep(t *testing.T) {
	cfg := upgradeConfig(SplitStages, true)
	cfg.PosChannels = true
	old, ck := upgradeFixture(t, cfg)
	cfg.PixelStages = DeepStages
	_, nm := upgraded(t, ck, cfg)
	x := randomPatches(5, false)
	a, b := old.NegELBO(x, nil, 5), nm.NegELBO(x, nil, 5)
	checkStage0Split(t, a, b, SplitStages)
}

// TestUpgradeSplit: after the 9-to-10-stage upgrade the stages that see the same pixels cost
// what they did; the halves of the split stage start from the same networks, and on a
// patch without structure across rows they cost together about what the stage did.
func TestUpgradeSplit(t *testing.T) {
	old, ck := upgradeFixture(t, upgradeConfig(PyramidStages, true))
	_, nm := upgraded(t, ck, upgradeConfig(SplitStages, true))
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
	old, ck := upgradeFixture(t, upgradeConfig(CoarseStages, false))
	up, nm := upgraded(t, ck, upgradeConfig(CoarseStages, true))
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
			for i := 0; i < plainHints; i++ {
				for j := 0; j < k; j++ {
					if w := sk.W[(o*sk.Shape.Cin+hintMean+i)*k+j]; w != 0 {
						t.Fatalf("skip %d still reads plain hint %d: %v", s, i, w)
					}
				}
			}
		}
	}
	if _, err := UpgradeCheckpoint(ck, upgradeConfig(CoarseStages, false)); err == nil {
		t.Fatal("upgrade to the same config accepted")
	}
	if _, err := UpgradeCheckpoint(up, upgradeConfig(CoarseStages, false)); err == nil {
		t.Fatal("downgrade accepted")
	}
	other := upgradeConfig(PyramidStages, true)
	other.Width = 16
	if _, err := UpgradeCheckpoint(ck, other); err == nil {
		t.Fatal("width change accepted")
	}
}

// TestUpgradePosChannels: adding the position channels keeps the model's function (their
// weights start at zero).
func TestUpgradePosChannels(t *testing.T) {
	old, ck := upgradeFixture(t, upgradeConfig(SplitStages, true))
	cfg := upgradeConfig(SplitStages, true)
	cfg.PosChannels = true
	up, nm := upgraded(t, ck, cfg)
	x := randomPatches(4, false)
	if a, b := old.NegELBO(x, nil, 4).BPD, nm.NegELBO(x, nil, 4).BPD; a != b {
		t.Fatalf("%v bits/dim before, %v after", a, b)
	}
	if _, err := UpgradeCheckpoint(up, upgradeConfig(SplitStages, true)); err == nil {
		t.Fatal("removing the position channels accepted")
	}
}

// TestPlansPartition: every coarse plan codes every pixel exactly once, and every
// interpolation tap of a stage (inside the patch) is a pixel of an earlier stage.
func TestPlansPartition(t *testing.T) {
	for S := range plans {
		var stage [4][hw]int
		for k := range stage {
			for pos := range stage[k] {
				stage[k][pos] = -1
			}
		}
		for s := 0; s < S; s++ {
			k := StageGroups(S, s)[0]
			for pos := 0; pos < hw; pos++ {
				if !InStage(StageParity(S, s), pos) {
					continue
				}
				if stage[k][pos] >= 0 {
					t.Fatalf("plan %d: sub-position %d at %d coded in stages %d and %d", S, k, pos, stage[k][pos], s)
				}
				stage[k][pos] = s
			}
		}
		for k := range stage {
			for pos, s := range stage[k] {
				if s < 0 {
					t.Fatalf("plan %d: sub-position %d at %d never coded", S, k, pos)
				}
			}
		}
		for s := 1; s < S; s++ {
			p := plans[S][s]
			taps := p.taps[:]
			if p.extra != nil {
				taps = append(taps, p.extra[:]...)
			}
			for pos := 0; pos < hw; pos++ {
				if stage[p.k][pos] != s {
					continue
				}
				y, x := pos/LatentHW, pos%LatentHW
				for _, tp := range taps {
					yy, xx := y+tp[1], x+tp[2]
					if uint(yy) >= LatentHW || uint(xx) >= LatentHW {
						continue
					}
					if ts := stage[tp[0]][yy*LatentHW+xx]; ts >= s {
						t.Fatalf("plan %d stage %d at (%d,%d): tap %v is coded in stage %d", S, s, y, x, tp, ts)
					}
				}
			}
		}
	}
}

// checkStage0Split checks the costs of an upgrade that adds a coarser level: the old stages
// 1..oldS-1 (a) cost exactly what the new stages 3..oldS+1 (b) cost, and the old stage 0's
// pixels are spread over the new stages 0-2.
func checkStage0Split(t *testing.T, a, b Stats, oldS int) {
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
