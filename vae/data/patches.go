package data

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/bitswap-codec/bitswap/vae"
)

// Sampler draws random 32x32 crops, uniformly over all crop positions of all images, with
// random horizontal flips; or, with Align > 1, only at positions that are multiples of
// Align and without flips, so that every crop sits on the image's pixel grid the way the
// coders' patches do (which start at multiples of 32): the 8x8 blocks and 2x2 chroma
// samples of a JPEG source, for instance, fall on the same positions in every crop.
type Sampler struct {
	imgs  []*RGB
	cum   []float64
	Align int
}

// NewSampler makes a sampler over imgs that draws an image with a probability proportional
// to its number of crop positions raised to areaPower: 1 draws every crop position of every
// image equally often, so that the large images dominate; 0 draws every image equally often,
// as a user's images count one each whatever their size (and the validation score is a
// mean over images); values between trade one for the other.
func NewSampler(imgs []*RGB, areaPower float64) *Sampler {
	s := &Sampler{imgs: imgs}
	t := 0.0
	for _, im := range imgs {
		t += math.Pow(float64(im.W-vae.PatchSize+1)*float64(im.H-vae.PatchSize+1), areaPower)
		s.cum = append(s.cum, t)
	}
	return s
}

// Fill fills bt with random crops.
func (s *Sampler) Fill(bt *vae.Batch, rng *rand.Rand) {
	total := s.cum[len(s.cum)-1]
	for b := 0; b < bt.B; b++ {
		u := rng.Float64() * total
		i := sort.SearchFloat64s(s.cum, u)
		if i >= len(s.imgs) {
			i = len(s.imgs) - 1
		}
		im := s.imgs[i]
		if s.Align > 1 {
			x0 := s.Align * rng.IntN((im.W-vae.PatchSize)/s.Align+1)
			y0 := s.Align * rng.IntN((im.H-vae.PatchSize)/s.Align+1)
			// Each side of the context is left out now and then, as it is at the image's
			// top and left edges and wherever the coder's decoder has no neighbour yet.
			want := uint8(0)
			if rng.Float64() >= CtxDrop {
				want |= vae.CtxUp
			}
			if rng.Float64() >= CtxDrop {
				want |= vae.CtxLeft
			}
			put(bt, b, im, x0, y0, false, want)
			continue
		}
		x0 := rng.IntN(im.W - vae.PatchSize + 1)
		y0 := rng.IntN(im.H - vae.PatchSize + 1)
		flip := rng.IntN(2) == 1
		put(bt, b, im, x0, y0, flip, 0) // no context for unaligned crops
	}
}

// CtxDrop is the probability with which an aligned training crop goes without either side
// of its context.
const CtxDrop = 0.15

// PatchRef names an aligned patch of an image.
type PatchRef struct {
	Img    int // the image's index in the list the patch was listed from (GridPatches)
	X0, Y0 int
}

// GridPatches lists the full aligned patches (inside the image) of every image in raster
// order, taking every stride-th one (counted across images), at most limit (0: no limit).
func GridPatches(imgs []*RGB, stride, limit int) []PatchRef {
	var refs []PatchRef
	k := 0
	for i, im := range imgs {
		for y := 0; y+vae.PatchSize <= im.H; y += vae.PatchSize {
			for x := 0; x+vae.PatchSize <= im.W; x += vae.PatchSize {
				if k%stride == 0 && (limit == 0 || len(refs) < limit) {
					refs = append(refs, PatchRef{i, x, y})
				}
				k++
			}
		}
	}
	return refs
}

// BalancedPatches lists up to limit full aligned patches, the same number from every image
// (all of an image that has fewer), spread evenly over each image in raster order and
// grouped by image: a validation subset whose scores can be averaged per image. (The
// spread is in raster order, which can favour some columns, unlike vae.SpreadPatches; it
// stays so because checkpoints compare their best score with scores on these patches.)
func BalancedPatches(imgs []*RGB, limit int) []PatchRef {
	per := max(1, limit/max(1, len(imgs)))
	var refs []PatchRef
	for i, im := range imgs {
		n := (im.W / vae.PatchSize) * (im.H / vae.PatchSize)
		for k := range min(n, per) {
			j := k * n / min(n, per) // evenly spread indices in [0, n)
			refs = append(refs, PatchRef{i, j % (im.W / vae.PatchSize) * vae.PatchSize, j / (im.W / vae.PatchSize) * vae.PatchSize})
		}
	}
	return refs
}

// CountGridPatches is the number of full aligned patches of imgs.
func CountGridPatches(imgs []*RGB) int {
	n := 0
	for _, im := range imgs {
		n += (im.W / vae.PatchSize) * (im.H / vae.PatchSize)
	}
	return n
}

// BatchOf returns the aligned patches refs of imgs as a batch, each with its context (for
// validation and measurements).
func BatchOf(imgs []*RGB, refs []PatchRef) *vae.Batch {
	bt := vae.NewBatch(len(refs))
	for j, r := range refs {
		put(bt, j, imgs[r.Img], r.X0, r.Y0, false, vae.CtxUp|vae.CtxLeft)
	}
	return bt
}

// put sets patch b of bt to im's crop at (x0, y0) (vae.PutPatch) with the context flags want
// allows (vae.PutContext).
func put(bt *vae.Batch, b int, im *RGB, x0, y0 int, flip bool, want uint8) {
	pl := im.Planes()
	vae.PutPatch(bt.X, bt.B, b, pl, im.W, im.H, x0, y0, flip)
	bt.Ctx.Has[b] = vae.PutContext(bt.Ctx.Patch(b), pl, im.W, im.H, x0, y0, want) | im.Flags&vae.ChromaKnown
	if !flip && x0%2 == 0 && y0%2 == 0 {
		bt.Ctx.Has[b] |= im.Flags & (vae.RepX | vae.RepY) // the pairs sit on the image's
	}
}
