package bbcore

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/bitswap-codec/bitswap/rans"
	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/weights"
)

// pipelineStep returns a decoder step of 5 patches (one of them 20x9) on the default model
// over msg, with random z_1 and context, and with the two half Inferences when piped.
func pipelineStep(t *testing.T, msg *rans.Message, piped bool) *Step {
	m, err := weights.Default()
	if err != nil {
		t.Fatal(err)
	}
	s := newStep(m.NewInference(), msg, 2, []int{0, 1, 2, 3, 4}, true, 3)
	if piped {
		s.halves = [2]*vae.Inference{m.NewInference(), m.NewInference()}
	}
	rng := rand.New(rand.NewPCG(5, 5))
	s.ensureLayer(0)
	for i := range s.Z[0].Data {
		s.Z[0].Data[i] = float32(rng.NormFloat64())
	}
	for b := range s.Valid {
		s.Valid[b] = [2]int{32, 32}
	}
	s.Valid[3] = [2]int{20, 9}
	if s.Ctx != nil {
		for i := range s.Ctx.Pix {
			s.Ctx.Pix[i] = uint8(rng.IntN(256))
		}
		for b := range s.Ctx.Has {
			s.Ctx.Has[b] = uint8(b % 4)
		}
	}
	return s
}

// The pipelined pops pop exactly what the stage-by-stage loop pops, from the same message.
func TestPipelineSameAsSerial(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ws := make([]uint32, 40000)
	for i := range ws {
		ws[i] = rng.Uint32()
	}
	var xs [2][]uint8
	var rest [2][]byte
	for i, piped := range []bool{false, true} {
		s := pipelineStep(t, rans.NewMessageFromWords(10, ws), piped)
		if err := s.popPixels(); err != nil {
			t.Fatal(err)
		}
		xs[i], rest[i] = s.X, s.Msg.Bytes()
	}
	if !bytes.Equal(xs[0], xs[1]) {
		t.Fatal("the pipeline decoded other pixels")
	}
	if !bytes.Equal(rest[0], rest[1]) {
		t.Fatal("the pipeline left another message")
	}
}

// A message that runs dry in the pixels stops the pipeline's network goroutine too.
func TestPipelineStopsOnError(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, words := range []int{0, 40, 200} {
		ws := make([]uint32, words)
		s := pipelineStep(t, rans.NewMessageFromWords(10, ws), true)
		if err := s.popPixels(); err == nil {
			t.Fatalf("%d words: popped every pixel", words)
		}
	}
	for i := 0; runtime.NumGoroutine() > before && i < 100; i++ {
		time.Sleep(10 * time.Millisecond) // the networks' workers park in their own time
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after the failed pops, %d before", n, before)
	}
}
