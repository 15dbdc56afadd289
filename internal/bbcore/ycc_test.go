package bbcore_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bitswap-codec/bitswap/bitswap"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/fallback"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/bbcore"
	"github.com/bitswap-codec/bitswap/internal/ycc"
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

// decodedImage returns img's RGB as libjpeg or libwebp (conv) would decode a 4:4:4 image of
// it: each pixel's Y'CbCr (Go's rounding) converted back by conv's arithmetic, which Go's
// conversion does not reproduce.
func decodedImage(img *imageio.Image, conv ycc.Conv) *imageio.Image {
	out := imageio.New(img.Width, img.Height, imageio.RGB, 8)
	for i := range img.Planes[0] {
		y, cb, cr := color.RGBToYCbCr(uint8(img.Planes[0][i]), uint8(img.Planes[1][i]), uint8(img.Planes[2][i]))
		r, g, b := conv.RGB(y, cb, cr)
		out.Planes[0][i], out.Planes[1][i], out.Planes[2][i] = uint16(r), uint16(g), uint16(b)
	}
	return out
}

// TestYCCLibRoundTrip: an image decoded by libjpeg (libwebp) is coded through its 4:4:4
// Y'CbCr planes under that library's conversion (payload mode 3, 4), smaller than the
// fallback coder on RGB, and decodes exactly; the same payload read with Go's conversion
// (mode 2) gives other pixels.
func TestYCCLibRoundTrip(t *testing.T) {
	cd := &bbcore.Coder{Model: smallModel(t), Scheme: bitswap.Scheme{}}
	for mode, conv := range map[byte]ycc.Conv{3: ycc.LibJPEG, 4: ycc.LibWebP} {
		img := decodedImage(smoothImage(77, 45, imageio.RGB, 11), conv)
		payload := roundTrip(t, cd, img)
		if payload[1] != mode {
			t.Fatalf("%v: payload mode %d, want %d", conv, payload[1], mode)
		}
		rgb, err := fallback.Encode(nil, img.Planes, img.Width, img.Height, 8)
		if err != nil {
			t.Fatal(err)
		}
		if len(payload) >= len(rgb) {
			t.Fatalf("%v: %d bytes through Y'CbCr, %d through the fallback coder on RGB", conv, len(payload), len(rgb))
		}
		t.Logf("%v: %d bytes, fallback on RGB %d", conv, len(payload), len(rgb))
		h := &container.Header{Coder: container.BitSwap, Color: imageio.RGB, Depth: 8, Width: img.Width, Height: img.Height}
		asGo := append([]byte(nil), payload...)
		asGo[1] = 2
		got, err := cd.Decode(h, asGo, nil)
		if err != nil {
			t.Fatal(err)
		}
		same := true
		for c := range 3 {
			same = same && slices.Equal(got.Planes[c], img.Planes[c])
		}
		if same {
			t.Fatalf("%v: the planes give the same pixels under Go's conversion: the test image proves nothing", conv)
		}
	}
}

// libraryImage reads testdata's decode of a small JPEG (WebP) by djpeg (dwebp), with the
// library's interpolated chroma (see testdata/README.md).
func libraryImage(t testing.TB, file string) *imageio.Image {
	t.Helper()
	img, _, err := imageio.DecodeFile(filepath.Join("..", "..", "testdata", file), nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestYCCFancyRoundTrip: a JPEG (WebP) that libjpeg (libwebp) decoded with its interpolated
// chroma is coded through the subsampled chroma behind it (payload mode 5, 6), smaller than
// through its 4:4:4 planes (mode 3, 4), and decodes exactly.
func TestYCCFancyRoundTrip(t *testing.T) {
	cd := &bbcore.Coder{Model: smallModel(t), Scheme: bitswap.Scheme{}}
	for _, c := range []struct {
		file string
		conv ycc.Conv
		mode byte
	}{
		{"cups-61x45.420.djpeg.png", ycc.LibJPEG, 5},
		{"cups-61x45.422.djpeg.png", ycc.LibJPEG, 5},
		{"cups-61x45.dwebp.png", ycc.LibWebP, 6},
	} {
		img := libraryImage(t, c.file)
		payload := roundTrip(t, cd, img)
		if payload[1] != c.mode {
			t.Fatalf("%s: payload mode %d, want %d", c.file, payload[1], c.mode)
		}
		full := ycc.Split([3][]uint16{img.Planes[0], img.Planes[1], img.Planes[2]}, img.Width, img.Height, ycc.Ratio{DX: 1, DY: 1}, c.conv)
		p444, err := bbcore.EncodeYCC(img, full)
		if err != nil {
			t.Fatal(err)
		}
		if len(payload) >= len(p444) {
			t.Errorf("%s: %d bytes through the subsampled chroma, %d through the 4:4:4 planes", c.file, len(payload), len(p444))
		}
		t.Logf("%s: %d bytes, %d through the 4:4:4 planes", c.file, len(payload), len(p444))
	}
}

// TestYCCHostile: mode-2 to 6 payloads with a bad subsampling, cut short or with trailing
// bytes fail, and so do they for a gray header; so does a mode-5 or 6 payload at 4:4:4 (no
// interpolation there) or, for mode 6, 4:2:2 (libwebp has none).
func TestYCCHostile(t *testing.T) {
	cd := &bbcore.Coder{Model: smallModel(t), Scheme: bitswap.Scheme{}}
	src := smoothImage(40, 24, imageio.RGB, 12)
	for mode, img := range map[byte]*imageio.Image{2: jpegImage(t, src), 3: decodedImage(src, ycc.LibJPEG), 4: decodedImage(src, ycc.LibWebP),
		5: libraryImage(t, "cups-61x45.420.djpeg.png"), 6: libraryImage(t, "cups-61x45.dwebp.png")} {
		yccHostile(t, cd, img, mode)
	}
}

func yccHostile(t *testing.T, cd *bbcore.Coder, img *imageio.Image, mode byte) {
	payload, err := cd.Encode(img, nil)
	if err != nil || payload[1] != mode {
		t.Fatalf("encode: mode %d, %v, want mode %d", payload[1], err, mode)
	}
	h := &container.Header{Coder: container.BitSwap, Color: imageio.RGB, Depth: 8, Width: img.Width, Height: img.Height}
	bad := func(name string, p []byte, hh *container.Header) {
		if _, err := cd.Decode(hh, p, nil); err == nil {
			t.Errorf("mode %d, %s: decoded", mode, name)
		}
	}
	for _, r := range [][2]byte{{3, 1}, {1, 1}, {2, 1}} {
		if mode < 5 && r != [2]byte{3, 1} || mode == 5 && r == [2]byte{2, 1} {
			continue // valid there
		}
		ratio := append([]byte(nil), payload...)
		ratio[2], ratio[3] = r[0], r[1]
		bad(fmt.Sprintf("ratio %dx%d", r[0], r[1]), ratio, h)
	}
	bad("cut short", payload[:len(payload)-5], h)
	bad("trailing byte", append(append([]byte(nil), payload...), 0), h)
	gray := *h
	gray.Color = imageio.Gray
	bad("gray header", payload, &gray)
}
