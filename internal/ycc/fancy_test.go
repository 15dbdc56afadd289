package ycc

import (
	"slices"
	"testing"
)

// libraryPairs are testdata's decodes of one small image (61x45: odd sizes, a partial last
// chroma sample each way) by libjpeg-turbo's djpeg and libwebp's dwebp, with their default
// interpolated chroma and without it (-nosmooth, -nofancy): see testdata/README.md.
var libraryPairs = []struct {
	nearest, fancy string
	conv           Conv
	r              Ratio
}{
	{"cups-61x45.420.nosmooth.png", "cups-61x45.420.djpeg.png", LibJPEG, Ratio{2, 2}},
	{"cups-61x45.440.nosmooth.png", "cups-61x45.440.djpeg.png", LibJPEG, Ratio{1, 2}},
	{"cups-61x45.nofancy.png", "cups-61x45.dwebp.png", LibWebP, Ratio{2, 2}},
}

// TestFancyIsTheLibraries: the chroma samples behind a library's nearest decode, spread by
// the Fancy filter, give exactly that library's interpolated decode of the same file.
func TestFancyIsTheLibraries(t *testing.T) {
	for _, lp := range libraryPairs {
		near, w, h := loadRGB(t, lp.nearest)
		want, _, _ := loadRGB(t, lp.fancy)
		p := Split(near, w, h, lp.r, lp.conv)
		if p == nil {
			t.Fatalf("%s: no %dx%d split under %v", lp.nearest, lp.r.DX, lp.r.DY, lp.conv)
		}
		p.Filter = Fancy
		got := p.Merge()
		for c := range got {
			if !slices.Equal(got[c], want[c]) {
				t.Errorf("%s: plane %d differs from %s", lp.nearest, c, lp.fancy)
			}
		}
	}
}

// TestSubsample: a library's interpolated decode, split at 4:4:4, goes back to subsampled
// chroma that gives the same pixels, with a residual for few of them (fewest at 4:2:2, whose
// rows are independent; on this small image the edges weigh: 1-2% of a photograph's pixels
// at 4:2:0); under the wrong subsampling the pixels are still exact, the residual at least
// twice as large.
func TestSubsample(t *testing.T) {
	cases := []struct {
		file     string
		conv     Conv
		r        Ratio
		maxShare float64
	}{
		{"cups-61x45.420.djpeg.png", LibJPEG, Ratio{2, 2}, 0.08},
		{"cups-61x45.420.djpeg.png", LibJPEG, Ratio{2, 1}, 1}, // the wrong one, after the right one
		{"cups-61x45.422.djpeg.png", LibJPEG, Ratio{2, 1}, 0.02},
		{"cups-61x45.440.djpeg.png", LibJPEG, Ratio{1, 2}, 0.08},
		{"cups-61x45.dwebp.png", LibWebP, Ratio{2, 2}, 0.05},
	}
	right := 0.0
	for _, c := range cases {
		rgb, w, h := loadRGB(t, c.file)
		full := Split(rgb, w, h, Ratio{1, 1}, c.conv)
		if full == nil {
			t.Fatalf("%s: no 4:4:4 split", c.file)
		}
		p := Subsample(full, c.r)
		if p == nil {
			t.Fatalf("%s %v: no planes", c.file, c.r)
		}
		got := p.Merge()
		for ch := range got {
			if !slices.Equal(got[ch], rgb[ch]) {
				t.Fatalf("%s %v: plane %d differs", c.file, c.r, ch)
			}
		}
		share := p.residualShare()
		t.Logf("%s %v: residual at %.2f%% of the pixels", c.file, c.r, 100*share)
		if share > c.maxShare {
			t.Errorf("%s %v: residual at %.2f%% of the pixels, want at most %.0f%%", c.file, c.r, 100*share, 100*c.maxShare)
		}
		if c.maxShare == 1 && share < 2*right {
			t.Errorf("%s %v: the wrong subsampling fits with %.2f%% residual, the right one %.2f%%", c.file, c.r, 100*share, 100*right)
		}
		right = share
	}
}

// TestSubsampleSynthetic: planes of every ratio with a filter, spread by it and converted,
// come back through Split and Subsample exactly, at sizes down to a single sample each way
// (where libjpeg does not interpolate horizontally).
func TestSubsampleSynthetic(t *testing.T) {
	for _, conv := range []Conv{LibJPEG, LibWebP} {
		for _, r := range Ratios {
			if !HasFilter(conv, r, Fancy) {
				continue
			}
			for _, size := range [][2]int{{37, 29}, {40, 24}, {3, 5}, {1, 1}, {6, 2}} {
				src := smoothPlanes(size[0], size[1], r, conv, uint64(size[0]))
				src.Filter = Fancy
				rgb := src.Merge()
				full := Split(rgb, size[0], size[1], Ratio{1, 1}, conv)
				if full == nil {
					t.Fatalf("%v %v %v: no 4:4:4 split", conv, r, size)
				}
				p := Subsample(full, r)
				if p == nil {
					if conv == LibJPEG && r.DX == 2 && src.CW <= 2 {
						continue // nearest there
					}
					t.Fatalf("%v %v %v: no planes", conv, r, size)
				}
				got := p.Merge()
				for c := range got {
					if !slices.Equal(got[c], rgb[c]) {
						t.Fatalf("%v %v %v: plane %d differs", conv, r, size, c)
					}
				}
			}
		}
	}
}

// TestHasFilter: only libjpeg and libwebp interpolate, libwebp only 4:2:0, nobody 4:4:4.
func TestHasFilter(t *testing.T) {
	for _, c := range Convs {
		for _, r := range Ratios {
			want := r != (Ratio{1, 1}) && (c == LibJPEG || (c == LibWebP && r == Ratio{2, 2}))
			if got := HasFilter(c, r, Fancy); got != want {
				t.Errorf("HasFilter(%v, %v, Fancy) = %v, want %v", c, r, got, want)
			}
			if !HasFilter(c, r, Nearest) {
				t.Errorf("HasFilter(%v, %v, Nearest) = false", c, r)
			}
		}
	}
	if HasFilter(LibJPEG, Ratio{2, 2}, Filter(7)) {
		t.Error("an unknown filter is accepted")
	}
}
