package fallback

import (
	"path/filepath"
	"testing"

	"github.com/bitswap-codec/bitswap/imageio"
)

func benchImage(b *testing.B) *imageio.Image {
	b.Helper()
	img, _, err := imageio.DecodeFile(filepath.Join("..", "testdata", "path-256x192.png"), nil)
	if err != nil {
		b.Fatal(err)
	}
	return img
}

func BenchmarkEncode(b *testing.B) {
	img := benchImage(b)
	b.SetBytes(int64(img.Width * img.Height * 3))
	var c Coder
	var buf []byte
	for i := 0; i < b.N; i++ {
		buf, _ = c.Encode(buf[:0], img.Planes, img.Width, img.Height, img.Depth)
	}
}

func BenchmarkDecode(b *testing.B) {
	img := benchImage(b)
	enc, _ := Encode(nil, img.Planes, img.Width, img.Height, img.Depth)
	b.SetBytes(int64(img.Width * img.Height * 3))
	var c Coder
	for i := 0; i < b.N; i++ {
		if _, err := c.DecodeInto(enc, img.Planes, img.Width, img.Height, img.Depth); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPatch codes single 32x32 RGB patches, as the bits-back coders do for clean bits.
func BenchmarkPatch(b *testing.B) {
	img := benchImage(b)
	g := imageio.NewGrid(img.Width, img.Height)
	patch := make([]uint16, 3*32*32)
	planes := [][]uint16{patch[:1024], patch[1024:2048], patch[2048:]}
	var c Coder
	var buf []byte
	total := 0
	for i := 0; i < b.N; i++ {
		g.Extract(img.Planes, i%g.Len(), patch)
		buf, _ = c.Encode(buf[:0], planes, 32, 32, 8)
		total += len(buf)
	}
	b.ReportMetric(float64(total*8)/float64(b.N*3*1024), "bits/dim")
}
