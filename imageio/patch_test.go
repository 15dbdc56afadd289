package imageio

import "testing"

func TestPaddedSizeAndGrid(t *testing.T) {
	cases := []struct{ w, h, pw, ph, cols, rows int }{
		{1, 1, 32, 32, 1, 1},
		{32, 32, 32, 32, 1, 1},
		{33, 31, 64, 32, 2, 1},
		{100, 75, 128, 96, 4, 3},
	}
	for _, c := range cases {
		pw, ph := PaddedSize(c.w, c.h)
		g := NewGrid(c.w, c.h)
		if pw != c.pw || ph != c.ph || g.Cols != c.cols || g.Rows != c.rows || g.Len() != c.cols*c.rows {
			t.Errorf("%dx%d: padded %dx%d grid %+v", c.w, c.h, pw, ph, g)
		}
	}
	g := NewGrid(100, 75)
	// Raster order: patch 5 is column 1 of row 1.
	if x, y := g.Origin(5); x != 32 || y != 32 {
		t.Errorf("origin of patch 5: %d,%d", x, y)
	}
	if vw, vh := g.Valid(11); vw != 4 || vh != 11 {
		t.Errorf("valid region of the last patch: %dx%d", vw, vh)
	}
	if vw, vh := g.Valid(0); vw != 32 || vh != 32 {
		t.Errorf("valid region of patch 0: %dx%d", vw, vh)
	}
}

func TestPadPlane(t *testing.T) {
	w, h := 3, 2
	src := []uint16{1, 2, 3, 4, 5, 6}
	p := PadPlane(src, w, h, nil)
	if len(p) != 32*32 {
		t.Fatalf("len %d", len(p))
	}
	at := func(x, y int) uint16 { return p[y*32+x] }
	checks := []struct {
		x, y int
		v    uint16
	}{{0, 0, 1}, {2, 0, 3}, {31, 0, 3}, {0, 1, 4}, {1, 1, 5}, {31, 1, 6}, {0, 31, 4}, {1, 20, 5}, {31, 31, 6}}
	for _, c := range checks {
		if got := at(c.x, c.y); got != c.v {
			t.Errorf("padded (%d,%d) = %d, want %d", c.x, c.y, got, c.v)
		}
	}
	buf := make([]uint16, 0, 2000)
	if q := PadPlane(src, w, h, buf); &q[0] != &buf[:1][0] {
		t.Error("PadPlane did not reuse dst")
	}
}

func TestExtractInsert(t *testing.T) {
	img := randomImage(70, 45, RGB, 8, 3)
	g := NewGrid(img.Width, img.Height)
	pw, _ := PaddedSize(img.Width, img.Height)
	padded := make([][]uint16, 3)
	for c := range padded {
		padded[c] = PadPlane(img.Planes[c], img.Width, img.Height, nil)
	}
	patch := make([]uint16, 3*PatchSize*PatchSize)
	out := New(img.Width, img.Height, RGB, 8)
	for p := 0; p < g.Len(); p++ {
		g.Extract(img.Planes, p, patch)
		x0, y0 := g.Origin(p)
		for c := 0; c < 3; c++ {
			for y := 0; y < PatchSize; y++ {
				for x := 0; x < PatchSize; x++ {
					if got, want := patch[c*1024+y*32+x], padded[c][(y0+y)*pw+x0+x]; got != want {
						t.Fatalf("patch %d plane %d (%d,%d): %d, padded plane has %d", p, c, x, y, got, want)
					}
				}
			}
		}
		// Garbage in the padding must not leak into the image.
		vw, vh := g.Valid(p)
		for c := 0; c < 3; c++ {
			for y := 0; y < PatchSize; y++ {
				for x := 0; x < PatchSize; x++ {
					if x >= vw || y >= vh {
						patch[c*1024+y*32+x] = 999
					}
				}
			}
		}
		g.Insert(out.Planes, p, patch)
	}
	if !Equal(out, img) {
		t.Fatal("Insert of all extracted patches does not rebuild the image")
	}
	allocs := testing.AllocsPerRun(20, func() {
		g.Extract(img.Planes, 5, patch)
		g.Insert(out.Planes, 5, patch)
	})
	if allocs != 0 {
		t.Errorf("Extract+Insert allocate %v times", allocs)
	}
}

func TestExtractPanicsOnMisuse(t *testing.T) {
	img := New(10, 10, RGB, 8)
	g := NewGrid(10, 10)
	for _, f := range []func(){
		func() { g.Extract(img.Planes, 1, make([]uint16, 3*1024)) },
		func() { g.Extract(img.Planes, 0, make([]uint16, 1024)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}

// TestCropFlip: Crop with flip mirrors every row of the crop, into a uint8 batch layout too.
func TestCropFlip(t *testing.T) {
	img := randomImage(70, 50, RGB, 8, 3)
	plain := make([]uint16, 3*PatchSize*PatchSize)
	Crop(plain, PatchSize*PatchSize, img.Planes, img.Width, img.Height, 5, 7, false)
	const stride = 2 * PatchSize * PatchSize // a batch of two, patch 1
	flipped := make([]uint8, 3*stride)
	Crop(flipped[PatchSize*PatchSize:], stride, img.Planes, img.Width, img.Height, 5, 7, true)
	for c := 0; c < 3; c++ {
		for y := 0; y < PatchSize; y++ {
			for x := 0; x < PatchSize; x++ {
				got := flipped[c*stride+PatchSize*PatchSize+y*PatchSize+x]
				if want := uint8(plain[c*PatchSize*PatchSize+y*PatchSize+PatchSize-1-x]); got != want {
					t.Fatalf("c%d (%d, %d): %d, want %d", c, x, y, got, want)
				}
			}
		}
	}
}
