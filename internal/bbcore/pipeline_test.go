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

// pipelineStep returns a step of 5 patches (one of them 20x9) of the default model over msg,
// with random context, and with the two half Inferences when piped.
func pipelineStep(t *testing.T, msg *rans.Message, decode, piped bool) *Step {
	m, err := weights.Default()
	if err != nil {
		t.Fatal(err)
	}
	s := newStep(m.NewInference(), msg, 2, []int{0, 1, 2, 3, 4}, decode, 3)
	if piped {
		s.halves = [2]*vae.Inference{m.NewInference(), m.NewInference()}
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for b := range s.Valid {
		s.Valid[b] = [2]int{32, 32}
	}
	s.Valid[3] = [2]int{20, 9}
	for i := range s.Ctx.Pix {
		s.Ctx.Pix[i] = uint8(rng.IntN(256))
	}
	for b := range s.Ctx.Has {
		s.Ctx.Has[b] = uint8(b % 4)
	}
	return s
}

func randomWords(n int, seed uint64) []uint32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	ws := make([]uint32, n)
	for i := range ws {
		ws[i] = rng.Uint32()
	}
	return ws
}

// The pipeline codes exactly what the phase-by-phase loop codes: the decoder pops the same
// patches from random bits and leaves the same message, the encoder pushes those patches
// back into the same message, and decoding undoes it.
func TestPipelineSameAsSerial(t *testing.T) {
	ws := randomWords(40000, 1)
	var xs [2][]uint8
	var rest [2][]byte
	for i, piped := range []bool{false, true} {
		s := pipelineStep(t, rans.NewMessageFromWords(10, ws), true, piped)
		if err := s.run(testScheme{}); err != nil {
			t.Fatal(err)
		}
		xs[i], rest[i] = s.X, s.Msg.Bytes()
	}
	if !bytes.Equal(xs[0], xs[1]) {
		t.Fatal("the pipelined decoder decoded other pixels")
	}
	if !bytes.Equal(rest[0], rest[1]) {
		t.Fatal("the pipelined decoder left another message")
	}
	start := rans.NewMessageFromWords(10, ws).Bytes()
	for _, piped := range []bool{false, true} {
		msg, err := rans.FromBytes(rest[0])
		if err != nil {
			t.Fatal(err)
		}
		s := pipelineStep(t, msg, false, piped)
		copy(s.X, xs[0])
		if err := s.run(testScheme{}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s.Msg.Bytes(), start) {
			t.Fatalf("piped %v: encoding the decoded patches did not give back the message", piped)
		}
	}
}

// A message that runs dry in the middle of a step stops the pipeline's network goroutine
// too.
func TestPipelineStopsOnError(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, words := range []int{0, 40, 200, 2000} {
		s := pipelineStep(t, rans.NewMessageFromWords(10, make([]uint32, words)), true, true)
		if err := s.run(testScheme{}); err == nil {
			t.Fatalf("%d words: decoded a whole step", words)
		}
	}
	for i := 0; runtime.NumGoroutine() > before && i < 100; i++ {
		time.Sleep(10 * time.Millisecond) // the networks' workers park in their own time
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after the failed steps, %d before", n, before)
	}
}

// A step codes R alone for the entries whose chroma is known (vae.ChromaKnown): the decoder
// leaves their G and B as the coder put them, takes fewer bits, and encoding the decoded
// patches gives back the message, pipelined or not.
func TestStepChromaKnown(t *testing.T) {
	ws := randomWords(40000, 3)
	known := func(s *Step) *Step {
		rng := rand.New(rand.NewPCG(8, 8))
		B := s.B()
		for _, b := range []int{1, 3} {
			s.Ctx.Has[b] |= vae.ChromaKnown
			for c := 1; c < 3; c++ {
				pl := s.X[(c*B+b)*patchPix : (c*B+b+1)*patchPix]
				for i := range pl {
					pl[i] = uint8(100 + rng.IntN(20))
				}
				padPatch(pl, s.Valid[b][0], s.Valid[b][1]) // as the coder's patches come
			}
		}
		return s
	}
	var left [2]int
	var dec []uint8
	for i, flags := range []bool{false, true} {
		s := pipelineStep(t, rans.NewMessageFromWords(10, ws), true, false)
		if flags {
			s = known(s)
		}
		if err := s.run(testScheme{}); err != nil {
			t.Fatal(err)
		}
		left[i] = len(s.Msg.Bytes())
		dec = s.X
	}
	if left[1] <= left[0] {
		t.Fatalf("%d bytes left after decoding R alone in two patches, %d after all colours: want more", left[1], left[0])
	}
	want := known(pipelineStep(t, rans.NewMessageFromWords(10, ws), true, false)).X
	B := 5
	for _, b := range []int{1, 3} {
		for c := 1; c < 3; c++ {
			o := (c*B + b) * patchPix
			if !bytes.Equal(dec[o:o+patchPix], want[o:o+patchPix]) {
				t.Fatalf("entry %d colour %d: the decoder changed the known chroma", b, c)
			}
		}
	}
	start := rans.NewMessageFromWords(10, ws).Bytes()
	for _, piped := range []bool{false, true} {
		s := pipelineStep(t, rans.NewMessageFromWords(10, ws), true, false)
		s = known(s)
		if err := s.run(testScheme{}); err != nil {
			t.Fatal(err)
		}
		msg, err := rans.FromBytes(s.Msg.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		e := known(pipelineStep(t, msg, false, piped))
		copy(e.X, s.X)
		if err := e.run(testScheme{}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(e.Msg.Bytes(), start) {
			t.Fatalf("piped %v: encoding the decoded patches did not give back the message", piped)
		}
	}
}
