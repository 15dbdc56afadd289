package bsw_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/bitswap-codec/bitswap/bsw"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/vae"
)

// smallWeights returns the weights file of a small untrained model.
func smallWeights(t *testing.T) []byte {
	t.Helper()
	cfg := vae.Config{Layers: 2, ZC: 2, Width: 8, BlocksInf: []int{1, 0}, BlocksGen: []int{1, 0}, InKernel: 3,
		PixelStages: vae.PyramidStages, StageSkip: true, StageHints: true, EdgeHints: true}
	m, err := vae.New(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	return m.MarshalWeights()
}

// TestLoadModel: a file coded with other weights records them, and only they decode it.
func TestLoadModel(t *testing.T) {
	weights := smallWeights(t)
	m, err := bsw.LoadModel(weights)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range m.Coders() {
		names = append(names, c.Name())
	}
	if len(names) != 2 || names[0] != "bitswap" || names[1] != "bbans" {
		t.Errorf("Coders(): %q", names)
	}
	if (*bsw.Model)(nil).Coders() != nil {
		t.Error("a nil Model has coders")
	}
	img := loadTestdata(t, "picos-100x75.png")
	for _, coder := range []string{"bitswap", "bbans"} {
		data := encodeImage(t, img, &bsw.Options{Coder: coder, Model: m})
		if h := header(t, data); h.ModelID != vae.ModelID(weights) {
			t.Fatalf("%s: the file records model %x", coder, h.ModelID)
		}
		if _, err := bsw.DecodeImage(bytes.NewReader(data), nil); !errors.Is(err, bsw.ErrModelMismatch) {
			t.Fatalf("%s: decoded with the embedded model: %v", coder, err)
		}
		got, err := bsw.DecodeImage(bytes.NewReader(data), &bsw.Options{Model: m})
		if err != nil || !imageio.Equal(got, img) {
			t.Fatalf("%s: decoded with its model: %v", coder, err)
		}
	}
	if _, err := bsw.LoadModel([]byte("not weights")); !errors.Is(err, vae.ErrBadWeights) {
		t.Errorf("LoadModel of a bad file: %v", err)
	}
}
