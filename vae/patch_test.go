package vae

import (
	"math/rand/v2"
	"testing"
)

// TestChromaRepeats: the flags of planes with chroma repeated over 2x2, 2x1 and 1x2 blocks
// (odd sizes: the last column or row alone), none for 4:4:4 planes or for an image enlarged
// by repetition (R repeated too).
func TestChromaRepeats(t *testing.T) {
	const w, h = 9, 7
	rng := rand.New(rand.NewPCG(1, 1))
	make3 := func(dx, dy, dxR int) [][]uint8 {
		pl := make([][]uint8, 3)
		for c := range pl {
			pl[c] = make([]uint8, w*h)
			sx, sy := dx, dy
			if c == 0 {
				sx, sy = dxR, dxR
			}
			src := make([]uint8, w*h)
			for i := range src {
				src[i] = uint8(rng.IntN(256))
			}
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					pl[c][y*w+x] = src[y/sy*sy*w+x/sx*sx]
				}
			}
		}
		return pl
	}
	for _, tc := range []struct {
		dx, dy, dxR int
		want        uint8
	}{{2, 2, 1, RepX | RepY}, {2, 1, 1, RepX}, {1, 2, 1, RepY}, {1, 1, 1, 0}, {2, 2, 2, 0}} {
		if got := ChromaRepeats(make3(tc.dx, tc.dy, tc.dxR), w, h); got != tc.want {
			t.Errorf("chroma %dx%d, R %dx%d: flags %d, want %d", tc.dx, tc.dy, tc.dxR, tc.dxR, got, tc.want)
		}
	}
}

// TestChromaCopy: the first sub-position of each repeated group in coding order codes the
// chroma; every sub-position is left out under exactly one rule.
func TestChromaCopy(t *testing.T) {
	coded := func(rep uint8) (n int) {
		for k := 0; k < 4; k++ {
			if !chromaCopy(rep, k) {
				n++
			}
		}
		return n
	}
	for rep, want := range map[uint8]int{0: 4, RepX: 2, RepY: 2, RepX | RepY: 1} {
		if got := coded(rep); got != want {
			t.Errorf("flags %d: %d sub-positions code chroma, want %d", rep, got, want)
		}
		if chromaCopy(rep, subOrder[0]) {
			t.Errorf("flags %d: the first sub-position coded is a copy", rep)
		}
	}
}
