// Package imageio reads images into a simple planar representation, writes them back as PNG,
// and provides the padding and 32x32 patch-grid helpers used by the patch-based coders.
//
// Every image, whatever its source format, becomes an [Image]: one plane per channel, each a
// row-major slice of uint16 samples, with a color type (gray, gray+alpha, RGB, RGBA) and a bit
// depth (8 or 16). Alpha is never premultiplied.
package imageio

import (
	"errors"
	"fmt"
	"hash/crc32"
)

// ColorType says which channels an image has. Its value is the number of planes.
type ColorType uint8

// The color types. Planes are stored in the order given in the name: Gray; Gray, Alpha;
// Red, Green, Blue; Red, Green, Blue, Alpha.
const (
	Gray      ColorType = 1
	GrayAlpha ColorType = 2
	RGB       ColorType = 3
	RGBA      ColorType = 4
)

// Channels returns the number of planes of an image of color type c (0 if c is invalid).
func (c ColorType) Channels() int {
	if c.Valid() {
		return int(c)
	}
	return 0
}

// Valid reports whether c is one of the four color types.
func (c ColorType) Valid() bool { return c >= Gray && c <= RGBA }

// HasAlpha reports whether the last plane of an image of color type c is alpha.
func (c ColorType) HasAlpha() bool { return c == GrayAlpha || c == RGBA }

func (c ColorType) String() string {
	switch c {
	case Gray:
		return "gray"
	case GrayAlpha:
		return "gray+alpha"
	case RGB:
		return "RGB"
	case RGBA:
		return "RGBA"
	}
	return fmt.Sprintf("ColorType(%d)", uint8(c))
}

// Image is a planar image. Planes[c][y*Width+x] is sample c of pixel (x, y); every sample is
// below 1<<Depth.
type Image struct {
	Width, Height int
	Color         ColorType
	Depth         int // 8 or 16
	Planes        [][]uint16
}

// ErrInvalid is wrapped by the errors of [Image.Validate].
var ErrInvalid = errors.New("invalid image")

// New returns a zeroed image. It panics if the arguments are not valid (see [Image.Validate]);
// callers with untrusted dimensions check them first.
func New(w, h int, c ColorType, depth int) *Image {
	img := &Image{Width: w, Height: h, Color: c, Depth: depth}
	if err := img.validateShape(); err != nil {
		panic(err)
	}
	n := w * h
	buf := make([]uint16, n*c.Channels())
	img.Planes = make([][]uint16, c.Channels())
	for i := range img.Planes {
		img.Planes[i] = buf[i*n : (i+1)*n : (i+1)*n]
	}
	return img
}

// MaxSide is the largest width or height an Image may have.
const MaxSide = 1 << 24

func (img *Image) validateShape() error {
	switch {
	case img.Width < 1 || img.Height < 1 || img.Width > MaxSide || img.Height > MaxSide:
		return fmt.Errorf("%w: size %dx%d", ErrInvalid, img.Width, img.Height)
	case !img.Color.Valid():
		return fmt.Errorf("%w: color type %d", ErrInvalid, img.Color)
	case img.Depth != 8 && img.Depth != 16:
		return fmt.Errorf("%w: bit depth %d", ErrInvalid, img.Depth)
	}
	return nil
}

// Validate checks the shape of img and that every sample fits in Depth bits.
func (img *Image) Validate() error {
	if err := img.validateShape(); err != nil {
		return err
	}
	if len(img.Planes) != img.Color.Channels() {
		return fmt.Errorf("%w: %d planes for color type %v", ErrInvalid, len(img.Planes), img.Color)
	}
	n := img.Width * img.Height
	for c, p := range img.Planes {
		if len(p) != n {
			return fmt.Errorf("%w: plane %d has %d samples, want %d", ErrInvalid, c, len(p), n)
		}
		if img.Depth == 8 {
			for i, v := range p {
				if v > 255 {
					return fmt.Errorf("%w: plane %d sample %d is %d, above 255 for 8-bit", ErrInvalid, c, i, v)
				}
			}
		}
	}
	return nil
}

// Pixels returns Width*Height.
func (img *Image) Pixels() int { return img.Width * img.Height }

// Equal reports whether a and b have the same shape and the same samples.
func Equal(a, b *Image) bool {
	if a.Width != b.Width || a.Height != b.Height || a.Color != b.Color || a.Depth != b.Depth ||
		len(a.Planes) != len(b.Planes) {
		return false
	}
	for c := range a.Planes {
		pa, pb := a.Planes[c], b.Planes[c]
		if len(pa) != len(pb) {
			return false
		}
		for i := range pa {
			if pa[i] != pb[i] {
				return false
			}
		}
	}
	return true
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum returns the CRC-32C (Castagnoli) of the canonical byte serialization of the
// pixels: rows from top to bottom, pixels from left to right, the channels of each pixel
// interleaved in plane order, each sample as one byte (depth 8) or two bytes big-endian
// (depth 16). This is the byte order of PNG's unfiltered scanlines without filter bytes.
func (img *Image) Checksum() uint32 {
	var buf [4096]byte
	crc := uint32(0)
	n := 0
	nc := len(img.Planes)
	total := img.Width * img.Height
	for i := 0; i < total; i++ {
		for c := 0; c < nc; c++ {
			v := img.Planes[c][i]
			if img.Depth == 16 {
				buf[n] = byte(v >> 8)
				buf[n+1] = byte(v)
				n += 2
			} else {
				buf[n] = byte(v)
				n++
			}
		}
		if n > len(buf)-8 {
			crc = crc32.Update(crc, castagnoli, buf[:n])
			n = 0
		}
	}
	return crc32.Update(crc, castagnoli, buf[:n])
}
