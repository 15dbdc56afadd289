package fallback

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/bitswap-codec/bitswap/imageio"
)

// TestCompareCorpus measures bits per subpixel of this coder and of image/png
// (BestCompression) on every image in $FALLBACK_CORPUS (a directory), center-cropped to at
// most $FALLBACK_CROP pixels on a side if that is set. It is skipped without the variable:
//
//	FALLBACK_CORPUS=data/wallpapers/val go test ./fallback -run CompareCorpus -v
func TestCompareCorpus(t *testing.T) {
	dir := os.Getenv("FALLBACK_CORPUS")
	if dir == "" {
		t.Skip("FALLBACK_CORPUS not set")
	}
	crop, _ := strconv.Atoi(os.Getenv("FALLBACK_CROP"))
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	var totOurs, totPNG, totDims float64
	for _, name := range names {
		img, _, err := imageio.DecodeFile(name, &imageio.DecodeOptions{MaxPixels: -1})
		if err != nil {
			t.Logf("skip %s: %v", name, err)
			continue
		}
		if crop > 0 {
			img = centerCrop(img, crop)
		}
		start := time.Now()
		enc, err := Encode(nil, img.Planes, img.Width, img.Height, img.Depth)
		if err != nil {
			t.Fatal(err)
		}
		encTime := time.Since(start)
		start = time.Now()
		dec, n, err := Decode(enc, len(img.Planes), img.Width, img.Height, img.Depth)
		if err != nil || n != len(enc) {
			t.Fatalf("%s: decode: %v (used %d of %d)", name, err, n, len(enc))
		}
		decTime := time.Since(start)
		for c := range dec {
			if !bytes.Equal(u16bytes(dec[c]), u16bytes(img.Planes[c])) {
				t.Fatalf("%s: plane %d differs", name, c)
			}
		}
		var pbuf bytes.Buffer
		enc2 := png.Encoder{CompressionLevel: png.BestCompression}
		if err := enc2.Encode(&pbuf, toStd(img)); err != nil {
			t.Fatal(err)
		}
		dims := float64(img.Width * img.Height * len(img.Planes))
		ours, pn := float64(len(enc))*8/dims, float64(pbuf.Len())*8/dims
		totOurs += float64(len(enc)) * 8
		totPNG += float64(pbuf.Len()) * 8
		totDims += dims
		t.Logf("%-80s %5dx%-5d %v/%d  fallback %.3f  png %.3f  (%.1f%%)  enc %v dec %v", filepath.Base(name),
			img.Width, img.Height, img.Color, img.Depth, ours, pn, 100*(ours/pn-1), encTime.Round(time.Millisecond), decTime.Round(time.Millisecond))
	}
	if totDims > 0 {
		t.Logf("TOTAL fallback %.3f bits/dim, png %.3f bits/dim (%.1f%%)", totOurs/totDims, totPNG/totDims, 100*(totOurs/totPNG-1))
	}
}

func u16bytes(p []uint16) []byte {
	b := make([]byte, 2*len(p))
	for i, v := range p {
		b[2*i], b[2*i+1] = byte(v>>8), byte(v)
	}
	return b
}

func centerCrop(img *imageio.Image, s int) *imageio.Image {
	w, h := min(s, img.Width), min(s, img.Height)
	x0, y0 := (img.Width-w)/2, (img.Height-h)/2
	out := imageio.New(w, h, img.Color, img.Depth)
	for c := range out.Planes {
		for y := 0; y < h; y++ {
			copy(out.Planes[c][y*w:(y+1)*w], img.Planes[c][(y0+y)*img.Width+x0:])
		}
	}
	return out
}

// toStd converts to a Go image for image/png (8-bit only is enough for the comparison).
func toStd(img *imageio.Image) image.Image {
	var buf bytes.Buffer
	if err := imageio.EncodePNG(&buf, img); err != nil {
		panic(err)
	}
	m, err := png.Decode(&buf)
	if err != nil {
		panic(err)
	}
	return m
}
