package ycc

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"slices"
	"testing"
)

// smoothPlanes returns planes of ratio r with smooth random content (as a photo's).
func smoothPlanes(w, h int, r Ratio, seed uint64) *Planes {
	rng := rand.New(rand.NewPCG(seed, 3))
	p := New(w, h, r)
	walk := func(dst []uint8, lo, hi int) {
		v := lo + rng.IntN(hi-lo)
		for i := range dst {
			v = min(hi, max(lo, v+rng.IntN(9)-4))
			dst[i] = uint8(v)
		}
	}
	walk(p.Y, 24, 232) // some pixels clamp a channel
	walk(p.Cb, 80, 176)
	walk(p.Cr, 80, 176)
	return p
}

// TestSplitMerge: Split recovers planes that Merge turns back into exactly the same RGB, for
// every ratio and odd sizes, including pixels with clamped channels.
func TestSplitMerge(t *testing.T) {
	for _, r := range Ratios {
		for _, sz := range [][2]int{{1, 1}, {7, 5}, {64, 33}} {
			p := smoothPlanes(sz[0], sz[1], r, uint64(sz[0]*r.DX+r.DY))
			rgb := p.Merge()
			q := Split(rgb, sz[0], sz[1], r)
			if q == nil {
				t.Fatalf("%v %dx%d: no split of a merged image", r, sz[0], sz[1])
			}
			got := q.Merge()
			for c := range rgb {
				if !slices.Equal(got[c], rgb[c]) {
					t.Fatalf("%v %dx%d: plane %d differs after split and merge", r, sz[0], sz[1], c)
				}
			}
		}
	}
}

// TestSplitSaturated: a block whose pixels all clamp two channels (only G tells anything)
// is solved too.
func TestSplitSaturated(t *testing.T) {
	p := New(2, 2, Ratio{2, 2})
	copy(p.Y, []uint8{29, 27, 10, 13})
	p.Cb[0], p.Cr[0] = 54, 90
	rgb := p.Merge()
	for i := range rgb[0] {
		if rgb[0][i] != 0 || rgb[2][i] != 0 {
			t.Fatalf("pixel %d is not clamped in R and B: %d %d %d", i, rgb[0][i], rgb[1][i], rgb[2][i])
		}
	}
	q := Split(rgb, 2, 2, Ratio{2, 2})
	if q == nil {
		t.Fatalf("saturated block: %+v", q)
	}
	got := q.Merge()
	for c := range rgb {
		if !slices.Equal(got[c], rgb[c]) {
			t.Fatalf("plane %d differs", c)
		}
	}
}

// TestSplitRefusesOtherImages: an RGB image that no 4:2:0 planes produce (independent noise
// per pixel and channel) fails Split at that ratio.
func TestSplitRefusesOtherImages(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var rgb [3][]uint16
	for c := range rgb {
		rgb[c] = make([]uint16, 32*32)
		for i := range rgb[c] {
			rgb[c][i] = uint16(rng.IntN(256))
		}
	}
	if Split(rgb, 32, 32, Ratio{2, 2}) != nil {
		t.Fatal("noise split as 4:2:0")
	}
	// A block with unclamped pixels is refused by their constraints alone, without the
	// search over all pairs (which made every PNG photo cost ~50 ms before the model).
	p := New(32, 32, Ratio{2, 2})
	if p.solveBlock(rgb, 0, 0) || p.tries != 0 {
		t.Fatalf("noise block: solved or searched %d pairs", p.tries)
	}
}

// TestSplitJPEG: what Go's JPEG encoder and decoder make of a photo splits at 4:2:0.
func TestSplitJPEG(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 45, 31))
	p := smoothPlanes(45, 31, Ratio{1, 1}, 9)
	rgb := p.Merge()
	for i := range rgb[0] {
		src.Pix[4*i], src.Pix[4*i+1], src.Pix[4*i+2], src.Pix[4*i+3] = uint8(rgb[0][i]), uint8(rgb[1][i]), uint8(rgb[2][i]), 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	m, err := jpeg.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	yc := m.(*image.YCbCr)
	var dec [3][]uint16
	for c := range dec {
		dec[c] = make([]uint16, 45*31)
	}
	for y := 0; y < 31; y++ {
		for x := 0; x < 45; x++ {
			r, g, b := color.YCbCrToRGB(yc.Y[yc.YOffset(x, y)], yc.Cb[yc.COffset(x, y)], yc.Cr[yc.COffset(x, y)])
			dec[0][y*45+x], dec[1][y*45+x], dec[2][y*45+x] = uint16(r), uint16(g), uint16(b)
		}
	}
	q := Split(dec, 45, 31, Ratio{2, 2})
	if q == nil {
		t.Fatalf("a decoded %v JPEG does not split at 4:2:0", yc.SubsampleRatio)
	}
	got := q.Merge()
	for c := range dec {
		if !slices.Equal(got[c], dec[c]) {
			t.Fatalf("plane %d differs", c)
		}
	}
}
