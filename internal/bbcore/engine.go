package bbcore

import (
	"errors"
	"sync"

	"github.com/bitswap-codec/bitswap/codec"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/vae/nn"
)

// newInference returns an Inference of cd's model whose networks run on cd.Workers workers.
func (cd *Coder) newInference() *vae.Inference {
	return cd.Model.NewInferenceWith(cd.engine(cd.Workers))
}

// engine is the engine configuration of cd's passes on the given number of workers: the
// model's arithmetic (nn.Config.Float32) with that many workers.
func (cd *Coder) engine(workers int) nn.Config {
	return nn.Config{Workers: workers, Float32: cd.Model.Engine().Float32}
}

// float32Coder returns a copy of cd whose networks run every convolution in float32: the
// arithmetic of payloads older than firstIntVersion.
func (cd *Coder) float32Coder() *Coder {
	c := *cd
	e := cd.Model.Engine()
	e.Float32 = true
	c.Model = cd.Model.WithEngine(e)
	return &c
}

// halfInferences returns the two Inferences of the steps' pipeline (see pipeline.go), each
// on one worker, with calibration cal; or none for a coder on one worker (or one core).
// One worker each: the two halves' networks run at once, one per core, which does more
// than splitting every operation of one network over both (see pipeline.go).
func (cd *Coder) halfInferences(cal vae.Calib) [2]*vae.Inference {
	if cd.Workers == 1 || cd.Workers == 0 && nn.DefaultWorkers() < 2 {
		return [2]*vae.Inference{}
	}
	var hs [2]*vae.Inference
	for h := range hs {
		hs[h] = cd.Model.NewInferenceWith(cd.engine(1))
		hs[h].SetCalib(cal)
	}
	return hs
}

// withWorkers returns a copy of cd that runs on the number of workers opt asks for (its own
// when opt is nil or asks for none). The copy shares the model.
func (cd *Coder) withWorkers(opt *codec.Options) *Coder {
	if opt == nil || opt.Workers == 0 {
		return cd
	}
	c := *cd
	c.Workers = opt.Workers
	if cd.Model != nil {
		c.Model = cd.Model.WithEngine(c.engine(opt.Workers))
	}
	return &c
}

// needModel makes sure cd.Model is set, loading it with cd.Lazy if it is not (the coders
// load the model only for images that it codes).
func (cd *Coder) needModel() error {
	if cd.Model != nil {
		return nil
	}
	if cd.Lazy == nil {
		return errors.New("bbcore: coder without a model")
	}
	m, err := cd.Lazy()
	if err != nil {
		return err
	}
	cd.Model = m
	if cd.Workers > 0 {
		cd.Model = m.WithEngine(cd.engine(cd.Workers))
	}
	return nil
}

// wholeFallback returns a function that waits for img coded whole by the fallback coder (see
// startWholeFallback). The coding runs beside the networks when cd.Workers is 0; a coder with
// a set number of workers, or with the model forced on every patch (AllVAE, which needs the
// whole image's coding only when no patch is left to the model), codes the image when it is
// first asked for.
func (cd *Coder) wholeFallback(img *imageio.Image) func() ([]byte, []float64, error) {
	if cd.Workers < 1 && !cd.AllVAE {
		return startWholeFallback(img)
	}
	var once sync.Once
	var out []byte
	var costs []float64
	var err error
	return func() ([]byte, []float64, error) {
		once.Do(func() { out, costs, err = startWholeFallback(img)() })
		return out, costs, err
	}
}

// Cores implements codec.MultiCore. Every network pass (the coding steps, and the encoder's
// passes that calibrate the model to the image and price the patches) runs on opt.Workers
// goroutines; with 0, on runtime.GOMAXPROCS, with the whole image's fallback coding beside
// them.
func (c *CodecCoder) Cores(opt *codec.Options) int {
	if opt == nil || opt.Workers < 1 {
		return nn.DefaultWorkers() + 1
	}
	return opt.Workers
}
