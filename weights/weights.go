// Package weights holds the trained default model, embedded in the binary so that the codec
// needs no download. weights/MODEL.md is its model card.
package weights

import (
	_ "embed"
	"sync"

	"github.com/bitswap-codec/bitswap/vae"
)

//go:embed default.bsm
var defaultWeights []byte

var (
	once  sync.Once
	model *vae.Model
	err   error
)

// Default returns the embedded model (parsed once; shared and read-only).
func Default() (*vae.Model, error) {
	once.Do(func() { model, err = vae.UnmarshalWeights(defaultWeights) })
	return model, err
}

// Bytes returns the embedded weights file.
func Bytes() []byte { return defaultWeights }

// ID returns the model id of the embedded weights (see vae.ModelID).
func ID() [8]byte { return vae.ModelID(defaultWeights) }
