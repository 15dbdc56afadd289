package bsw_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"log"
	"os"

	"github.com/bitswap-codec/bitswap/bsw"
	"github.com/bitswap-codec/bitswap/imageio"
)

// Encode an image with the default coder and decode it back: the same pixels, in the same
// Go type.
func ExampleEncode() {
	m := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			m.SetNRGBA(x, y, color.NRGBA{R: uint8(4 * x), G: uint8(5 * y), B: 128, A: uint8(255 - x)})
		}
	}
	var buf bytes.Buffer
	if err := bsw.Encode(&buf, m, nil); err != nil {
		log.Fatal(err)
	}
	back, err := bsw.Decode(&buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%T %v, same pixels: %v\n", back, back.Bounds(), bytes.Equal(back.(*image.NRGBA).Pix, m.Pix))
	// Output: *image.NRGBA (0,0)-(64,48), same pixels: true
}

// A program that imports package bsw, if only for its side effect
//
//	import _ "github.com/bitswap-codec/bitswap/bsw"
//
// reads .bsw files with image.Decode.
func ExampleDecode() {
	f, err := os.Open("../testdata/golden/rgba-fallback.bsw")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	m, format, err := image.Decode(f)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(format, m.Bounds().Dx(), m.Bounds().Dy())
	fmt.Printf("%T %v\n", m, m.At(10, 10)) // a transparent pixel keeps its color
	// Output:
	// bsw 48 40
	// *image.NRGBA {67 60 68 0}
}

// DecodeConfig reads only the header, so it is cheap even for a large file.
func ExampleDecodeConfig() {
	f, err := os.Open("../testdata/golden/gray16-fallback.bsw")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(format, cfg.Width, cfg.Height, cfg.ColorModel == color.Gray16Model)
	// Output: bsw 40 30 true
}

// EncodeImage and DecodeImage keep an image's color type and depth as they are: here an RGB
// image of gray pixels, which Encode would store as gray. This is how the bitswap command
// codes its inputs, read with imageio.Decode.
func ExampleEncodeImage() {
	img := imageio.New(40, 30, imageio.RGB, 8)
	for i := range img.Pixels() {
		for _, p := range img.Planes {
			p[i] = uint16(i % 251)
		}
	}
	var buf bytes.Buffer
	if err := bsw.EncodeImage(&buf, img, &bsw.Options{Coder: "fallback"}); err != nil {
		log.Fatal(err)
	}
	back, err := bsw.DecodeImage(&buf, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(back.Color, back.Depth, imageio.Equal(back, img))
	// Output: RGB 8 true
}

// Inspect describes a file without decoding its pixels: here a decoded JPEG image, which
// the bitswap coder coded through the Y'CbCr planes behind it.
func ExampleInspect() {
	f, err := os.Open("../testdata/golden/rgb-jpeg-bitswap.bsw")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	in, err := bsw.Inspect(f, nil)
	if err != nil {
		log.Fatal(err)
	}
	h := in.Header
	fmt.Printf("%v %dx%d %v/%d, %d patches, Y'CbCr: %v\n", h.Coder, h.Width, h.Height, h.Color, h.Depth, in.Patches, in.Mode == bsw.ModeYCC)
	// Output: bitswap 64x48 RGB/8, 4 patches, Y'CbCr: true
}

// What `bitswap encode --model model.bsm photo.png` does: it codes with a model trained
// by `bitswap train` and exported with --export instead of the embedded one. The file
// records the model's id, and decoding it needs the same Options.Model.
func ExampleLoadModel() {
	weights, err := os.ReadFile("model.bsm")
	if err != nil {
		log.Fatal(err)
	}
	m, err := bsw.LoadModel(weights)
	if err != nil {
		log.Fatal(err)
	}
	img, _, err := imageio.DecodeFile("photo.png", nil)
	if err != nil {
		log.Fatal(err)
	}
	var file bytes.Buffer
	if err := bsw.EncodeImage(&file, img, &bsw.Options{Model: m}); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("photo.bsw", file.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
