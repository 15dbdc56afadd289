package vae

import (
	"math"
	"testing"
)

// TestInitFromWeights: a training run started from a weights file (TrainOptions.Init) starts
// from the same function, not from the random weight-norm parameters the file lacks.
func TestInitFromWeights(t *testing.T) {
	cfg := tinyConfig(DeepStages)
	cfg.PosChannels, cfg.Context, cfg.Mixture, cfg.Anchors = true, true, true, true
	m := tinyModelOf(t, cfg)
	loaded, err := UnmarshalWeights(m.MarshalWeights())
	if err != nil {
		t.Fatal(err)
	}
	loaded.paramsFromEffective()
	ps, _ := loaded.paramSlices()
	m2, err := ModelFromParams(loaded.Cfg, ps, loaded.Bins)
	if err != nil {
		t.Fatal(err)
	}
	bt := runsBatch()
	want := m.NegELBO(bt.X, bt.Ctx, bt.B).BPD
	got := m2.NegELBO(bt.X, bt.Ctx, bt.B).BPD
	if math.Abs(got-want) > 1e-4*want {
		t.Fatalf("-ELBO %.6f after the round trip through a weights file, %.6f before", got, want)
	}
}
