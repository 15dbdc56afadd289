package bsw_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/bitswap-codec/bitswap/bsw"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
)

// kind is a color type and depth of a .bsw file with the Go type Decode returns for it.
type kind struct {
	color imageio.ColorType
	depth int
	make  func(r image.Rectangle) image.Image // an empty image of the Go type
}

var kinds = []kind{
	{imageio.Gray, 8, func(r image.Rectangle) image.Image { return image.NewGray(r) }},
	{imageio.Gray, 16, func(r image.Rectangle) image.Image { return image.NewGray16(r) }},
	{imageio.GrayAlpha, 8, func(r image.Rectangle) image.Image { return image.NewNRGBA(r) }},
	{imageio.GrayAlpha, 16, func(r image.Rectangle) image.Image { return image.NewNRGBA64(r) }},
	{imageio.RGB, 8, func(r image.Rectangle) image.Image { return image.NewRGBA(r) }},
	{imageio.RGB, 16, func(r image.Rectangle) image.Image { return image.NewRGBA64(r) }},
	{imageio.RGBA, 8, func(r image.Rectangle) image.Image { return image.NewNRGBA(r) }},
	{imageio.RGBA, 16, func(r image.Rectangle) image.Image { return image.NewNRGBA64(r) }},
}

func (k kind) String() string { return fmt.Sprintf("%v/%d", k.color, k.depth) }

// randomImage returns a w x h image of kind k with random samples: gray ones have R = G = B,
// opaque ones A at its maximum, the others every alpha including 0 (with colors, which
// must survive).
func randomImage(k kind, w, h int, seed uint64) image.Image {
	m := k.make(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(seed, 7))
	top := 1<<k.depth - 1
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			s := [4]uint16{uint16(rng.IntN(top + 1)), uint16(rng.IntN(top + 1)), uint16(rng.IntN(top + 1)), uint16(top)}
			if k.color == imageio.Gray || k.color == imageio.GrayAlpha {
				s[1], s[2] = s[0], s[0]
			}
			if k.color.HasAlpha() {
				s[3] = uint16(rng.IntN(top + 1))
			}
			setSamples(m, x, y, s)
		}
	}
	return m
}

// setSamples sets pixel (x, y) of m, one of the kinds' types, to the samples s (at m's
// depth; straight alpha, so only opaque values for the premultiplied types).
func setSamples(m image.Image, x, y int, s [4]uint16) {
	switch m := m.(type) {
	case *image.Gray:
		m.SetGray(x, y, color.Gray{uint8(s[0])})
	case *image.Gray16:
		m.SetGray16(x, y, color.Gray16{s[0]})
	case *image.NRGBA:
		m.SetNRGBA(x, y, color.NRGBA{uint8(s[0]), uint8(s[1]), uint8(s[2]), uint8(s[3])})
	case *image.NRGBA64:
		m.SetNRGBA64(x, y, color.NRGBA64{s[0], s[1], s[2], s[3]})
	case *image.RGBA:
		m.SetRGBA(x, y, color.RGBA{uint8(s[0]), uint8(s[1]), uint8(s[2]), uint8(s[3])})
	case *image.RGBA64:
		m.SetRGBA64(x, y, color.RGBA64{s[0], s[1], s[2], s[3]})
	}
}

// sameImage fails unless got has want's Go type, size and samples (compared in the type's
// own representation, so the colors of transparent pixels count).
func sameImage(t *testing.T, got, want image.Image) {
	t.Helper()
	if reflect.TypeOf(got) != reflect.TypeOf(want) {
		t.Fatalf("decoded a %T, want %T", got, want)
	}
	gb, wb := got.Bounds(), want.Bounds()
	if gb.Size() != wb.Size() {
		t.Fatalf("decoded %v, want the size of %v", gb, wb)
	}
	for y := 0; y < wb.Dy(); y++ {
		g, w := row(got, gb.Min.Y+y), row(want, wb.Min.Y+y)
		if !bytes.Equal(g, w) {
			t.Fatalf("row %d differs", y)
		}
	}
}

// row returns the bytes of row y of m, one of the kinds' types.
func row(m image.Image, y int) []byte {
	var pix []byte
	var size int // bytes per pixel
	switch m := m.(type) {
	case *image.Gray:
		pix, size = m.Pix, 1
	case *image.Gray16:
		pix, size = m.Pix, 2
	case *image.RGBA:
		pix, size = m.Pix, 4
	case *image.NRGBA:
		pix, size = m.Pix, 4
	case *image.RGBA64:
		pix, size = m.Pix, 8
	case *image.NRGBA64:
		pix, size = m.Pix, 8
	default:
		panic(fmt.Sprintf("row of a %T", m))
	}
	b := m.Bounds()
	off := m.(interface{ PixOffset(x, y int) int }).PixOffset(b.Min.X, y)
	return pix[off : off+b.Dx()*size]
}

func encode(t *testing.T, m image.Image, o *bsw.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := bsw.Encode(&buf, m, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func header(t *testing.T, data []byte) *container.Header {
	t.Helper()
	h, err := container.Parse(data, container.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestRoundTrip: every color type and depth survives Encode and Decode (and image.Decode)
// exactly, as the same Go type, and is stored as that color type and depth.
func TestRoundTrip(t *testing.T) {
	for i, k := range kinds {
		t.Run(k.String(), func(t *testing.T) {
			want := randomImage(k, 23, 17, uint64(i))
			data := encode(t, want, nil)
			if h := header(t, data); h.Color != k.color || h.Depth != k.depth {
				t.Fatalf("stored as %v/%d", h.Color, h.Depth)
			}
			got, err := bsw.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			sameImage(t, got, want)
			got, format, err := image.Decode(bytes.NewReader(data))
			if err != nil || format != "bsw" {
				t.Fatalf("image.Decode: format %q, %v", format, err)
			}
			sameImage(t, got, want)
			again := encode(t, got, nil)
			if !bytes.Equal(again, data) {
				t.Fatal("encoding the decoded image gives another file")
			}
		})
	}
}

// loadPNG reads a PNG of testdata with image/png.
func loadPNG(t *testing.T, name string) image.Image {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCoders: a photo through each coder, by name and by default.
func TestCoders(t *testing.T) {
	photo := loadPNG(t, "picos-100x75.png")
	for _, c := range []struct {
		name string
		id   container.CoderID
	}{{"default", container.BitSwap}, {"bitswap", container.BitSwap}, {"bbans", container.BBANS}, {"fallback", container.Fallback}} {
		t.Run(c.name, func(t *testing.T) {
			o := &bsw.Options{Coder: c.name}
			if c.name == "default" {
				o = nil
			}
			data := encode(t, photo, o)
			if h := header(t, data); h.Coder != c.id {
				t.Fatalf("coded by %v, want %v", h.Coder, c.id)
			}
			got, err := bsw.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			sameImage(t, got, photo)
		})
	}
	if got := bsw.DefaultCoder(); got != "bitswap" {
		t.Fatalf("DefaultCoder() = %q with the model coders linked in", got)
	}
}

// TestEncodeConversions: images of other types, or sub-images, are stored with the pixels
// they show, in the fewest planes and at the depth they need.
func TestEncodeConversions(t *testing.T) {
	r := image.Rect(0, 0, 20, 12)
	rgb := randomImage(kinds[4], 20, 12, 1).(*image.RGBA)
	grayRGB := image.NewRGBA(r)
	opaqueNRGBA := image.NewNRGBA(r)
	premul, premul64 := image.NewRGBA(r), image.NewRGBA64(r)
	alpha, alpha16 := image.NewAlpha16(r), image.NewAlpha16(r)
	translucent := randomImage(kinds[6], 20, 12, 2)
	translucent64 := randomImage(kinds[7], 20, 12, 3)
	for y := 0; y < 12; y++ {
		for x := 0; x < 20; x++ {
			v := uint8(x * y)
			grayRGB.SetRGBA(x, y, color.RGBA{v, v, v, 255})
			opaqueNRGBA.SetNRGBA(x, y, color.NRGBA{v, 2 * v, uint8(x), 255})
			premul.Set(x, y, translucent.At(x, y))
			premul64.Set(x, y, translucent64.At(x, y))
			alpha.SetAlpha16(x, y, color.Alpha16{uint16(v) * 257}) // 8-bit values
			alpha16.SetAlpha16(x, y, color.Alpha16{uint16(x*y*311 + x)})
		}
	}
	pal := image.NewPaletted(r, color.Palette{color.RGBA{1, 2, 3, 255}, color.RGBA{200, 100, 0, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3 % 2)
	}
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(i)
	}
	for _, c := range []struct {
		name  string
		m     image.Image
		color imageio.ColorType
		depth int
	}{
		{"sub-image", rgb.SubImage(image.Rect(3, 2, 17, 11)), imageio.RGB, 8},
		{"gray RGB", grayRGB, imageio.Gray, 8},
		{"opaque NRGBA", opaqueNRGBA, imageio.RGBA, 8},
		{"premultiplied", premul, imageio.RGBA, 8},
		{"premultiplied 16", premul64, imageio.RGBA, 16},
		{"paletted", pal, imageio.RGB, 8},
		{"YCbCr", ycc, imageio.RGB, 8},
		{"alpha 8", alpha, imageio.GrayAlpha, 8},
		{"alpha 16", alpha16, imageio.GrayAlpha, 16},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := encode(t, c.m, nil)
			if h := header(t, data); h.Color != c.color || h.Depth != c.depth {
				t.Fatalf("stored as %v/%d, want %v/%d", h.Color, h.Depth, c.color, c.depth)
			}
			got, err := bsw.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			// What the source shows, as straight alpha at the stored depth.
			model := color.NRGBAModel
			if c.depth == 16 {
				model = color.NRGBA64Model
			}
			b := c.m.Bounds()
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					want := model.Convert(c.m.At(x, y))
					if g := model.Convert(got.At(x-b.Min.X, y-b.Min.Y)); g != want {
						t.Fatalf("pixel (%d,%d): %v, want %v", x, y, g, want)
					}
				}
			}
		})
	}
}

// TestDecodeConfig: the size and the color model of the decoded image, from the header
// alone, directly and through image.DecodeConfig.
func TestDecodeConfig(t *testing.T) {
	for i, k := range kinds {
		data := encode(t, randomImage(k, 9, 5, uint64(i)), &bsw.Options{Coder: "fallback"})
		m, err := bsw.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		// The header alone: a reader that fails after it.
		r := io.MultiReader(bytes.NewReader(data[:container.HeaderSize]), errReader{})
		cfg, err := bsw.DecodeConfig(r)
		if err != nil {
			t.Fatalf("%v: %v", k, err)
		}
		if cfg.Width != 9 || cfg.Height != 5 || cfg.ColorModel != m.ColorModel() {
			t.Fatalf("%v: config %+v, decoded %T", k, cfg, m)
		}
		cfg2, format, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil || format != "bsw" || cfg2 != cfg {
			t.Fatalf("%v: image.DecodeConfig %+v %q %v", k, cfg2, format, err)
		}
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("read past the header") }

// TestBadInput: damaged, foreign and too large inputs fail with the matching error and no
// image.
func TestBadInput(t *testing.T) {
	m := randomImage(kinds[4], 40, 30, 3)
	good := encode(t, m, &bsw.Options{Coder: "fallback"})
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 1
		return b
	}
	pngData := readTestdata(t, "picos-100x75.png")
	for _, c := range []struct {
		name string
		data []byte
		o    *bsw.Options
		want error
	}{
		{"empty", nil, nil, bsw.ErrFormat},
		{"png", pngData, nil, bsw.ErrFormat},
		{"short header", good[:20], nil, bsw.ErrCorrupt},
		{"header crc", flip(14), nil, bsw.ErrCorrupt},
		{"version", withHeader(good, func(b []byte) { b[8] = 2 }), nil, bsw.ErrVersion},
		{"truncated", good[:len(good)-1], nil, bsw.ErrCorrupt},
		{"trailing", append(bytes.Clone(good), 0), nil, bsw.ErrCorrupt},
		{"payload", flip(len(good) - 10), nil, bsw.ErrCorrupt},
		{"pixel crc", withHeader(good, func(b []byte) { b[30] ^= 1 }), nil, bsw.ErrCorrupt},
		{"too large", good, &bsw.Options{MaxPixels: 40*30 - 1}, bsw.ErrTooLarge},
		{"model", withHeader(readFile(t, "rgb-bitswap.bsw"), func(b []byte) { b[20] ^= 1 }), nil, bsw.ErrModelMismatch},
	} {
		got, err := bsw.DecodeWith(bytes.NewReader(c.data), c.o)
		if !errors.Is(err, c.want) || got != nil {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	if _, _, err := image.Decode(bytes.NewReader(good[:30])); err == nil {
		t.Error("image.Decode of a short header: no error")
	}
	if _, err := bsw.DecodeConfig(bytes.NewReader(pngData)); !errors.Is(err, bsw.ErrFormat) {
		t.Errorf("DecodeConfig of a PNG: %v", err)
	}
}

// TestEncodeErrors: what Encode refuses, writing nothing.
func TestEncodeErrors(t *testing.T) {
	m := randomImage(kinds[4], 40, 30, 3)
	for _, c := range []struct {
		name string
		m    image.Image
		o    *bsw.Options
		want error
	}{
		{"coder", m, &bsw.Options{Coder: "png"}, bsw.ErrUnknownCoder},
		{"too large", m, &bsw.Options{MaxPixels: 100}, bsw.ErrTooLarge},
		{"empty", image.NewRGBA(image.Rect(0, 0, 0, 5)), nil, imageio.ErrInvalid},
	} {
		var buf bytes.Buffer
		if err := bsw.Encode(&buf, c.m, c.o); !errors.Is(err, c.want) || buf.Len() != 0 {
			t.Errorf("%s: %v (%d bytes written); want %v", c.name, err, buf.Len(), c.want)
		}
	}
}

// withHeader returns data with its header changed by edit and its header CRC redone.
func withHeader(data []byte, edit func([]byte)) []byte {
	b := bytes.Clone(data)
	edit(b)
	crc := crc32.Checksum(b[:40], crc32.MakeTable(crc32.Castagnoli))
	binary.BigEndian.PutUint32(b[40:], crc)
	return b
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzDecode: any input decodes to an image that agrees with DecodeConfig, or fails; it
// never panics.
func FuzzDecode(f *testing.F) {
	for _, g := range goldens {
		f.Add(readFile(f, g.name+".bsw"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, cfgErr := bsw.DecodeConfig(bytes.NewReader(data))
		m, err := bsw.DecodeWith(bytes.NewReader(data), &bsw.Options{MaxPixels: 1 << 16})
		if err != nil {
			return
		}
		b := m.Bounds()
		if cfgErr != nil || b.Dx() != cfg.Width || b.Dy() != cfg.Height || m.ColorModel() != cfg.ColorModel {
			t.Fatalf("decoded %T %v, config %+v, %v", m, b, cfg, cfgErr)
		}
	})
}
