package bench

import (
	"fmt"

	"github.com/bitswap-codec/bitswap/codec"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
)

// Registered returns one Codec per coder registered in the codec package (sorted by name).
// Each row runs the coder through codec.Encode and codec.Decode, so its size is that of the
// complete .bsw file, header included, and the decoder's own checks (pixel CRC) apply on top
// of the comparison. A coder that implements NegELBOer gets the −ELBO column.
//
// The coders run with s.CoderWorkers goroutines (codec.Options.Workers; 0 counts as 1), so
// that by default their wall-clock times are on the same single-threaded footing as the
// baselines'. The number does not change the output bytes. A row's Cores is what the coder
// says it runs on with that setting (codec.Cores).
func Registered(s Settings) []Codec {
	w := s.CoderWorkers
	if w < 1 {
		w = 1
	}
	var out []Codec
	for _, name := range codec.Names() {
		c, err := codec.Lookup(name)
		if err != nil {
			continue // unregistered since Names: nothing to run
		}
		for _, o := range s.Coders {
			if o.Name() == name {
				c = o
			}
		}
		rc := registryCodec{name: name, id: c.ID(), workers: w, coders: s.Coders}
		rc.cores = codec.Cores(c, rc.opts())
		if e, ok := c.(NegELBOer); ok && !s.NoNegELBO {
			out = append(out, registryELBOCodec{rc, e})
			continue
		}
		out = append(out, rc)
	}
	return out
}

type registryCodec struct {
	name    string
	id      container.CoderID
	workers int
	coders  []codec.Coder // codec.Options.Coders
	cores   int           // codec.Cores with these workers
}

func (c registryCodec) Key() string   { return c.name }
func (c registryCodec) Cores() int    { return c.cores }
func (c registryCodec) Label() string { return "bitswap " + c.name + " (.bsw file)" }

// own marks the row as one of the project's coders (drawn highlighted in the plot).
func (registryCodec) own() {}

func (c registryCodec) opts() *codec.Options {
	return &codec.Options{Workers: c.workers, Coders: c.coders}
}

func (c registryCodec) Encode(img *Image) ([]byte, error) {
	m, err := ToImageio(img)
	if err != nil {
		return nil, err
	}
	return codec.Encode(m, c.name, c.opts())
}

func (c registryCodec) Decode(data []byte, s Shape) (*Image, error) {
	m, h, err := codec.Decode(data, c.opts())
	if err != nil {
		return nil, err
	}
	if h.Coder != c.id {
		return nil, fmt.Errorf("file names coder %v, not %s", h.Coder, c.name)
	}
	return FromImageio(m)
}

// registryELBOCodec is a registered coder that reports its model's −ELBO.
type registryELBOCodec struct {
	registryCodec
	e NegELBOer
}

func (c registryELBOCodec) NegELBO(img *imageio.Image) (float64, error) { return c.e.NegELBO(img) }
