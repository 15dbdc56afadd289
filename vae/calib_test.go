package vae

import (
	"math"
	"slices"
	"testing"

	"github.com/bitswap-codec/bitswap/vae/nn"
)

// TestCalibrate: the calibration Calibrate picks lowers the -ELBO by what it claims
// (NegELBOCalibrated with it gives its After), and never raises it.
func TestCalibrate(t *testing.T) {
	cfg := tinyConfig(DeepStages)
	cfg.PosChannels, cfg.Context, cfg.Mixture, cfg.Anchors = true, true, true, true
	m := tinyModelOf(t, cfg)
	bt := randomBatch(6, 3)
	cal := m.Calibrate(bt.X, bt.Ctx, bt.B)
	if len(cal.Scale) != cfg.PixelStages || len(cal.Anchor) != cfg.PixelStages || !cal.Valid() || len(cal.PatchBits) != bt.B {
		t.Fatalf("calibration %+v", cal)
	}
	if cal.After > cal.Before {
		t.Fatalf("calibration raised the -ELBO: %.6f -> %.6f", cal.Before, cal.After)
	}
	nonzero := false
	for _, v := range cal.Scale {
		nonzero = nonzero || v != 0
	}
	if !nonzero || cal.After >= cal.Before-1e-4 {
		t.Fatalf("an untrained model on noise should gain from calibration: %v, %.6f -> %.6f", cal.Calib, cal.Before, cal.After)
	}
	plain := m.NegELBO(bt.X, bt.Ctx, bt.B).BPD
	got := m.NegELBOCalibrated(bt.X, bt.Ctx, bt.B, cal.Calib).BPD
	if math.Abs(plain-cal.Before) > 1e-6 || math.Abs(got-cal.After) > 1e-6 {
		t.Fatalf("-ELBO %.9f -> %.9f, CalibrateScales said %.9f -> %.9f", plain, got, cal.Before, cal.After)
	}
	mean := 0.0
	for _, v := range cal.PatchBits {
		mean += v / float64(bt.B)
	}
	if math.Abs(mean-cal.Before) > 1e-9 {
		t.Fatalf("per-patch bits average %.9f, -ELBO %.9f", mean, cal.Before)
	}
}

// TestInferenceCalib: the coders' stage parameters move by exactly the calibration in the
// base log-scale channels (per colour), the anchor logits, the mixture's logits and the
// anchor log-scales, and nowhere else.
func TestInferenceCalib(t *testing.T) {
	cfg := tinyConfig(DeepStages)
	cfg.PosChannels, cfg.Context, cfg.Mixture, cfg.Anchors = true, true, true, true
	m := tinyModelOf(t, cfg)
	bt := runsBatch()
	B := bt.B
	valid := make([][2]int, B)
	for i := range valid {
		valid[i] = [2]int{PatchSize, PatchSize}
	}
	S := cfg.PixelStages
	cal := Calib{Scale: make([]int8, S), Anchor: make([]int8, S), Colour: make([][3]int8, S), Mix: make([]int8, S), AnchorScale: make([]int8, S)}
	for s := range cal.Scale {
		cal.Scale[s], cal.Anchor[s] = int8(3*s-10), int8(7-2*s)
		cal.Colour[s] = [3]int8{int8(s % 4), int8(-s), 5}
		cal.Mix[s], cal.AnchorScale[s] = int8(s-5), int8(9-s)
	}
	run := func(c Calib) [][]float32 {
		r := m.NewInference()
		r.SetCalib(c)
		out := [][]float32{append([]float32(nil), r.PixelStage0(r.LatentTensor(B)).Data...)}
		for s := 1; s < cfg.PixelStages; s++ {
			out = append(out, append([]float32(nil), r.PixelStage(s, bt.X, valid, bt.Ctx).Data...))
		}
		return out
	}
	base, shifted := run(Calib{}), run(cal)
	n := B * hw
	for s := range base {
		gp := GroupParams + MixParams
		if s > 0 {
			gp += AnchorParams
		}
		for i := range base[s] {
			ch := (i / n) % gp
			want := base[s][i]
			for c := 0; c < 3; c++ {
				if ch == 3+c || ch == GroupParams+c {
					want += float32(int(cal.Scale[s])+int(cal.Colour[s][c])) / ScaleUnit
				}
			}
			if ch >= GroupParams+3 && ch < GroupParams+MixParams {
				want += float32(cal.Mix[s]) / AnchorUnit
			}
			if s > 0 && ch >= anchorLogits && ch < anchorLogits+AnchorTaps {
				want += float32(cal.Anchor[s]) / AnchorUnit
			}
			if s > 0 && ch >= anchorLogScales && ch < anchorLogScales+3 {
				want += float32(cal.AnchorScale[s]) / ScaleUnit
			}
			if shifted[s][i] != want {
				t.Fatalf("stage %d, channel %d: %v with offsets, want %v", s, ch, shifted[s][i], want)
			}
		}
	}
}

// TestWithEngine: the evaluations and inferences of a model made WithEngine run on its
// workers, and give the same numbers as on all cores.
func TestWithEngine(t *testing.T) {
	cfg := tinyConfig(DeepStages)
	cfg.PosChannels, cfg.Context, cfg.Mixture, cfg.Anchors = true, true, true, true
	m := tinyModelOf(t, cfg)
	one := m.WithEngine(nn.Config{Workers: 1})
	if one.newTrainer().ctx.Workers() != 1 || one.NewInference().Engine().Workers != 1 || m.Engine().Workers != 0 {
		t.Fatal("the engine configuration does not reach the passes")
	}
	bt := randomBatch(5, 9)
	a, b := m.Calibrate(bt.X, bt.Ctx, bt.B), one.Calibrate(bt.X, bt.Ctx, bt.B)
	if math.Abs(a.Before-b.Before) > 1e-9 || math.Abs(a.After-b.After) > 1e-9 {
		t.Fatalf("calibration on all cores %v %.9f -> %.9f, on one %v %.9f -> %.9f", a.Calib, a.Before, a.After, b.Calib, b.Before, b.After)
	}
}

// TestPatchCostsAnyBatching: a patch's cost does not depend on the patches evaluated with it
// (the batches they fall into) nor on the number of workers (the coders' choice must not).
func TestPatchCostsAnyBatching(t *testing.T) {
	cfg := tinyConfig(DeepStages)
	cfg.PosChannels, cfg.Context, cfg.Mixture, cfg.Anchors = true, true, true, true
	m := tinyModelOf(t, cfg)
	bt := randomBatch(40, 5)
	all := m.WithEngine(nn.Config{Workers: 3}).PatchCosts(bt.X, bt.Ctx, bt.B, Calib{})
	for _, n := range []int{1, 3} {
		part := bt.slice(nil, 0, n)
		got := m.WithEngine(nn.Config{Workers: 1}).PatchCosts(part.X, part.Ctx, n, Calib{})
		for i := range got {
			if got[i] != all[i] {
				t.Errorf("patch %d: %v evaluated with %d patches on 1 worker, %v with 40 on 3", i, got[i], n, all[i])
			}
		}
	}
}

// TestSpreadPatches: n distinct indices in increasing order, as many in every row as the
// others give or take one, over most of the columns; all patches when n >= rows*cols.
func TestSpreadPatches(t *testing.T) {
	for _, c := range []struct{ rows, cols, n int }{{16, 12, 32}, {33, 60, 64}, {16, 12, 48}, {3, 5, 15}, {3, 5, 40}, {1, 7, 3}, {20, 1, 6}, {9, 9, 80}} {
		got := SpreadPatches(c.rows, c.cols, c.n)
		want := min(c.n, c.rows*c.cols)
		if len(got) != want {
			t.Fatalf("%+v: %d indices, want %d", c, len(got), want)
		}
		perRow := make([]int, c.rows)
		cols := map[int]bool{}
		for i, p := range got {
			if p < 0 || p >= c.rows*c.cols || i > 0 && p <= got[i-1] {
				t.Fatalf("%+v: indices %v not distinct, increasing and in range", c, got)
			}
			perRow[p/c.cols]++
			cols[p%c.cols] = true
		}
		lo, hi := slices.Min(perRow), slices.Max(perRow)
		if want < c.rows*c.cols && hi-lo > 1 && c.n <= c.rows*c.cols/2 {
			t.Errorf("%+v: %d to %d samples per row", c, lo, hi)
		}
		if want >= 2*c.cols && len(cols) < c.cols*3/4 {
			t.Errorf("%+v: only %d of %d columns sampled", c, len(cols), c.cols)
		}
	}
}
