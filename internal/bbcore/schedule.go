package bbcore

import (
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/vae"
)

// The schedule: the VAE-coded patches are split into C chains by vertical strips of the patch
// grid (chain 0 the rightmost strip; the strips to the left are as wide or one patch wider),
// each chain holding its strip's VAE patches in raster order within the strip. Chain c codes
// one patch per step from its start step on, its patches last to first, so that the decoder
// (which runs the steps backwards) decodes every strip in raster order. A model with context
// (vae.Config.Context) then conditions each patch on the patch above it (same strip, decoded
// earlier) and the patch to its left: in the same strip, or the last column of the strip to
// the left, whose chain starts later in the encoder and so is decoded earlier. Chain c's start
// must leave enough steps for that: start[c] >= start[c-1] + minGap[c], where minGap makes
// every VAE patch of strip c that has a VAE patch of strip c-1 to its right decoded in an
// earlier step. A neighbour coded by the fallback coder (decoded after all VAE patches) is
// never context.
type schedule struct {
	C     int
	start []int // per chain: first step (-1: not started yet, encoder only)
	n     []int // per chain: number of patches
	first []int // per chain: index of its first patch in patches
	// patches lists the VAE-coded patches (grid indices), chain after chain.
	patches []int
	minGap  []int // per chain c > 0: the least start[c] - start[c-1]
}

// strips returns the first column of each chain's strip (chain 0 the rightmost) and the
// column past the last.
func strips(cols, C int) (lo, hi []int) {
	base, extra := cols/C, cols%C
	x := 0
	lo, hi = make([]int, C), make([]int, C)
	for j := 0; j < C; j++ { // strip j from the left; the first extra ones are wider
		w := base
		if j < extra {
			w++
		}
		lo[C-1-j], hi[C-1-j] = x, x+w
		x += w
	}
	return lo, hi
}

func makeSchedule(grid imageio.Grid, fb []bool, C int) *schedule {
	s := &schedule{C: C}
	lo, hi := strips(grid.Cols, C)
	idx := make(map[int]int) // patch -> its index within its chain
	for c := 0; c < C; c++ {
		s.first = append(s.first, len(s.patches))
		s.start = append(s.start, -1)
		for r := 0; r < grid.Rows; r++ {
			for x := lo[c]; x < hi[c]; x++ {
				p := r*grid.Cols + x
				if !fb[p] {
					idx[p] = len(s.patches) - s.first[c]
					s.patches = append(s.patches, p)
				}
			}
		}
		s.n = append(s.n, len(s.patches)-s.first[c])
	}
	s.minGap = make([]int, C)
	for c := 1; c < C; c++ {
		// Patch p of chain c-1 is decoded at step T - start[c-1] - n[c-1] + idx(p) of the
		// decoder's order, its left neighbour q in chain c at T - start[c] - n[c] + idx(q).
		gap := 1
		for r := 0; r < grid.Rows; r++ {
			p := r*grid.Cols + lo[c-1]
			if fb[p] || fb[p-1] {
				continue
			}
			gap = max(gap, 1+(s.n[c-1]-idx[p])-(s.n[c]-idx[p-1]))
		}
		s.minGap[c] = gap
	}
	return s
}

// patch returns the grid index of the patch chain c codes at step t (t in its active range).
func (s *schedule) patch(c, t int) int { return s.patches[s.first[c]+s.n[c]-1-(t-s.start[c])] }

// steps is the number of steps of a complete schedule.
func (s *schedule) steps() int {
	T := 0
	for c := range s.start {
		T = max(T, s.start[c]+s.n[c])
	}
	return T
}

// active returns the started chains that code a patch at step t, increasing.
func (s *schedule) active(t int) []int {
	var a []int
	for c := 0; c < s.C; c++ {
		if s.start[c] >= 0 && t >= s.start[c] && t < s.start[c]+s.n[c] {
			a = append(a, c)
		}
	}
	return a
}

// validStarts reports whether the start steps keep every chain's gap (decoder check of a
// payload's starts).
func (s *schedule) validStarts() bool {
	if s.start[0] != 0 {
		return false
	}
	for c := 1; c < s.C; c++ {
		if s.start[c] < s.start[c-1]+s.minGap[c] {
			return false
		}
	}
	return true
}

func chooseChains(cols, vaePatches int) int {
	return max(1, min(maxChains, cols, vaePatches/minPerChain))
}

// ctxFlags returns the context a model with context gets for patch p when the patches
// marked in fb are coded by the fallback coder: the rows above when the patch above is VAE
// coded, the columns to the left when the patch to the left is.
func ctxFlags(grid imageio.Grid, fb []bool, p int) uint8 {
	var h uint8
	if p >= grid.Cols && !fb[p-grid.Cols] {
		h |= vae.CtxUp
	}
	if p%grid.Cols != 0 && !fb[p-1] {
		h |= vae.CtxLeft
	}
	return h
}

// canStart reports whether chain c may start at step t as far as the decoding order goes
// (its gap to the previous chain's start).
func (s *schedule) canStart(c, t int) bool {
	return c == 0 || t >= s.start[c-1]+s.minGap[c]
}

// putContext sets entry i of cx to the context of patch p when the patches marked in fb are
// coded by the fallback coder (ctxFlags; vae.PutContext writes it, as for training).
func putContext(img *imageio.Image, grid imageio.Grid, fb []bool, p int, cx *vae.Context, i int) {
	x0, y0 := grid.Origin(p)
	cx.Has[i] = vae.PutContext(cx.Patch(i), img.Planes, img.Width, img.Height, x0, y0, ctxFlags(grid, fb, p))
}
