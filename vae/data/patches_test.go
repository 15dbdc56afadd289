package data

import (
	"math/rand/v2"
	"testing"

	"github.com/bitswap-codec/bitswap/vae"
)

// TestSamplerAlign: aligned crops start at multiples of Align and are not flipped.
func TestSamplerAlign(t *testing.T) {
	im := &RGB{Name: "ramp", W: 203, H: 77, Pix: make([]uint8, 3*203*77)}
	for y := 0; y < im.H; y++ {
		for x := 0; x < im.W; x++ {
			im.Pix[y*im.W+x] = uint8(x)           // R: column
			im.Pix[im.W*im.H+y*im.W+x] = uint8(y) // G: row
		}
	}
	s := NewSampler([]*RGB{im})
	s.Align = 8
	bt := vae.NewBatch(64)
	s.Fill(bt, rand.New(rand.NewPCG(1, 1)))
	seen := map[[2]uint8]bool{}
	for b := 0; b < bt.B; b++ {
		r, g := bt.Plane(0, b), bt.Plane(1, b)
		if r[0]%8 != 0 || g[0]%8 != 0 || r[1] != r[0]+1 || int(r[0])+vae.PatchSize > im.W || int(g[0])+vae.PatchSize > im.H {
			t.Fatalf("crop %d starts at (%d,%d), next column %d", b, r[0], g[0], r[1])
		}
		seen[[2]uint8{r[0], g[0]}] = true
	}
	if len(seen) < 20 {
		t.Fatalf("only %d distinct crop positions in 64 draws", len(seen))
	}
}

// TestSamplerContext: the sampler fills the context of aligned crops (vae.PutContext),
// leaving each side out now and then (CtxDrop).
func TestSamplerContext(t *testing.T) {
	im := &RGB{W: 70, H: 50, Pix: make([]uint8, 3*70*50)}
	for i := range im.Pix {
		im.Pix[i] = uint8(i * 7)
	}
	s := NewSampler([]*RGB{im})
	s.Align = vae.PosAlign
	bt := vae.NewBatch(400)
	s.Fill(bt, rand.New(rand.NewPCG(1, 1)))
	var count [4]int
	for _, h := range bt.Ctx.Has {
		count[h]++
	}
	if count[vae.CtxUp|vae.CtxLeft] == 0 || count[vae.CtxUp|vae.CtxLeft] == 400 || count[0] == 400 {
		t.Fatalf("context flags of 400 crops: %v", count)
	}
}

// TestBatchOf: a batch of grid patches from several images takes each patch from its own
// image, with the context the image has around it.
func TestBatchOf(t *testing.T) {
	a := &RGB{W: 64, H: 32, Pix: make([]uint8, 3*64*32)}
	b := &RGB{W: 32, H: 64, Pix: make([]uint8, 3*32*64)}
	for i := range b.Pix {
		b.Pix[i] = 200
	}
	imgs := []*RGB{a, b}
	refs := GridPatches(imgs, 1, 0)
	if len(refs) != 4 || CountGridPatches(imgs) != 4 {
		t.Fatalf("grid patches %v, count %d", refs, CountGridPatches(imgs))
	}
	bt := BatchOf(imgs, refs)
	want := [4]uint8{0, 0, 200, 200}
	has := [4]uint8{0, vae.CtxLeft, 0, vae.CtxUp}
	for k := range refs {
		if got := bt.Plane(0, k)[0]; got != want[k] || bt.Ctx.Has[k] != has[k] {
			t.Errorf("patch %d (%+v): pixel %d, context %d; want %d, %d", k, refs[k], got, bt.Ctx.Has[k], want[k], has[k])
		}
	}
}
