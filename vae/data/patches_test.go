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
	s := NewSampler([]*RGB{im}, 1)
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
	s := NewSampler([]*RGB{im}, 1)
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

// TestSamplerAreaPower: with area power 1 an image is drawn as often as its share of the
// crop positions, with 0 as often as any other image.
func TestSamplerAreaPower(t *testing.T) {
	big := &RGB{W: 32 + 99, H: 32, Pix: make([]uint8, 3*131*32)} // 100 positions
	small := &RGB{W: 32, H: 32, Pix: make([]uint8, 3*32*32)}     // 1 position
	for i := range small.Pix {
		small.Pix[i] = 255
	}
	for _, c := range []struct {
		power    float64
		lo, high int // draws of the small image out of 4000
	}{{1, 10, 70}, {0, 1800, 2200}, {0.5, 250, 480}} {
		s := NewSampler([]*RGB{big, small}, c.power)
		bt := vae.NewBatch(4000)
		s.Fill(bt, rand.New(rand.NewPCG(2, 2)))
		n := 0
		for b := 0; b < bt.B; b++ {
			if bt.Plane(0, b)[0] == 255 {
				n++
			}
		}
		if n < c.lo || n > c.high {
			t.Errorf("area power %g: the small image drawn %d times of 4000, want %d-%d", c.power, n, c.lo, c.high)
		}
	}
}

// TestBalancedPatches: the same number of distinct patches from every image that has that
// many, all of a smaller one, grouped by image.
func TestBalancedPatches(t *testing.T) {
	imgs := []*RGB{{W: 320, H: 320}, {W: 64, H: 32}, {W: 96, H: 200}}
	refs := BalancedPatches(imgs, 30)
	count := map[int]int{}
	seen := map[PatchRef]bool{}
	for k, r := range refs {
		if k > 0 && r.Img < refs[k-1].Img {
			t.Fatalf("refs not grouped by image: %v", refs)
		}
		im := imgs[r.Img]
		if seen[r] || r.X0%32 != 0 || r.Y0%32 != 0 || r.X0+32 > im.W || r.Y0+32 > im.H {
			t.Fatalf("bad or repeated patch %+v", r)
		}
		seen[r] = true
		count[r.Img]++
	}
	if count[0] != 10 || count[1] != 2 || count[2] != 10 {
		t.Fatalf("patches per image %v, want 10, 2, 10", count)
	}
	// The first image's ten patches are spread over its 100, not its first rows.
	if last := refs[9]; last.Y0 < 200 {
		t.Fatalf("the first image's last patch is at %+v", last)
	}
}

// TestRepeatFlags: crops of an image with repeated chroma carry its flags exactly when they
// sit on its 2x2 grid (grid patches, aligned crops, unaligned crops at even positions that
// are not flipped).
func TestRepeatFlags(t *testing.T) {
	im := &RGB{W: 96, H: 64, Pix: make([]uint8, 3*96*64), Flags: vae.RepX | vae.RepY}
	for y := 0; y < im.H; y++ {
		for x := 0; x < im.W; x++ {
			im.Pix[y*im.W+x] = uint8(x)           // R: column
			im.Pix[im.W*im.H+y*im.W+x] = uint8(y) // G: row
		}
	}
	const rep = vae.RepX | vae.RepY
	bt := BatchOf([]*RGB{im}, GridPatches([]*RGB{im}, 1, 0))
	for b, h := range bt.Ctx.Has {
		if h&rep != rep {
			t.Fatalf("grid patch %d: flags %d", b, h)
		}
	}
	s := NewSampler([]*RGB{im}, 1)
	bt = vae.NewBatch(200)
	s.Fill(bt, rand.New(rand.NewPCG(3, 3)))
	with := 0
	for b, h := range bt.Ctx.Has {
		r, g := bt.Plane(0, b), bt.Plane(1, b)
		onGrid := r[0]%2 == 0 && g[0]%2 == 0 && r[1] == r[0]+1
		if (h&rep == rep) != onGrid {
			t.Fatalf("crop %d at (%d,%d), next column %d: flags %d", b, r[0], g[0], r[1], h)
		}
		if onGrid {
			with++
		}
	}
	if with == 0 || with == bt.B {
		t.Fatalf("%d of %d unaligned crops on the grid", with, bt.B)
	}
	s.Align = vae.PosAlign
	s.Fill(bt, rand.New(rand.NewPCG(3, 3)))
	for b, h := range bt.Ctx.Has {
		if h&rep != rep {
			t.Fatalf("aligned crop %d: flags %d", b, h)
		}
	}
}
