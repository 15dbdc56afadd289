package bbcore_test

import (
	"encoding/binary"
	"math/rand/v2"
	"runtime/metrics"
	"testing"

	"github.com/bitswap-codec/bitswap/bitswap"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/bbcore"
	"github.com/bitswap-codec/bitswap/rans"
	"github.com/bitswap-codec/bitswap/weights"
)

// hostileChainsPayload is a VAE-mode payload for an image of the given number of patches
// with patch 0 marked as a fallback patch and the given number of chains (lanes lanes each,
// latent bits k), all starting at step 0, over a message of random words.
func hostileChainsPayload(patches, chains, lanes int, k byte, words int) []byte {
	p := []byte{1, 1, k, byte(lanes)}
	bitmap := make([]byte, (patches+7)/8)
	bitmap[0] = 1
	p = append(p, bitmap...)
	p = binary.AppendUvarint(p, uint64(chains))
	for range chains {
		p = binary.AppendUvarint(p, 0)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	ws := make([]uint32, chains*lanes+words)
	for i := range ws {
		ws[i] = rng.Uint32()
	}
	msg := rans.NewMessageFromWords(chains*lanes, ws).Bytes()
	p = binary.AppendUvarint(p, 0)
	p = binary.AppendUvarint(p, uint64(len(msg)))
	return append(p, msg...)
}

// A payload may declare up to 255/lanes chains (the encoder writes at most 16) and start
// them all at step 0, so that the decoder runs the networks on a batch of 255 patches.
// With the default weights, a 392 KB payload for a 512x512 RGB image (1.5 MiB of pixels)
// took the heap to about 1 GiB before failing, against about 130 MiB for 16 chains.
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
	if _, err := cd.Decode(h, payload, nil); err == nil {
		t.Fatal("random payload decoded")
	}
	if n := heapAllocBytes(alloc) - before; n > 256<<20 {
		t.Fatalf("a %d KB payload made Decode allocate %d MiB", len(payload)>>10, n>>20)
	}
}
