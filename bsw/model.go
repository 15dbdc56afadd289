package bsw

import (
	"fmt"
	"slices"

	"github.com/bitswap-codec/bitswap/bbans"   // also registers the bbans coder
	"github.com/bitswap-codec/bitswap/bitswap" // also registers the bitswap coder
	"github.com/bitswap-codec/bitswap/codec"
	"github.com/bitswap-codec/bitswap/weights"
)

// Model is a trained model for the model coders (bitswap, bbans) other than the one embedded
// in this build; set Options.Model to code with it.
type Model struct {
	// A coder per model coder, all on the same weights: a file records the model's id, so a
	// file made by either is decoded with the same Model.
	list []codec.Coder
}

// LoadModel reads a weights file written by `bitswap train --export`.
func LoadModel(data []byte) (*Model, error) {
	bs, err := bitswap.WithWeights(data)
	if err != nil {
		return nil, fmt.Errorf("bsw: %w", err)
	}
	bb, err := bbans.WithWeights(data)
	if err != nil {
		return nil, fmt.Errorf("bsw: %w", err)
	}
	return &Model{list: []codec.Coder{bs, bb}}, nil
}

// Coders returns the model coders on m's weights, to use instead of the registered ones in
// codec.Options.Coders (as `bitswap bench --model` does). A nil *Model has none.
func (m *Model) Coders() []codec.Coder {
	if m == nil {
		return nil
	}
	return slices.Clone(m.list)
}

// Preload starts loading the embedded model in the background when encoding with o may
// need it (a model coder, no Options.Model), so that the load overlaps reading and decoding
// the input instead of adding to the encode: a program calls it before it reads the image.
// Optional; the coders load the model themselves (once) when an image needs it.
func Preload(o *Options) {
	if o != nil && o.Model != nil {
		return
	}
	switch o.coder() {
	case "bitswap", "bbans":
		go weights.Default()
	}
}
