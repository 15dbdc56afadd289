package bbcore

import (
	"bytes"
	"testing"

	"github.com/bitswap-codec/bitswap/codec"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/vae"
)

func engineTestModel(t *testing.T) *vae.Model {
	cfg := vae.Config{Layers: 2, ZC: 2, Width: 8, BlocksInf: []int{1, 0}, BlocksGen: []int{1, 0}, InKernel: 3,
		PixelStages: vae.PyramidStages, StageSkip: true, StageHints: true, EdgeHints: true}
	m, err := vae.New(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestWorkersReachTheNetworks: codec.Options.Workers becomes the worker count of the
// networks' passes, without changing the coder it was asked of.
func TestWorkersReachTheNetworks(t *testing.T) {
	cd := &Coder{Model: engineTestModel(t)}
	if cd.withWorkers(nil) != cd || cd.withWorkers(&codec.Options{}) != cd {
		t.Fatal("no Options.Workers: not the coder itself")
	}
	for _, w := range []int{1, 2, 5} {
		c := cd.withWorkers(&codec.Options{Workers: w})
		if c.Workers != w || c.Model.Engine().Workers != w || c.Model.Cfg.PixelStages != cd.Model.Cfg.PixelStages {
			t.Fatalf("Options.Workers %d: coder with %d workers, model evaluations on %d", w, c.Workers, c.Model.Engine().Workers)
		}
		if got := c.newInference().Engine().Workers; got != w {
			t.Fatalf("Options.Workers %d: inference on %d workers", w, got)
		}
	}
	if cd.Workers != 0 || cd.newInference().Engine().Workers != 0 {
		t.Fatal("the coder asked for copies changed")
	}
}

// TestCodecCoderAnyWorkers: a CodecCoder used from several goroutines at once, each call with
// its own worker count, gives the same payload, which decodes with any worker count.
func TestCodecCoderAnyWorkers(t *testing.T) {
	m := engineTestModel(t)
	cc := NewCodecCoder(container.BitSwap, "bitswap-test", testScheme{}, m.MarshalWeights, func() (*vae.Model, error) { return m, nil })
	cc.allVAE = true // the untrained model would lose to the fallback coder everywhere
	img := imageio.New(70, 50, imageio.RGB, 8)
	for c, pl := range img.Planes {
		for i := range pl {
			pl[i] = uint16((i*(c+3) + i/70*5) % 251)
		}
	}
	workers := []int{0, 1, 2, 3}
	payloads := make([][]byte, len(workers))
	errs := make(chan error, len(workers))
	for i, w := range workers {
		go func() {
			var err error
			payloads[i], err = cc.Encode(img, &codec.Options{Workers: w})
			errs <- err
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if info, err := Inspect(payloads[0], imageio.NewGrid(70, 50).Len()); err != nil || !info.VAE {
		t.Fatalf("not a VAE payload (%v)", err)
	}
	h := &container.Header{Width: img.Width, Height: img.Height, Color: img.Color, Depth: img.Depth}
	for i, w := range workers {
		if !bytes.Equal(payloads[i], payloads[0]) {
			t.Fatalf("workers %d: other payload than with %d", w, workers[0])
		}
		got, err := cc.Decode(h, payloads[0], &codec.Options{Workers: w})
		if err != nil || !imageio.Equal(got, img) {
			t.Fatalf("decoding with %d workers: %v", w, err)
		}
	}
}

// testScheme is BB-ANS's coding order (package bbans, which imports this package).
type testScheme struct{}

func (testScheme) Ops(L int) []Op {
	var ops []Op
	for i := 0; i < L; i++ {
		ops = append(ops, PopPosterior(i))
	}
	ops = append(ops, PushPixels())
	for i := 0; i < L; i++ {
		ops = append(ops, PushPrior(i))
	}
	return ops
}
