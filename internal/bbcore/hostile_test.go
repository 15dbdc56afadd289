package bbcore_test

import (
	"errors"
	"math/rand/v2"
	"runtime/metrics"
	"testing"

	"github.com/bitswap-codec/bitswap/bitswap"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/bbcore"
	"github.com/bitswap-codec/bitswap/rans"
	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/weights"
)

// hostileChainsPayload is a VAE-mode payload for an image of the given number of patches
// with patch 0 marked as a fallback patch and the given number of chains (lanes lanes each,
// latent bits k), all starting at step 0, over a message of random words.
func hostileChainsPayload(patches, chains, lanes int, k byte, words int) []byte {
	bitmap := make([]byte, (patches+7)/8)
	bitmap[0] = 1
	rng := rand.New(rand.NewPCG(7, 7))
	ws := make([]uint32, chains*lanes+words)
	for i := range ws {
		ws[i] = rng.Uint32()
	}
	msg := rans.NewMessageFromWords(chains*lanes, ws).Bytes()
	S := vae.DeepStages
	cal := vae.Calib{Scale: make([]int8, S), Anchor: make([]int8, S), Colour: make([][3]int8, S)}
	in := bbcore.Info{LatentBits: int(k), Lanes: lanes, Bitmap: bitmap, Calib: cal, Chains: chains,
		Starts: make([]int, chains), MessageBytes: len(msg)}
	return append(in.Append(nil), msg...)
}

// A payload may declare up to 255/lanes chains and start them all at step 0, so that the
// decoder would run the networks on a batch of 255 patches. With the default weights, a 392
// KB payload for a 512x512 RGB image (1.5 MiB of pixels) took the heap to about 1 GiB before
// failing, against about 130 MiB for 16 chains; the header check now refuses more chains
// than the encoder writes before any network runs.
func TestDecodeHostileChainCount(t *testing.T) {
	m, err := weights.Default()
	if err != nil {
		t.Fatal(err)
	}
	cd := &bbcore.Coder{Model: m, Scheme: bitswap.Scheme{}}
	h := &container.Header{Width: 512, Height: 512, Color: imageio.RGB, Depth: 8}
	payload := hostileChainsPayload(256, 255, 1, 1, 100000)
	alloc := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	before := heapAllocBytes(alloc)
	if _, err := cd.Decode(h, payload, nil); !errors.Is(err, bbcore.ErrCorrupt) {
		t.Fatalf("random payload: %v", err)
	}
	if n := heapAllocBytes(alloc) - before; n > 256<<20 {
		t.Fatalf("a %d KB payload made Decode allocate %d MiB", len(payload)>>10, n>>20)
	}
}
