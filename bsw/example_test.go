package bsw_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"log"
	"os"

	"github.com/bitswap-codec/bitswap/bsw"
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
