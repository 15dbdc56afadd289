package train

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math"
	"os"

	"github.com/bitswap-codec/bitswap/internal/atomicfile"
	"github.com/bitswap-codec/bitswap/vae"
)

// Checkpoint is the complete training state (gob-encoded). Gob matches fields by name, so
// checkpoints written while this type lived in package vae load unchanged; renaming or
// retyping a field breaks them.
type Checkpoint struct {
	Config  vae.Config
	Params  [][]float32 // every conv's V, G, Bias in Convs() order (vae.Model.Params)
	EMA     [][]float32
	AdamM   [][]float32
	AdamV   [][]float32
	Step    int
	Seconds float64 // total training wall time so far
	RNG     []byte  // state of the sampling/noise generator
	BestVal float64 // best validation -ELBO seen (bits/dim), +Inf if none
	BestEMA [][]float32
	ValSet  string // fingerprint of the validation images BestVal was measured on
	Bins    []vae.BinRef
	Notes   []string // one line per run: what changed
}

// SaveCheckpoint writes ck atomically.
func SaveCheckpoint(path string, ck *Checkpoint) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(ck); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, buf.Bytes())
}

// LoadCheckpoint reads a checkpoint.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ck Checkpoint
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&ck); err != nil {
		return nil, fmt.Errorf("%s: not a checkpoint: %w", path, err)
	}
	return &ck, nil
}

// fromWeights is the checkpoint a new run starts from when it starts from the model m read
// from a weights file (Options.Init): no optimizer state, no validation yet.
func fromWeights(m *vae.Model) *Checkpoint {
	return &Checkpoint{Config: m.Cfg, Params: paramsFromEffective(m), Bins: m.Bins, BestVal: math.Inf(1)}
}

// paramsFromEffective returns weight-normalization parameters (vae.Model.Params order) for
// m's effective weights, which are all a model read from a weights file has: V = W and G =
// ||W|| per output, so that training continues from the same function.
func paramsFromEffective(m *vae.Model) [][]float32 {
	var out [][]float32
	for _, c := range m.Convs() {
		k := c.Shape.K()
		v, g := make([]float32, c.Shape.WeightLen()), make([]float32, c.Shape.Cout)
		for o := 0; o < c.Shape.Cout; o++ {
			w := c.W[o*k : (o+1)*k]
			copy(v[o*k:(o+1)*k], w)
			g[o] = float32(math.Sqrt(sumSquares(w)))
		}
		out = append(out, v, g, append([]float32(nil), c.Bias...))
	}
	return out
}

func cloneSlices(src [][]float32) [][]float32 {
	out := make([][]float32, len(src))
	for i, s := range src {
		out[i] = append([]float32(nil), s...)
	}
	return out
}

func zerosLike(src [][]float32) [][]float32 {
	out := make([][]float32, len(src))
	for i, s := range src {
		out[i] = make([]float32, len(s))
	}
	return out
}

func sumSquares(v []float32) float64 {
	ss := 0.0
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	return ss
}
