package bench

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"

	"github.com/bitswap-codec/bitswap/imageio"
)

// Image is an 8-bit image with interleaved channels: Pix holds Width*Height*Channels bytes,
// row by row, the channels of one pixel next to each other (R,G,B for Channels == 3). This is
// the form the raw-byte baselines (gzip, bzip2, LZMA) compress and the form decoded images are
// compared in.
//
// Channels is 1 (gray), 2 (gray, alpha), 3 (RGB) or 4 (RGBA, not premultiplied).
type Image struct {
	Width, Height, Channels int
	Pix                     []byte
}

// Shape is the geometry of an image, handed to decoders of formats that do not store it (the
// raw-byte baselines).
type Shape struct {
	Width, Height, Channels int
}

// Shape returns the image's geometry.
func (m *Image) Shape() Shape { return Shape{m.Width, m.Height, m.Channels} }

// Dims is the number of subpixels, Width*Height*Channels: the denominator of bits/dim.
func (s Shape) Dims() int { return s.Width * s.Height * s.Channels }

func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.Width, s.Height, s.Channels) }

// validate reports whether the shape is usable and pix has the matching length.
func (s Shape) validate(pixLen int) error {
	if s.Width <= 0 || s.Height <= 0 {
		return fmt.Errorf("bench: empty image %dx%d", s.Width, s.Height)
	}
	if s.Channels < 1 || s.Channels > 4 {
		return fmt.Errorf("bench: unsupported channel count %d", s.Channels)
	}
	if pixLen >= 0 && pixLen != s.Dims() {
		return fmt.Errorf("bench: %v image has %d bytes, want %d", s, pixLen, s.Dims())
	}
	return nil
}

// NewImage allocates a zero image of the given shape.
func NewImage(s Shape) (*Image, error) {
	if err := s.validate(-1); err != nil {
		return nil, err
	}
	return &Image{Width: s.Width, Height: s.Height, Channels: s.Channels, Pix: make([]byte, s.Dims())}, nil
}

// Validate checks the image's geometry against its pixel buffer.
func (m *Image) Validate() error {
	if m == nil {
		return errors.New("bench: nil image")
	}
	return m.Shape().validate(len(m.Pix))
}

// CropTo32 returns the top-left part of m whose width and height are the largest multiples of
// 32 not above m's (the Bit-Swap paper's protocol: the remainder on the right and bottom is
// dropped). It fails when either side is below 32 pixels. The result shares no memory with m.
func CropTo32(m *Image) (*Image, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	w, h := m.Width/32*32, m.Height/32*32
	if w == 0 || h == 0 {
		return nil, fmt.Errorf("bench: %dx%d image is smaller than 32x32 and cannot be cropped to multiples of 32 (use uncropped mode)", m.Width, m.Height)
	}
	return Crop(m, w, h)
}

// Crop returns the top-left w x h part of m as a new image.
func Crop(m *Image, w, h int) (*Image, error) { return CropAt(m, 0, 0, w, h) }

// CropAt returns the w x h part of m whose top-left pixel is (x0, y0), as a new image.
func CropAt(m *Image, x0, y0, w, h int) (*Image, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if w <= 0 || h <= 0 || x0 < 0 || y0 < 0 || x0+w > m.Width || y0+h > m.Height {
		return nil, fmt.Errorf("bench: cannot crop %dx%d image to %dx%d at (%d,%d)", m.Width, m.Height, w, h, x0, y0)
	}
	out := &Image{Width: w, Height: h, Channels: m.Channels, Pix: make([]byte, w*h*m.Channels)}
	rowIn, rowOut := m.Width*m.Channels, w*m.Channels
	for y := 0; y < h; y++ {
		o := (y0+y)*rowIn + x0*m.Channels
		copy(out.Pix[y*rowOut:(y+1)*rowOut], m.Pix[o:o+rowOut])
	}
	return out, nil
}

// Equal reports whether a and b have the same shape and identical pixels. When they differ,
// the error says where.
func Equal(a, b *Image) error {
	if a == nil || b == nil {
		return errors.New("decoded image is missing")
	}
	if a.Shape() != b.Shape() {
		return fmt.Errorf("decoded shape %v differs from original %v", b.Shape(), a.Shape())
	}
	if len(a.Pix) != len(b.Pix) {
		return fmt.Errorf("decoded image has %d bytes, original %d", len(b.Pix), len(a.Pix))
	}
	if bytes.Equal(a.Pix, b.Pix) {
		return nil
	}
	n, first := 0, -1
	for i := range a.Pix {
		if a.Pix[i] != b.Pix[i] {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	px := first / a.Channels
	return fmt.Errorf("pixel mismatch: %d of %d subpixels differ, first at x=%d y=%d channel %d (%d != %d)",
		n, len(a.Pix), px%a.Width, px/a.Width, first%a.Channels, b.Pix[first], a.Pix[first])
}

// FromImageio converts a planar imageio image to an interleaved one. Only depth 8 is
// supported.
func FromImageio(m *imageio.Image) (*Image, error) {
	if m == nil {
		return nil, errors.New("bench: nil image")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if m.Depth != 8 {
		return nil, fmt.Errorf("bench: %d-bit images are not supported (the baselines are 8-bit)", m.Depth)
	}
	c := len(m.Planes)
	out := &Image{Width: m.Width, Height: m.Height, Channels: c, Pix: make([]byte, m.Width*m.Height*c)}
	for k, p := range m.Planes {
		for i, v := range p {
			out.Pix[i*c+k] = byte(v)
		}
	}
	return out, nil
}

// ToImageio converts m to imageio's planar form (depth 8).
func ToImageio(m *Image) (*imageio.Image, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	out := imageio.New(m.Width, m.Height, imageio.ColorType(m.Channels), 8)
	c := m.Channels
	for k, p := range out.Planes {
		for i := range p {
			p[i] = uint16(m.Pix[i*c+k])
		}
	}
	return out, nil
}

// toNRGBA expands m to a non-premultiplied RGBA image (gray is copied to R, G and B; missing
// alpha is 255). This is what the WebP and JPEG XL encoders take.
func toNRGBA(m *Image) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, m.Width, m.Height))
	n := m.Width * m.Height
	p, c := m.Pix, m.Channels
	for i := 0; i < n; i++ {
		d := out.Pix[4*i : 4*i+4]
		switch c {
		case 1:
			d[0], d[1], d[2], d[3] = p[i], p[i], p[i], 255
		case 2:
			d[0], d[1], d[2], d[3] = p[2*i], p[2*i], p[2*i], p[2*i+1]
		case 3:
			d[0], d[1], d[2], d[3] = p[3*i], p[3*i+1], p[3*i+2], 255
		default:
			copy(d, p[4*i:4*i+4])
		}
	}
	return out
}

// toStd returns m as the most natural image.Image for a general-purpose encoder: *image.Gray
// for one channel, *image.NRGBA otherwise.
func toStd(m *Image) image.Image {
	if m.Channels == 1 {
		g := image.NewGray(image.Rect(0, 0, m.Width, m.Height))
		copy(g.Pix, m.Pix)
		return g
	}
	return toNRGBA(m)
}

// fromDecoded converts an image returned by a format decoder back to the channel layout s,
// strictly: a value the layout cannot hold (alpha below 255 in an RGB image, unequal R, G, B in
// a gray one) is an error, so nothing a decoder changed goes unnoticed by the comparison.
func fromDecoded(src image.Image, s Shape) (*Image, error) {
	if src == nil {
		return nil, errors.New("decoder returned no image")
	}
	b := src.Bounds()
	if b.Dx() != s.Width || b.Dy() != s.Height {
		return nil, fmt.Errorf("decoded size %dx%d differs from original %dx%d", b.Dx(), b.Dy(), s.Width, s.Height)
	}
	out, err := NewImage(s)
	if err != nil {
		return nil, err
	}
	if g, ok := src.(*image.Gray); ok && s.Channels == 1 {
		for y := 0; y < s.Height; y++ {
			o := g.PixOffset(b.Min.X, b.Min.Y+y)
			copy(out.Pix[y*s.Width:(y+1)*s.Width], g.Pix[o:o+s.Width])
		}
		return out, nil
	}
	var px func(x, y int) color.NRGBA
	switch t := src.(type) {
	case *image.NRGBA:
		px = func(x, y int) color.NRGBA {
			o := t.PixOffset(x, y)
			return color.NRGBA{t.Pix[o], t.Pix[o+1], t.Pix[o+2], t.Pix[o+3]}
		}
	case *image.RGBA:
		px = func(x, y int) color.NRGBA {
			o := t.PixOffset(x, y)
			if t.Pix[o+3] == 255 {
				return color.NRGBA{t.Pix[o], t.Pix[o+1], t.Pix[o+2], 255}
			}
			return color.NRGBAModel.Convert(t.RGBAAt(x, y)).(color.NRGBA)
		}
	default:
		px = func(x, y int) color.NRGBA {
			c := src.At(x, y)
			if nc, ok := c.(color.NRGBA); ok {
				return nc
			}
			r, g, bb, a := c.RGBA()
			if a == 0xffff {
				return color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(bb >> 8), 255}
			}
			return color.NRGBAModel.Convert(c).(color.NRGBA)
		}
	}
	i := 0
	for y := 0; y < s.Height; y++ {
		for x := 0; x < s.Width; x++ {
			c := px(b.Min.X+x, b.Min.Y+y)
			switch s.Channels {
			case 1, 2:
				if c.R != c.G || c.R != c.B {
					return nil, fmt.Errorf("decoded pixel at x=%d y=%d is not gray (%d,%d,%d)", x, y, c.R, c.G, c.B)
				}
				out.Pix[i] = c.R
				if s.Channels == 2 {
					out.Pix[i+1] = c.A
				} else if c.A != 255 {
					return nil, fmt.Errorf("decoded pixel at x=%d y=%d has alpha %d in an opaque image", x, y, c.A)
				}
			case 3:
				if c.A != 255 {
					return nil, fmt.Errorf("decoded pixel at x=%d y=%d has alpha %d in an opaque image", x, y, c.A)
				}
				out.Pix[i], out.Pix[i+1], out.Pix[i+2] = c.R, c.G, c.B
			default:
				out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = c.R, c.G, c.B, c.A
			}
			i += s.Channels
		}
	}
	return out, nil
}
