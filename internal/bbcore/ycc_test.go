package bbcore_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"github.com/bitswap-codec/bitswap/bitswap"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/fallback"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/bbcore"
)

// jpegImage returns img's RGB through Go's JPEG encoder (4:2:0) and decoder, as imageio
// reads a JPEG file; with alpha, img's alpha plane is kept.
func jpegImage(t testing.TB, img *imageio.Image) *imageio.Image {
	t.Helper()
	src := image.NewRGBA(image.Rect(0, 0, img.Width, img.Height))
	for i := range img.Planes[0] {
		src.Pix[4*i], src.Pix[4*i+1], src.Pix[4*i+2], src.Pix[4*i+3] = uint8(img.Planes[0][i]), uint8(img.Planes[1][i]), uint8(img.Planes[2][i]), 255
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, src, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	out, _, err := imageio.Decode(&jpg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if img.Color == imageio.RGBA {
		out.Color, out.Planes = imageio.RGBA, append(out.Planes[:3], img.Planes[3])
	}
	return out
}

// TestYCCRoundTrip: a decoded JPEG is coded through its Y'CbCr planes (payload mode 2),
// smaller than the fallback coder on RGB, and decodes exactly; with alpha too.
func TestYCCRoundTrip(t *testing.T) {
	cd := &bbcore.Coder{Model: smallModel(t), Scheme: bitswap.Scheme{}}
	for _, c := range []imageio.ColorType{imageio.RGB, imageio.RGBA} {
		img := jpegImage(t, smoothImage(77, 45, c, 11))
		payload := roundTrip(t, cd, img)
		if payload[1] != 2 {
			t.Fatalf("%v: payload mode %d, want 2 (Y'CbCr)", c, payload[1])
		}
		in, err := bbcore.Inspect(payload, imageio.NewGrid(img.Width, img.Height).Len())
		if err != nil || !in.YCC || in.VAE {
			t.Fatalf("%v: Inspect %+v, %v", c, in, err)
		}
		rgb, err := fallback.Encode(nil, img.Planes, img.Width, img.Height, 8)
		if err != nil {
			t.Fatal(err)
		}
		if len(payload) >= len(rgb) {
			t.Fatalf("%v: %d bytes through Y'CbCr, %d through the fallback coder on RGB", c, len(payload), len(rgb))
		}
		t.Logf("%v: %d bytes, fallback on RGB %d", c, len(payload), len(rgb))
	}
}

// TestYCCHostile: mode-2 payloads with a bad subsampling, cut short or with trailing bytes
// fail with ErrCorrupt, and so does one for a gray header.
func TestYCCHostile(t *testing.T) {
	cd := &bbcore.Coder{Model: smallModel(t), Scheme: bitswap.Scheme{}}
	img := jpegImage(t, smoothImage(40, 24, imageio.RGB, 12))
	payload, err := cd.Encode(img, nil)
	if err != nil || payload[1] != 2 {
		t.Fatalf("encode: mode %d, %v", payload[1], err)
	}
	h := &container.Header{Coder: container.BitSwap, Color: imageio.RGB, Depth: 8, Width: img.Width, Height: img.Height}
	bad := func(name string, p []byte, hh *container.Header) {
		if _, err := cd.Decode(hh, p, nil); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	ratio := append([]byte(nil), payload...)
	ratio[2] = 3
	bad("ratio 3x1", ratio, h)
	bad("cut short", payload[:len(payload)-5], h)
	bad("trailing byte", append(append([]byte(nil), payload...), 0), h)
	gray := *h
	gray.Color = imageio.Gray
	bad("gray header", payload, &gray)
}
