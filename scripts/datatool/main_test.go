package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestPPM(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "a.ppm"), filepath.Join(dir, "a.png")
	// 2x1: a comment in the header, then red and a grey whose samples are whitespace bytes.
	src := append([]byte("P6\n# djpeg\n2 1\n255\n"), 255, 0, 0, ' ', '\n', '#')
	if err := os.WriteFile(in, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ppm(in, out); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][3]uint32{{255, 0, 0}, {' ', '\n', '#'}} {
		r, g, b, _ := img.At(i, 0).RGBA()
		if got := [3]uint32{r >> 8, g >> 8, b >> 8}; got != want {
			t.Errorf("pixel %d: %v, want %v", i, got, want)
		}
	}
	// djpeg writes a grayscale JPEG as a PGM.
	if err := os.WriteFile(in, []byte("P5\n2 1\n255\n\x07\xf0"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ppm(in, out); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(out); err != nil {
		t.Fatal(err)
	} else if img, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	} else if g, ok := img.(*image.Gray); !ok || g.Pix[0] != 7 || g.Pix[1] != 0xf0 {
		t.Errorf("PGM: got %T %v, want gray [7 240]", img, img)
	}
	for _, bad := range []string{"P5\n2 1\n65535\n\x00\x00\x00\x00", "P5\n2 1\n255\n\x00", "P6\n2 1\n65535\n", "P6\n2 1\n255\n\x00\x00\x00", "P6\n-2 1\n255\n", ""} {
		if err := os.WriteFile(in, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := ppm(in, out); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestYCC(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "p.png")
	// A 4:2:0 lossy WebP: 64x48 Y', 32x24 chroma, each sample over a 2x2 block.
	if err := yccPlanes("../../testdata/cups-64x48.lossy.webp", out); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open("../../testdata/cups-64x48.lossy.webp")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	m, _, err := image.Decode(src)
	if err != nil {
		t.Fatal(err)
	}
	want := m.(*image.YCbCr)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds() != want.Rect {
		t.Fatalf("bounds %v, want %v", got.Bounds(), want.Rect)
	}
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			r, g, bl, _ := got.At(x, y).RGBA()
			c := want.COffset(x, y)
			if w := [3]uint32{uint32(want.Y[want.YOffset(x, y)]), uint32(want.Cb[c]), uint32(want.Cr[c])}; [3]uint32{r >> 8, g >> 8, bl >> 8} != w {
				t.Fatalf("pixel (%d,%d): %v, want %v", x, y, [3]uint32{r >> 8, g >> 8, bl >> 8}, w)
			}
		}
	}
	// A PNG has no planes.
	if err := yccPlanes("../../testdata/cups-64x48.png", out); err == nil {
		t.Error("PNG: no error")
	}
}
