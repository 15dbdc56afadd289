package train

import (
	"math"
	"testing"

	"github.com/bitswap-codec/bitswap/vae"
)

// TestInitFromWeights: a training run started from a weights file (Options.Init) starts
// from the same function, not from the random weight-norm parameters the file lacks.
func TestInitFromWeights(t *testing.T) {
	cfg := contextConfig()
	cfg.Mixture, cfg.Anchors = true, true
	m, _ := upgradeFixture(t, cfg)
	loaded, err := vae.UnmarshalWeights(m.MarshalWeights())
	if err != nil {
		t.Fatal(err)
	}
	ck := fromWeights(loaded)
	m2, err := vae.ModelFromParams(ck.Config, ck.Params, ck.Bins)
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
