package bbcore

import (
	"fmt"
	"sync"

	"github.com/bitswap-codec/bitswap/codec"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/vae"
)

// CodecCoder adapts a Scheme with a lazily loaded model to the codec.Coder interface. The
// model is parsed only when an image needs it (not for gray, 16-bit or decoded-JPEG images),
// and the model id is the hash of the weights file, computed without parsing it.
type CodecCoder struct {
	id      container.CoderID
	name    string
	scheme  Scheme
	weights func() []byte
	load    func() (*vae.Model, error)

	idOnce  sync.Once
	modelID [8]byte
	once    sync.Once
	model   *vae.Model
	err     error

	allVAE bool // tests: the model codes every patch it can (Coder.AllVAE)
}

// NewCodecCoder makes a codec coder on a weights file: weights returns its bytes and load
// the model parsed from them, called once, on first use.
func NewCodecCoder(id container.CoderID, name string, scheme Scheme, weights func() []byte, load func() (*vae.Model, error)) *CodecCoder {
	return &CodecCoder{id: id, name: name, scheme: scheme, weights: weights, load: load}
}

// NewCodecCoderWeights makes a codec coder on the model of the weights file data (as
// written by `bitswap train --export`), for codec.Options.Coders. It checks the file now
// and decodes the model when an image first needs it, as for the embedded model.
func NewCodecCoderWeights(id container.CoderID, name string, scheme Scheme, data []byte) (*CodecCoder, error) {
	if err := vae.CheckWeights(data); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return NewCodecCoder(id, name, scheme, func() []byte { return data }, func() (*vae.Model, error) { return vae.UnmarshalWeights(data) }), nil
}

// loadModel returns the model, loading it on first use.
func (c *CodecCoder) loadModel() (*vae.Model, error) {
	c.once.Do(func() {
		if c.model, c.err = c.load(); c.err != nil {
			c.err = fmt.Errorf("%s: loading the model: %w", c.name, c.err)
		}
	})
	return c.model, c.err
}

// coder returns a Coder for one call, on opt.Workers goroutines.
func (c *CodecCoder) coder(opt *codec.Options) *Coder {
	return (&Coder{Scheme: c.scheme, Lazy: c.loadModel, AllVAE: c.allVAE}).withWorkers(opt)
}

// ID implements codec.Coder.
func (c *CodecCoder) ID() container.CoderID { return c.id }

// Name implements codec.Coder.
func (c *CodecCoder) Name() string { return c.name }

// ModelID implements codec.Coder: the id of the weights in use.
func (c *CodecCoder) ModelID() [8]byte {
	c.idOnce.Do(func() { c.modelID = vae.ModelID(c.weights()) })
	return c.modelID
}

// Encode implements codec.Coder; the networks run on opt.Workers goroutines.
func (c *CodecCoder) Encode(img *imageio.Image, opt *codec.Options) ([]byte, error) {
	return c.coder(opt).Encode(img, progressOf(opt))
}

// Decode implements codec.Coder; the networks run on opt.Workers goroutines.
func (c *CodecCoder) Decode(h *container.Header, payload []byte, opt *codec.Options) (*imageio.Image, error) {
	return c.coder(opt).Decode(h, payload, progressOf(opt))
}

// NegELBO returns the model's -ELBO of img in bits per subpixel over its padded patches (for
// RGB(A) 8-bit images; the bench shows it next to the achieved rate), calibrated to the image
// as the encoder does it.
func (c *CodecCoder) NegELBO(img *imageio.Image) (float64, error) {
	m, err := c.loadModel()
	if err != nil {
		return 0, err
	}
	if img.Depth != 8 || (img.Color != imageio.RGB && img.Color != imageio.RGBA) {
		return 0, fmt.Errorf("%s: the model codes 8-bit RGB only", c.name)
	}
	return PatchNegELBO(m, img, nil, Calibrate(m, img)), nil
}

func progressOf(opt *codec.Options) func(int, int) {
	if opt == nil {
		return nil
	}
	return opt.Progress
}
