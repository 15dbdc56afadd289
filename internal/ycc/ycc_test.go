package ycc

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// smoothPlanes returns planes of ratio r and conversion c with smooth random content (as a
// photo's).
func smoothPlanes(w, h int, r Ratio, c Conv, seed uint64) *Planes {
	rng := rand.New(rand.NewPCG(seed, 3))
	p := New(w, h, r, c)
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
// every conversion, ratio and odd sizes, including pixels with clamped channels.
func TestSplitMerge(t *testing.T) {
	for _, cv := range Convs {
		for _, r := range Ratios {
			for _, sz := range [][2]int{{1, 1}, {7, 5}, {64, 33}} {
				p := smoothPlanes(sz[0], sz[1], r, cv, uint64(sz[0]*r.DX+r.DY))
				rgb := p.Merge()
				q := Split(rgb, sz[0], sz[1], r, cv)
				if q == nil {
					t.Fatalf("%v %v %dx%d: no split of a merged image", cv, r, sz[0], sz[1])
				}
				got := q.Merge()
				for c := range rgb {
					if !slices.Equal(got[c], rgb[c]) {
						t.Fatalf("%v %v %dx%d: plane %d differs after split and merge", cv, r, sz[0], sz[1], c)
					}
				}
			}
		}
	}
}

// TestLibJPEGConv: Conv LibJPEG is libjpeg's ycc_rgb_convert, computed the way jdcolor.c
// does (tables of FIX(x) = x 2^16 rounded, ONE_HALF folded into the Cb table for G, an
// arithmetic right shift), for every Y', Cb, Cr; and it is not Go's conversion.
func TestLibJPEGConv(t *testing.T) {
	fix := func(x float64) int { return int(x*65536 + 0.5) }
	var crR, cbB, crG, cbG [256]int
	for i := range 256 {
		x := i - 128
		crR[i] = (fix(1.402)*x + 1<<15) >> 16
		cbB[i] = (fix(1.772)*x + 1<<15) >> 16
		crG[i] = -fix(0.71414) * x
		cbG[i] = -fix(0.34414)*x + 1<<15
	}
	differ := 0
	for y := range 256 {
		for cb := range 256 {
			for cr := range 256 {
				r, g, b := LibJPEG.RGB(uint8(y), uint8(cb), uint8(cr))
				want := [3]uint8{clamp8(y + crR[cr]), clamp8(y + (cbG[cb]+crG[cr])>>16), clamp8(y + cbB[cb])}
				if [3]uint8{r, g, b} != want {
					t.Fatalf("(%d, %d, %d): %v, want %v", y, cb, cr, [3]uint8{r, g, b}, want)
				}
				if r2, g2, b2 := Go.RGB(uint8(y), uint8(cb), uint8(cr)); [3]uint8{r2, g2, b2} != want {
					differ++
				}
			}
		}
	}
	if differ == 0 {
		t.Fatal("libjpeg's conversion is Go's")
	}
}

// TestLibWebPConv: libwebp's studio range: Y' 16 is black, 235 white and 126 mid-grey at
// neutral chroma.
func TestLibWebPConv(t *testing.T) {
	for _, c := range []struct {
		y, cb, cr uint8
		want      [3]uint8
	}{{16, 128, 128, [3]uint8{0, 0, 0}}, {235, 128, 128, [3]uint8{255, 255, 255}}, {126, 128, 128, [3]uint8{128, 128, 128}}} {
		r, g, b := LibWebP.RGB(c.y, c.cb, c.cr)
		if got := [3]uint8{r, g, b}; got != c.want {
			t.Errorf("(%d, %d, %d): %v, want %v", c.y, c.cb, c.cr, got, c.want)
		}
	}
}

// TestSplitSaturated: a block whose pixels all clamp two channels (only G tells anything)
// is solved too.
func TestSplitSaturated(t *testing.T) {
	p := New(2, 2, Ratio{2, 2}, Go)
	copy(p.Y, []uint8{29, 27, 10, 13})
	p.Cb[0], p.Cr[0] = 54, 90
	rgb := p.Merge()
	for i := range rgb[0] {
		if rgb[0][i] != 0 || rgb[2][i] != 0 {
			t.Fatalf("pixel %d is not clamped in R and B: %d %d %d", i, rgb[0][i], rgb[1][i], rgb[2][i])
		}
	}
	q := Split(rgb, 2, 2, Ratio{2, 2}, Go)
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
	for _, cv := range Convs {
		if Split(rgb, 32, 32, Ratio{2, 2}, cv) != nil {
			t.Fatalf("noise split as 4:2:0 (%v)", cv)
		}
	}
	// A block with unclamped pixels is refused by their constraints alone, without the
	// search over all pairs (which made every PNG photo cost ~50 ms before the model).
	p := New(32, 32, Ratio{2, 2}, Go)
	if p.solveBlock(rgb, 0, 0) || p.tries != 0 {
		t.Fatalf("noise block: solved or searched %d pairs", p.tries)
	}
}

// TestSplitJPEG: what Go's JPEG encoder and decoder make of a photo splits at 4:2:0.
func TestSplitJPEG(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 45, 31))
	p := smoothPlanes(45, 31, Ratio{1, 1}, Go, 9)
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
	q := Split(dec, 45, 31, Ratio{2, 2}, Go)
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

// TestSplitLibraryOutput: pixels that libjpeg-turbo's djpeg and libwebp's dwebp wrote (crops
// in testdata, see its README) split at 4:4:4 under that library's conversion, exactly, and
// not under Go's: the conversions are the libraries'.
func TestSplitLibraryOutput(t *testing.T) {
	for file, conv := range map[string]Conv{"cups-64x48.djpeg.png": LibJPEG, "cups-64x48.dwebp.png": LibWebP} {
		rgb, w, h := loadRGB(t, file)
		for _, other := range Convs {
			if other != conv && Split(rgb, w, h, Ratio{1, 1}, other) != nil {
				t.Errorf("%s splits under %v too", file, other)
			}
		}
		q := Split(rgb, w, h, Ratio{1, 1}, conv)
		if q == nil {
			t.Fatalf("%s does not split under %v", file, conv)
		}
		got := q.Merge()
		for c := range rgb {
			if !slices.Equal(got[c], rgb[c]) {
				t.Fatalf("%s: plane %d differs", file, c)
			}
		}
	}
}

// loadRGB reads testdata/file, a PNG, as 8-bit RGB planes.
func loadRGB(t *testing.T, file string) (rgb [3][]uint16, w, h int) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	b := m.Bounds()
	w, h = b.Dx(), b.Dy()
	for c := range rgb {
		rgb[c] = make([]uint16, w*h)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, bl, _ := m.At(b.Min.X+x, b.Min.Y+y).RGBA()
			rgb[0][y*w+x], rgb[1][y*w+x], rgb[2][y*w+x] = uint16(r>>8), uint16(g>>8), uint16(bl>>8)
		}
	}
	return rgb, w, h
}
