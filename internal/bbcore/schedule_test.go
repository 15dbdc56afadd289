package bbcore

import (
	"math/rand/v2"
	"testing"

	"github.com/bitswap-codec/bitswap/imageio"
)

// TestScheduleContextOrder: with every chain started as early as its gap allows, the
// decoder (steps backwards) decodes the patch above and the patch to the left of every VAE
// patch in an earlier step whenever they are VAE coded, each chain holds its strip's VAE
// patches in raster order, and every VAE patch is in exactly one chain.
func TestScheduleContextOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 300; trial++ {
		cols, rows := 1+rng.IntN(20), 1+rng.IntN(12)
		grid := imageio.Grid{Width: cols * 32, Height: rows * 32, Cols: cols, Rows: rows}
		P := grid.Len()
		fb := make([]bool, P)
		frac := rng.Float64() * 0.6
		for p := range fb {
			fb[p] = rng.Float64() < frac
		}
		C := 1 + rng.IntN(min(cols, maxChains))
		s := makeSchedule(grid, fb, C)
		s.start[0] = 0
		for c := 1; c < C; c++ {
			s.start[c] = s.start[c-1] + s.minGap[c] + rng.IntN(2) // some later than needed
		}
		if !s.validStarts() {
			t.Fatalf("starts %v rejected (gaps %v)", s.start, s.minGap)
		}
		T := s.steps()
		decodedAt := make([]int, P) // position in the decoder's order; -1: not VAE coded
		for p := range decodedAt {
			decodedAt[p] = -1
		}
		lo, hi := strips(cols, C)
		for c := 0; c < C; c++ {
			prev := -1
			for t0 := s.start[c]; t0 < s.start[c]+s.n[c]; t0++ {
				p := s.patch(c, t0)
				if decodedAt[p] != -1 || fb[p] {
					t.Fatalf("patch %d twice or fallback-coded", p)
				}
				if x := p % cols; x < lo[c] || x >= hi[c] {
					t.Fatalf("patch %d (column %d) in chain %d of columns [%d,%d)", p, x, c, lo[c], hi[c])
				}
				if prev != -1 && p >= prev {
					t.Fatalf("chain %d codes %d after %d (must go backwards)", c, p, prev)
				}
				prev = p
				decodedAt[p] = T - 1 - t0
			}
		}
		for p := range P {
			if fb[p] != (decodedAt[p] == -1) {
				t.Fatalf("patch %d: fallback %v, decoded at %d", p, fb[p], decodedAt[p])
			}
			if fb[p] {
				continue
			}
			h := ctxFlags(grid, fb, p)
			if q := p - cols; h&1 != 0 && decodedAt[q] >= decodedAt[p] {
				t.Fatalf("%dx%d, C %d: patch %d decoded at %d, the one above at %d", cols, rows, C, p, decodedAt[p], decodedAt[q])
			}
			if q := p - 1; h&2 != 0 && decodedAt[q] >= decodedAt[p] {
				t.Fatalf("%dx%d, C %d: patch %d decoded at %d, the one to the left at %d", cols, rows, C, p, decodedAt[p], decodedAt[q])
			}
		}
		// One step less for a chain with a left neighbour constraint breaks the order.
		for c := 1; c < C; c++ {
			if s.minGap[c] > 1 {
				s.start[c] = s.start[c-1] + s.minGap[c] - 1
				if s.validStarts() {
					t.Fatal("a start before the gap accepted")
				}
				break
			}
		}
	}
}
