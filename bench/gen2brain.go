//go:build nodynamic

package bench

// WebP and JPEG XL baselines from github.com/gen2brain/webp and github.com/gen2brain/jpegxl.
//
// Both libraries try, in their package init, to dlopen a system libwebp / libjxl through purego
// and only fall back to their bundled code (libwebp transpiled to Go, libjxl compiled to WASM
// and run by wazero) when that fails. This file is compiled only with the nodynamic build tag,
// which both libraries document as "use only the bundled code": the dynamic-loading files are
// then not compiled at all, so no system library can be loaded and the results do not depend
// on what is installed. Without the tag the two baselines are absent (see gen2brain_off.go).

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/gen2brain/jpegxl"
	"github.com/gen2brain/webp"
	xwebp "golang.org/x/image/webp"
)

func init() {
	extraBaselines = func(s Settings) []Codec {
		w := webpCodec{method: 4, quality: 75, level: 6}
		j := jxlCodec{effort: 7}
		if s.Slow {
			w = webpCodec{method: 6, quality: 100, level: 9}
			j = jxlCodec{effort: 9}
		}
		return []Codec{w, j}
	}
}

// webpCodec is lossless WebP with exact=1 (RGB under transparent pixels is kept). In lossless
// mode libwebp's quality is an effort knob; cwebp's -z LEVEL presets map to (method, quality):
// -z 6 = (4, 75), the cwebp default, and -z 9 = (6, 100). gen2brain/webp's own decoder does
// not return the exact pixels, so decoding uses golang.org/x/image/webp.
type webpCodec struct{ method, quality, level int }

func (webpCodec) Key() string { return "webp" }
func (c webpCodec) Label() string {
	return fmt.Sprintf("webp lossless -z %d (gen2brain/webp)", c.level)
}

// prepare refuses to run on a system libwebp (it cannot happen in a nodynamic build; this
// guards against a change in the library's build tags).
func (webpCodec) prepare() error {
	if err := webp.Dynamic(); err == nil {
		return errors.New("gen2brain/webp loaded a system libwebp; rebuild with -tags nodynamic")
	}
	return nil
}

func (c webpCodec) Encode(img *Image) ([]byte, error) {
	var b bytes.Buffer
	err := webp.Encode(&b, toNRGBA(img), webp.Options{Lossless: true, Exact: true, Method: c.method, Quality: c.quality})
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (webpCodec) Decode(data []byte, s Shape) (*Image, error) {
	m, err := xwebp.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return fromDecoded(m, s)
}

// jxlCodec is lossless JPEG XL (Quality 100: distance 0, modular, original color profile) at
// the given effort. gen2brain/jpegxl always encodes 8-bit RGBA, so an opaque image carries a
// constant alpha channel, which costs a few bytes. Decoding uses the library's own libjxl
// decoder (WASM), which returns the 8-bit samples unchanged.
type jxlCodec struct{ effort int }

func (jxlCodec) Key() string { return "jxl" }
func (c jxlCodec) Label() string {
	return fmt.Sprintf("jpeg xl lossless -e %d (gen2brain/jpegxl)", c.effort)
}

// prepare compiles the WASM modules once, before any clock starts.
func (jxlCodec) prepare() error {
	if err := jpegxl.Dynamic(); err == nil {
		return errors.New("gen2brain/jpegxl loaded a system libjxl; rebuild with -tags nodynamic")
	}
	jpegxl.InitEncoder()
	jpegxl.InitDecoder()
	return nil
}

func (c jxlCodec) Encode(img *Image) ([]byte, error) {
	var b bytes.Buffer
	if err := jpegxl.Encode(&b, toNRGBA(img), jpegxl.Options{Quality: 100, Effort: c.effort}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (jxlCodec) Decode(data []byte, s Shape) (*Image, error) {
	m, err := jpegxl.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return fromDecoded(m, s)
}
