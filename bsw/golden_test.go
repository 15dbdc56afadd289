package bsw_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/bitswap-codec/bitswap/bbans"
	"github.com/bitswap-codec/bitswap/bitswap"
	"github.com/bitswap-codec/bitswap/bsw"
	"github.com/bitswap-codec/bitswap/codec"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/bbcore"
	"github.com/bitswap-codec/bitswap/weights"
)

// update regenerates the golden files: go test ./bsw -run Golden -update
var update = flag.Bool("update", false, "rewrite testdata/golden (the .bsw fixtures and their source PNGs)")

const goldenDir = "../testdata/golden"

// golden is one fixture: testdata/golden/<name>.bsw decodes to the image of <png>.
type golden struct {
	name  string
	coder container.CoderID
	png   string
	// src builds the source image from the images of testdata (only for -update).
	src func(t *testing.T) *imageio.Image
	// bits is the latent bits k of the model-coded ones (0: the default).
	bits uint
	// plain codes the fixture as `bitswap encode` does (bsw.EncodeImage with its coder),
	// not with the model forced onto every patch.
	plain bool
}

// The model-coded fixtures are 96x96: the bits-back chain needs a fixed amount of clean
// bits (about 4 KB at the default k = 10 for bitswap, 15 KB for bbans) from
// fallback-coded patches before the model can code any, so a smaller image has few or no
// model-coded patches. The bbans one uses k = 4, which needs less (k is in the payload).
var goldens = []golden{
	{"rgb-fallback", container.Fallback, "rgb-fallback.png", picosSmall, 0, false},
	{"rgb-bitswap", container.BitSwap, "rgb-model.png", picosModel, 0, false},
	{"rgb-bbans", container.BBANS, "rgb-model.png", picosModel, 4, false},
	{"rgba-fallback", container.Fallback, "rgba-fallback.png", picosRGBA, 0, false},
	{"gray16-fallback", container.Fallback, "gray16-fallback.png", picosGray16, 0, false},
	{"rgb-jpeg-bitswap", container.BitSwap, "rgb-jpeg.png", picosJPEG, 0, true},
	{"rgb-djpeg-bitswap", container.BitSwap, "rgb-djpeg.png", cupsDjpeg, 0, true},
	{"rgb-dwebp-bitswap", container.BitSwap, "rgb-dwebp.png", cupsDwebp, 0, true},
	{"rgb-djpeg420-bitswap", container.BitSwap, "rgb-djpeg420.png", cups420Djpeg, 0, true},
	{"rgb-dwebp420-bitswap", container.BitSwap, "rgb-dwebp420.png", cups420Dwebp, 0, true},
}

// TestGolden decodes the fixtures made by an earlier version of the code and compares them
// with their PNGs exactly: decoding must not change behind the format's back. Model-coded
// fixtures are skipped (not failed) when the embedded model is not the one they were made
// with, since such a file is correctly refused; regenerate them with -update.
func TestGolden(t *testing.T) {
	if *update {
		for _, g := range goldens {
			writeGolden(t, g)
		}
	}
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) { checkGolden(t, g, readFile(t, g.name+".bsw")) })
	}
}

// checkGolden decodes the fixture data of g and compares it with g's PNG.
func checkGolden(t *testing.T, g golden, data []byte) {
	want, _, err := imageio.Decode(bytes.NewReader(readFile(t, g.png)), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := container.Parse(data, container.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Coder != g.coder {
		t.Fatalf("fixture has coder %v, want %v", h.Coder, g.coder)
	}
	got, err := bsw.DecodeImage(bytes.NewReader(data), nil)
	if errors.Is(err, container.ErrModelMismatch) && h.Coder != container.Fallback {
		t.Skipf("made with model %x, the embedded model is %x: regenerate with -update (%v)",
			h.ModelID, coderModelID(t, h.Coder), err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !imageio.Equal(got, want) {
		t.Fatalf("decoded %dx%d %v/%d image differs from the PNG", got.Width, got.Height, got.Color, got.Depth)
	}
	// The same through package image, against image/png's reading of the PNG (whose Go
	// types are those of bsw.Decode for these color types).
	m, format, err := image.Decode(bytes.NewReader(data))
	if err != nil || format != "bsw" {
		t.Fatalf("image.Decode: %q, %v", format, err)
	}
	wantImage, err := png.Decode(bytes.NewReader(readFile(t, g.png)))
	if err != nil {
		t.Fatal(err)
	}
	sameImage(t, m, wantImage)
}

// TestGoldenModelMismatchSkips: a model-coded fixture whose model id is not the embedded
// model's is skipped, not failed (as after a model update), and only for that error.
func TestGoldenModelMismatchSkips(t *testing.T) {
	g := goldens[1]
	data := readFile(t, g.name+".bsw")
	h, err := container.Parse(data, container.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	h.ModelID[0] ^= 0xff
	other, err := h.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	other = append(other, data[container.HeaderSize:]...)
	skipped := false
	t.Run(g.name+"-other-model", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		checkGolden(t, g, other)
	})
	if !skipped {
		t.Fatal("a fixture made with another model was not skipped")
	}
}

func coderModelID(t *testing.T, id container.CoderID) [8]byte {
	c, err := codec.LookupID(id)
	if err != nil {
		t.Fatal(err)
	}
	return c.ModelID()
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeGolden writes g's source PNG and its .bsw file. The model-coded ones are coded with
// the model on every patch it can (AllVAE), so that they exercise the bits-back decoder
// rather than the per-patch choice, which gives a small image to the fallback coder.
func writeGolden(t *testing.T, g golden) {
	img := g.src(t)
	var pngBuf bytes.Buffer
	if err := imageio.EncodePNG(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	var file []byte
	var err error
	if g.coder == container.Fallback || g.plain {
		var buf bytes.Buffer
		err = bsw.EncodeImage(&buf, img, &bsw.Options{Coder: g.coder.String()})
		file = buf.Bytes()
	} else {
		file, err = allVAEFile(img, g.coder, g.bits)
	}
	if err != nil {
		t.Fatalf("%s: %v", g.name, err)
	}
	for name, b := range map[string][]byte{g.png: pngBuf.Bytes(), g.name + ".bsw": file} {
		if err := os.WriteFile(filepath.Join(goldenDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%s.bsw: %d bytes, %s: %d bytes", g.name, len(file), g.png, pngBuf.Len())
}

// allVAEFile builds a complete .bsw file whose RGB patches the embedded model codes, with
// k latent bits. It refuses to write a fixture in which the model codes at most half of
// the patches.
func allVAEFile(img *imageio.Image, id container.CoderID, k uint) ([]byte, error) {
	m, err := weights.Default()
	if err != nil {
		return nil, err
	}
	var scheme bbcore.Scheme = bitswap.Scheme{}
	registered := bitswap.Coder
	if id == container.BBANS {
		scheme, registered = bbans.Scheme{}, bbans.Coder
	}
	if weights.ID() != registered.ModelID() {
		return nil, fmt.Errorf("the %v coder does not run the embedded model", id)
	}
	payload, err := (&bbcore.Coder{Model: m, Scheme: scheme, Bits: k, AllVAE: true}).Encode(img, nil)
	if err != nil {
		return nil, err
	}
	P := imageio.NewGrid(img.Width, img.Height).Len()
	in, err := bbcore.Inspect(payload, P)
	if err != nil {
		return nil, err
	}
	if !in.VAE || 2*in.Clean >= P {
		return nil, fmt.Errorf("too few model-coded patches (%d clean of %d, model coded: %v)", in.Clean, P, in.VAE)
	}
	h := container.Header{
		Version: container.Version, Coder: id, Color: img.Color, Depth: img.Depth,
		Width: img.Width, Height: img.Height, ModelID: weights.ID(),
		PixelCRC: img.Checksum(), PayloadLen: uint64(len(payload)),
	}
	file, err := h.Append(nil)
	return append(file, payload...), err
}

func loadTestdata(t *testing.T, name string) *imageio.Image {
	t.Helper()
	img, _, err := imageio.DecodeFile(filepath.Join("..", "testdata", name), nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// cropImage returns the w x h part of img at (x0, y0).
func cropImage(img *imageio.Image, x0, y0, w, h int) *imageio.Image {
	out := imageio.New(w, h, img.Color, img.Depth)
	for c := range out.Planes {
		for y := 0; y < h; y++ {
			src := img.Planes[c][(y0+y)*img.Width+x0:]
			copy(out.Planes[c][y*w:(y+1)*w], src[:w])
		}
	}
	return out
}

// picosSmall: the 50x40 crop at (6, 5) of picos-100x75.png (sides that are multiples of
// neither 32 nor 8).
func picosSmall(t *testing.T) *imageio.Image {
	return cropImage(loadTestdata(t, "picos-100x75.png"), 6, 5, 50, 40)
}

// picosModel: the 96x96 crop at (128, 0) of picos-512x384.png.
func picosModel(t *testing.T) *imageio.Image {
	return cropImage(loadTestdata(t, "picos-512x384.png"), 128, 0, 96, 96)
}

// picosRGBA: the RGB of picosSmall's 48x40 top-left corner with the alpha of the 48x40
// top-left crop of waves-rgba-64x48.png (a smooth ramp), made fully transparent in an 8x8
// block, whose colors must survive too (alpha is never premultiplied).
func picosRGBA(t *testing.T) *imageio.Image {
	rgb := cropImage(picosSmall(t), 0, 0, 48, 40)
	alpha := cropImage(loadTestdata(t, "waves-rgba-64x48.png"), 0, 0, 48, 40).Planes[3]
	img := &imageio.Image{Width: 48, Height: 40, Color: imageio.RGBA, Depth: 8,
		Planes: append(rgb.Planes[:3:3], alpha)}
	for y := 8; y < 16; y++ {
		for x := 8; x < 16; x++ {
			alpha[y*48+x] = 0
		}
	}
	return img
}

// picosGray16: 16-bit luma (Rec. 601 weights, full 16-bit precision, so the low bytes are
// not a copy of the high ones) of the 40x30 top-left crop of picos-100x75.png.
func picosGray16(t *testing.T) *imageio.Image {
	src := cropImage(loadTestdata(t, "picos-100x75.png"), 0, 0, 40, 30)
	img := imageio.New(src.Width, src.Height, imageio.Gray, 16)
	for i := range img.Planes[0] {
		r, g, b := int(src.Planes[0][i]), int(src.Planes[1][i]), int(src.Planes[2][i])
		img.Planes[0][i] = uint16((299*r + 587*g + 114*b) * 65535 / (255 * 1000))
	}
	return img
}

// picosJPEG is a 64x48 crop of picos-512x384.png through Go's JPEG encoder (quality 85,
// 4:2:0) and decoder: the bitswap coder codes it through its Y'CbCr planes (payload mode 2).
func picosJPEG(t *testing.T) *imageio.Image {
	src := cropImage(loadTestdata(t, "picos-512x384.png"), 200, 100, 64, 48)
	m := image.NewRGBA(image.Rect(0, 0, src.Width, src.Height))
	for i := range src.Planes[0] {
		m.Pix[4*i], m.Pix[4*i+1], m.Pix[4*i+2], m.Pix[4*i+3] = uint8(src.Planes[0][i]), uint8(src.Planes[1][i]), uint8(src.Planes[2][i]), 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	img, _, err := imageio.Decode(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// cupsDjpeg is testdata's crop of a JPEG decoded by libjpeg-turbo's djpeg: the bitswap
// coder codes it through its 4:4:4 Y'CbCr planes under libjpeg's conversion (payload mode 3).
func cupsDjpeg(t *testing.T) *imageio.Image { return loadTestdata(t, "cups-64x48.djpeg.png") }

// cups420Djpeg is testdata's small 4:2:0 JPEG decoded by djpeg, whole (payload mode 5: the
// subsampled chroma behind libjpeg's interpolation).
func cups420Djpeg(t *testing.T) *imageio.Image { return loadTestdata(t, "cups-61x45.420.djpeg.png") }

// cups420Dwebp is testdata's small lossy WebP decoded by dwebp (payload mode 6).
func cups420Dwebp(t *testing.T) *imageio.Image { return loadTestdata(t, "cups-61x45.dwebp.png") }

// cupsDwebp is testdata's lossy WebP decoded by libwebp's dwebp (payload mode 4).
func cupsDwebp(t *testing.T) *imageio.Image { return loadTestdata(t, "cups-64x48.dwebp.png") }
