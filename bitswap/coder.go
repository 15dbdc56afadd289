package bitswap

import (
	"github.com/bitswap-codec/bitswap/codec"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/internal/bbcore"
	"github.com/bitswap-codec/bitswap/weights"
)

// Coder is the "bitswap" coder of package codec, on the embedded default model.
var Coder = bbcore.NewCodecCoder(container.BitSwap, "bitswap", Scheme{}, weights.Bytes, weights.Default)

func init() { codec.Register(Coder) }

// WithWeights returns a "bitswap" coder on the model of the weights file data, to pass in
// codec.Options.Coders (the registered Coder keeps the embedded model).
func WithWeights(data []byte) (*bbcore.CodecCoder, error) {
	return bbcore.NewCodecCoderWeights(container.BitSwap, "bitswap", Scheme{}, data)
}
