package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

func decodeBytes(t *testing.T, b []byte) (*Image, string) {
	t.Helper()
	img, format, err := Decode(bytes.NewReader(b), nil)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := img.Validate(); err != nil {
		t.Fatalf("decoded image invalid: %v", err)
	}
	return img, format
}

func pngBytes(t *testing.T, img *Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodePNG(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Every color type and depth survives EncodePNG + Decode exactly, and the PNG has the
// same color type and depth (read back from its IHDR).
func TestPNGRoundTrip(t *testing.T) {
	pngType := map[ColorType]byte{Gray: 0, GrayAlpha: 4, RGB: 2, RGBA: 6}
	for _, ct := range []ColorType{Gray, GrayAlpha, RGB, RGBA} {
		for _, depth := range []int{8, 16} {
			for _, sz := range [][2]int{{1, 1}, {37, 23}} {
				name := fmt.Sprintf("%v/%d/%dx%d", ct, depth, sz[0], sz[1])
				img := randomImage(sz[0], sz[1], ct, depth, uint64(depth+int(ct)))
				b := pngBytes(t, img)
				if b[24] != byte(depth) || b[25] != pngType[ct] {
					t.Errorf("%s: IHDR depth %d type %d", name, b[24], b[25])
				}
				got, format := decodeBytes(t, b)
				if format != FormatPNG || !Equal(got, img) {
					t.Errorf("%s: round trip differs", name)
				}
				// Go's own decoder agrees (so other programs read the same pixels).
				m, err := png.Decode(bytes.NewReader(b))
				if err != nil {
					t.Fatalf("%s: image/png: %v", name, err)
				}
				checkAgainstStd(t, name, img, m)
			}
		}
	}
	// An opaque RGBA image stays RGBA (image/png would have written RGB).
	img := New(4, 4, RGBA, 8)
	for i := range img.Planes[3] {
		img.Planes[3][i] = 255
	}
	if got, _ := decodeBytes(t, pngBytes(t, img)); got.Color != RGBA {
		t.Errorf("opaque RGBA came back as %v", got.Color)
	}
}

// checkAgainstStd compares img with a Go image's non-premultiplied colors.
func checkAgainstStd(t *testing.T, name string, img *Image, m image.Image) {
	t.Helper()
	for y := 0; y < img.Height; y++ {
		for x := 0; x < img.Width; x++ {
			// Compare non-premultiplied values at the image's own depth: converting
			// through At().RGBA() would premultiply and lose precision.
			var c color.NRGBA64
			switch m := m.(type) {
			case *image.NRGBA:
				n := m.NRGBAAt(x, y)
				c = color.NRGBA64{uint16(n.R) * 257, uint16(n.G) * 257, uint16(n.B) * 257, uint16(n.A) * 257}
			case *image.NRGBA64:
				c = m.NRGBA64At(x, y)
			default:
				if img.Depth == 8 {
					n := color.NRGBAModel.Convert(m.At(x, y)).(color.NRGBA)
					c = color.NRGBA64{uint16(n.R) * 257, uint16(n.G) * 257, uint16(n.B) * 257, uint16(n.A) * 257}
				} else {
					c = color.NRGBA64Model.Convert(m.At(x, y)).(color.NRGBA64)
				}
			}
			i := y*img.Width + x
			scale := uint32(1)
			if img.Depth == 8 {
				scale = 257
			}
			var want [4]uint32
			switch img.Color {
			case Gray:
				v := uint32(img.Planes[0][i]) * scale
				want = [4]uint32{v, v, v, 65535}
			case GrayAlpha:
				v := uint32(img.Planes[0][i]) * scale
				want = [4]uint32{v, v, v, uint32(img.Planes[1][i]) * scale}
			case RGB:
				want = [4]uint32{uint32(img.Planes[0][i]) * scale, uint32(img.Planes[1][i]) * scale, uint32(img.Planes[2][i]) * scale, 65535}
			case RGBA:
				want = [4]uint32{uint32(img.Planes[0][i]) * scale, uint32(img.Planes[1][i]) * scale, uint32(img.Planes[2][i]) * scale, uint32(img.Planes[3][i]) * scale}
			}
			got := [4]uint32{uint32(c.R), uint32(c.G), uint32(c.B), uint32(c.A)}
			if got != want {
				t.Fatalf("%s: pixel (%d,%d) is %v in image/png, %v here", name, x, y, got, want)
			}
		}
	}
}

func encodeStd(t *testing.T, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// PNGs written by image/png from each Go image type decode to the right planes.
func TestPNGFromStd(t *testing.T) {
	nrgba := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range nrgba.Pix {
		nrgba.Pix[i] = byte(i * 13)
	}
	nrgba.Pix[3] = 0 // transparent pixel with a color
	got, _ := decodeBytes(t, encodeStd(t, nrgba))
	if got.Color != RGBA || got.Depth != 8 || got.Planes[0][0] != 0 || got.Planes[1][0] != 13 || got.Planes[3][0] != 0 ||
		got.Planes[3][1] != uint16(byte(7*13)) {
		t.Errorf("NRGBA: %+v", got)
	}
	g16 := image.NewGray16(image.Rect(0, 0, 2, 2))
	g16.SetGray16(1, 1, color.Gray16{Y: 0xbeef})
	got, _ = decodeBytes(t, encodeStd(t, g16))
	if got.Color != Gray || got.Depth != 16 || got.Planes[0][3] != 0xbeef {
		t.Errorf("Gray16: %+v", got)
	}
	rgba64 := image.NewRGBA64(image.Rect(0, 0, 2, 1))
	rgba64.SetRGBA64(0, 0, color.RGBA64{1, 2, 0xfffe, 0xffff})
	rgba64.SetRGBA64(1, 0, color.RGBA64{0, 0, 0, 0xffff})
	got, _ = decodeBytes(t, encodeStd(t, rgba64))
	if got.Color != RGB || got.Depth != 16 || got.Planes[2][0] != 0xfffe {
		t.Errorf("opaque RGBA64: %+v", got)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.NRGBA{10, 20, 30, 255}, color.NRGBA{40, 50, 60, 128}})
	pal.Pix[1] = 1
	got, _ = decodeBytes(t, encodeStd(t, pal))
	if got.Color != RGBA || got.Planes[0][1] != 40 || got.Planes[3][1] != 128 || got.Planes[2][0] != 30 {
		t.Errorf("palette with alpha: %+v", got)
	}
	pal.Pix[1] = 0
	if got, _ = decodeBytes(t, encodeStd(t, pal)); got.Color != RGB {
		t.Errorf("opaque palette: %v", got.Color)
	}
}

// insertChunk inserts a chunk right after IHDR.
func insertChunk(png []byte, typ string, data []byte) []byte {
	var c bytes.Buffer
	binary.Write(&c, binary.BigEndian, uint32(len(data)))
	c.WriteString(typ)
	c.Write(data)
	binary.Write(&c, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	at := 8 + 8 + 13 + 4
	return append(append(append([]byte(nil), png[:at]...), c.Bytes()...), png[at:]...)
}

// A tRNS transparent color makes gray into gray+alpha and RGB into RGBA.
func TestPNGTransparentColor(t *testing.T) {
	g := New(2, 2, Gray, 8)
	copy(g.Planes[0], []uint16{7, 8, 9, 7})
	got, _ := decodeBytes(t, insertChunk(pngBytes(t, g), "tRNS", []byte{0, 7}))
	if got.Color != GrayAlpha || got.Planes[0][1] != 8 || got.Planes[1][0] != 0 || got.Planes[1][1] != 255 || got.Planes[1][3] != 0 {
		t.Errorf("gray+tRNS: %v %v", got.Color, got.Planes)
	}
	c := New(2, 1, RGB, 16)
	copy(c.Planes[0], []uint16{1000, 2})
	got, _ = decodeBytes(t, insertChunk(pngBytes(t, c), "tRNS", []byte{0x03, 0xe8, 0, 0, 0, 0}))
	if got.Color != RGBA || got.Depth != 16 || got.Planes[0][0] != 1000 || got.Planes[3][0] != 0 || got.Planes[3][1] != 65535 {
		t.Errorf("RGB16+tRNS: %v %v", got.Color, got.Planes)
	}
}

func TestJPEG(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 19, 11))
	for i := range src.Pix {
		src.Pix[i] = byte(i * 7)
	}
	for i := 3; i < len(src.Pix); i += 4 {
		src.Pix[i] = 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	got, format := decodeBytes(t, buf.Bytes())
	ref, _ := jpeg.Decode(bytes.NewReader(buf.Bytes()))
	if format != FormatJPEG || got.Color != RGB || got.Depth != 8 {
		t.Fatalf("%s %v %d", format, got.Color, got.Depth)
	}
	checkAgainstStd(t, "jpeg", got, ref)
	gray := image.NewGray(image.Rect(0, 0, 9, 9))
	for i := range gray.Pix {
		gray.Pix[i] = byte(i * 3)
	}
	buf.Reset()
	jpeg.Encode(&buf, gray, nil)
	got, _ = decodeBytes(t, buf.Bytes())
	ref, _ = jpeg.Decode(bytes.NewReader(buf.Bytes()))
	if got.Color != Gray {
		t.Fatalf("gray JPEG decoded as %v", got.Color)
	}
	checkAgainstStd(t, "gray jpeg", got, ref)
}

func TestGIFFirstFrame(t *testing.T) {
	pal := color.Palette{color.RGBA{0, 0, 0, 255}, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 0, 0}}
	f1 := image.NewPaletted(image.Rect(0, 0, 4, 3), pal)
	f1.Pix[5] = 1
	f2 := image.NewPaletted(image.Rect(0, 0, 4, 3), pal)
	f2.Pix[0] = 2
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, &gif.GIF{Image: []*image.Paletted{f1, f2}, Delay: []int{0, 0}}); err != nil {
		t.Fatal(err)
	}
	got, format := decodeBytes(t, buf.Bytes())
	if format != FormatGIF || got.Color != RGB || got.Width != 4 || got.Planes[0][5] != 255 || got.Planes[0][0] != 0 {
		t.Fatalf("%s %v %v", format, got.Color, got.Planes)
	}
	buf.Reset()
	gif.Encode(&buf, f2, nil)
	if got, _ = decodeBytes(t, buf.Bytes()); got.Color != RGBA || got.Planes[3][0] != 0 || got.Planes[3][1] != 255 {
		t.Fatalf("transparent GIF: %v %v", got.Color, got.Planes)
	}
}

func TestBMPAndTIFF(t *testing.T) {
	nrgba := image.NewNRGBA(image.Rect(0, 0, 5, 4))
	for i := range nrgba.Pix {
		nrgba.Pix[i] = byte(i*29 + 3)
	}
	opaque := image.NewNRGBA(image.Rect(0, 0, 5, 4))
	copy(opaque.Pix, nrgba.Pix)
	for i := 3; i < len(opaque.Pix); i += 4 {
		opaque.Pix[i] = 255
	}
	var buf bytes.Buffer
	bmp.Encode(&buf, opaque)
	got, format := decodeBytes(t, buf.Bytes())
	if format != FormatBMP || got.Color != RGB {
		t.Fatalf("bmp: %s %v", format, got.Color)
	}
	checkAgainstStd(t, "bmp", got, opaque)

	buf.Reset()
	if err := tiff.Encode(&buf, nrgba, nil); err != nil {
		t.Fatal(err)
	}
	got, format = decodeBytes(t, buf.Bytes())
	if format != FormatTIFF || got.Color != RGBA {
		t.Fatalf("tiff: %s %v", format, got.Color)
	}
	for i := 0; i < 20; i++ {
		for c := 0; c < 4; c++ {
			if got.Planes[c][i] != uint16(nrgba.Pix[4*i+c]) {
				t.Fatalf("tiff NRGBA sample %d/%d: %d want %d", i, c, got.Planes[c][i], nrgba.Pix[4*i+c])
			}
		}
	}
	g16 := image.NewGray16(image.Rect(0, 0, 3, 3))
	g16.Pix[5] = 0x77
	buf.Reset()
	tiff.Encode(&buf, g16, nil)
	if got, _ = decodeBytes(t, buf.Bytes()); got.Color != Gray || got.Depth != 16 || got.Planes[0][2] != 0x77 {
		t.Fatalf("tiff gray16: %v %d %v", got.Color, got.Depth, got.Planes)
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The lossless WebP files in testdata hold exactly the pixels of their PNGs.
func TestWebPLossless(t *testing.T) {
	for _, base := range []string{"cups-64x48", "waves-rgba-64x48"} {
		fromPNG, _ := decodeBytes(t, readTestdata(t, base+".png"))
		fromWebP, format := decodeBytes(t, readTestdata(t, base+".webp"))
		if format != FormatWebP || !Equal(fromPNG, fromWebP) {
			t.Errorf("%s: WebP (%v) differs from PNG (%v)", base, fromWebP.Color, fromPNG.Color)
		}
	}
	lossy := readTestdata(t, "cups-64x48.lossy.webp")
	got, _ := decodeBytes(t, lossy)
	ref, err := webp.Decode(bytes.NewReader(lossy))
	if err != nil {
		t.Fatal(err)
	}
	if got.Color != RGB {
		t.Fatalf("lossy WebP: %v", got.Color)
	}
	checkAgainstStd(t, "lossy webp", got, ref)
}

func TestRealAlpha(t *testing.T) {
	img, _ := decodeBytes(t, readTestdata(t, "waves-rgba-64x48.png"))
	if img.Color != RGBA {
		t.Fatalf("waves: %v", img.Color)
	}
	partial := 0
	for _, a := range img.Planes[3] {
		if a != 0 && a != 255 {
			partial++
		}
	}
	t.Logf("waves crop: %d of %d pixels partially transparent", partial, len(img.Planes[3]))
}

func TestPNM(t *testing.T) {
	p6 := append([]byte("P6\n# a comment\n3 1\n255\n"), 1, 2, 3, 4, 5, 6, 7, 8, 9)
	got, format := decodeBytes(t, p6)
	if format != FormatPNM || got.Color != RGB || got.Depth != 8 || got.Planes[0][1] != 4 || got.Planes[2][2] != 9 {
		t.Fatalf("P6: %v", got)
	}
	p5 := append([]byte("P5 2 2 65535\t"), 0, 1, 0xff, 0xff, 0x12, 0x34, 0, 0)
	got, _ = decodeBytes(t, p5)
	if got.Color != Gray || got.Depth != 16 || got.Planes[0][0] != 1 || got.Planes[0][1] != 65535 || got.Planes[0][2] != 0x1234 {
		t.Fatalf("P5/16: %v", got)
	}
	// maxval 15 is rescaled to 8 bits, maxval 1023 to 16 bits.
	got, _ = decodeBytes(t, append([]byte("P5 3 1 15\n"), 0, 7, 15))
	if got.Depth != 8 || got.Planes[0][0] != 0 || got.Planes[0][1] != 119 || got.Planes[0][2] != 255 {
		t.Fatalf("maxval 15: %v", got.Planes)
	}
	got, _ = decodeBytes(t, append([]byte("P5 1 1 1023\n"), 0x03, 0xff))
	if got.Depth != 16 || got.Planes[0][0] != 65535 {
		t.Fatalf("maxval 1023: %v", got.Planes)
	}
	bad := map[string][]byte{
		"truncated raster": append([]byte("P6 2 2 255\n"), 1, 2, 3),
		"sample > maxval":  append([]byte("P5 1 1 100\n"), 101),
		"maxval 0":         []byte("P5 1 1 0\n\x00"),
		"maxval too big":   []byte("P5 1 1 65536\n\x00\x00"),
		"zero width":       []byte("P5 0 1 255\n"),
		"garbage":          []byte("P5 x 1 255\n"),
		"no space":         []byte("P5 1 1 255"),
		"ascii":            []byte("P2 1 1 255\n0\n"),
	}
	for name, b := range bad {
		if _, _, err := Decode(bytes.NewReader(b), nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("hello world, not an image"), []byte("\x89BSW\r\n\x1a\n")} {
		if _, _, err := Decode(bytes.NewReader(b), nil); !errors.Is(err, ErrFormat) {
			t.Errorf("%q: %v", b, err)
		}
	}
}

// Limits are checked from the header, before the pixels are decoded.
func TestSizeLimit(t *testing.T) {
	img := New(20, 10, RGB, 8)
	b := pngBytes(t, img)
	if _, _, err := Decode(bytes.NewReader(b), &DecodeOptions{MaxPixels: 199}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
	if _, _, err := Decode(bytes.NewReader(b), &DecodeOptions{MaxPixels: 200}); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	// A PNG header claiming 100000x100000 with no data behind it is rejected at once.
	huge := append([]byte(nil), b[:33]...)
	binary.BigEndian.PutUint32(huge[16:], 100000)
	binary.BigEndian.PutUint32(huge[20:], 100000)
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29]))
	start := time.Now()
	if _, _, err := Decode(bytes.NewReader(huge), nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("huge PNG: %v", err)
	}
	pnm := []byte("P6 100000 100000 255\n")
	if _, _, err := Decode(bytes.NewReader(pnm), nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("huge PNM: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("rejecting huge images took %v", d)
	}
}

// Truncated and damaged files of every format give errors, not panics.
func TestDamagedInputs(t *testing.T) {
	img := randomImage(16, 16, RGBA, 8, 4)
	files := map[string][]byte{"png": pngBytes(t, img), "webp": readTestdata(t, "cups-64x48.webp")}
	var buf bytes.Buffer
	jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 16, 16)), nil)
	files["jpeg"] = append([]byte(nil), buf.Bytes()...)
	buf.Reset()
	tiff.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 16, 16)), nil)
	files["tiff"] = append([]byte(nil), buf.Bytes()...)
	for name, b := range files {
		for _, n := range []int{len(b) / 3, len(b) / 2} {
			if _, _, err := Decode(bytes.NewReader(b[:n]), nil); err == nil {
				t.Errorf("%s truncated to %d of %d bytes decoded", name, n, len(b))
			}
		}
		for i := 0; i < len(b); i += 7 {
			bad := append([]byte(nil), b...)
			bad[i] ^= 0x55
			Decode(bytes.NewReader(bad), nil) // must not panic
		}
	}
}

func TestDecodeFile(t *testing.T) {
	img, format, err := DecodeFile(filepath.Join("..", "testdata", "picos-100x75.png"), nil)
	if err != nil || format != FormatPNG || img.Width != 100 || img.Height != 75 || img.Color != RGB {
		t.Fatalf("%v %s %+v", err, format, img)
	}
	if _, _, err := DecodeFile("does-not-exist.png", nil); err == nil || !strings.Contains(err.Error(), "does-not-exist") {
		t.Fatalf("missing file: %v", err)
	}
}
