package bbcore

import (
	"fmt"
	"sync"

	"github.com/bitswap-codec/bitswap/codec"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/vae"
)

// CodecCoder adapts a Scheme with a lazily loaded model to the codec.Coder interface.
type CodecCoder struct {
	id     container.CoderID
	name   string
	scheme Scheme
	load   func() (*vae.Model, []byte, error)

	once    sync.Once
	coder   *Coder
	modelID [8]byte
	err     error
}

// NewCodecCoder makes a codec coder; load returns the model and its weights file (for the
// model id) and is called once, on first use.
func NewCodecCoder(id container.CoderID, name string, scheme Scheme, load func() (*vae.Model, []byte, error)) *CodecCoder {
	return &CodecCoder{id: id, name: name, scheme: scheme, load: load}
}

// NewCodecCoderWeights makes a codec coder on the model of the weights file data (as
// written by `bitswap train --export`), for codec.Options.Coders.
func NewCodecCoderWeights(id container.CoderID, name string, scheme Scheme, data []byte) (*CodecCoder, error) {
	m, err := vae.UnmarshalWeights(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return NewCodecCoder(id, name, scheme, func() (*vae.Model, []byte, error) { return m, data, nil }), nil
}

func (c *CodecCoder) init() error {
	c.once.Do(func() {
		m, w, err := c.load()
		if err != nil {
			c.err = fmt.Errorf("%s: loading the model: %w", c.name, err)
			return
		}
		c.coder = &Coder{Model: m, Scheme: c.scheme}
		c.modelID = vae.ModelID(w)
	})
	return c.err
}

// ID implements codec.Coder.
func (c *CodecCoder) ID() container.CoderID { return c.id }

// Name implements codec.Coder.
func (c *CodecCoder) Name() string { return c.name }

// ModelID implements codec.Coder: the id of the weights in use.
func (c *CodecCoder) ModelID() [8]byte {
	if c.init() != nil {
		return [8]byte{}
	}
	return c.modelID
}

// Encode implements codec.Coder; the networks run on opt.Workers goroutines.
func (c *CodecCoder) Encode(img *imageio.Image, opt *codec.Options) ([]byte, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	return c.coder.withWorkers(opt).Encode(img, progressOf(opt))
}

// Decode implements codec.Coder; the networks run on opt.Workers goroutines.
func (c *CodecCoder) Decode(h *container.Header, payload []byte, opt *codec.Options) (*imageio.Image, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	return c.coder.withWorkers(opt).Decode(h, payload, progressOf(opt))
}

// NegELBO returns the model's -ELBO of img in bits per subpixel over its padded patches (for
// RGB(A) 8-bit images; the bench shows it next to the achieved rate), calibrated to the image
// as the encoder does it.
func (c *CodecCoder) NegELBO(img *imageio.Image) (float64, error) {
	if err := c.init(); err != nil {
		return 0, err
	}
	if img.Depth != 8 || (img.Color != imageio.RGB && img.Color != imageio.RGBA) {
		return 0, fmt.Errorf("%s: the model codes 8-bit RGB only", c.name)
	}
	return PatchNegELBO(c.coder.Model, img, nil, Calibrate(c.coder.Model, img)), nil
}

func progressOf(opt *codec.Options) func(int, int) {
	if opt == nil {
		return nil
	}
	return opt.Progress
}
