package imageio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// DefaultMaxPixels is the largest image (width*height) that [Decode] accepts when no limit is
// given: 64 Mi pixels, e.g. 8192x8192. Decoding needs about 12 bytes per pixel.
const DefaultMaxPixels = 1 << 26

// Errors returned (wrapped) by [Decode].
var (
	ErrFormat   = errors.New("unknown or unsupported image format")
	ErrTooLarge = errors.New("image too large")
)

// DecodeOptions configures [Decode]. The zero value is usable.
type DecodeOptions struct {
	// MaxPixels bounds width*height; images above it are rejected from their header, before
	// the pixels are decoded. 0 means DefaultMaxPixels; negative means no limit, but images
	// that could never be allocated are still rejected (see [CheckAlloc]).
	MaxPixels int64
}

func (o *DecodeOptions) maxPixels() int64 {
	if o == nil || o.MaxPixels == 0 {
		return DefaultMaxPixels
	}
	return o.MaxPixels
}

// CheckSize returns an error wrapping ErrTooLarge if a w x h image exceeds maxPixels
// (0 means DefaultMaxPixels, negative means no limit) or could never be allocated (see
// [CheckAlloc]; an Image takes at least 2 bytes per pixel), and ErrInvalid if a side is not
// positive. Whatever the limit, a side above MaxSide is too large.
func CheckSize(w, h int64, maxPixels int64) error {
	if maxPixels == 0 {
		maxPixels = DefaultMaxPixels
	}
	if w < 1 || h < 1 {
		return fmt.Errorf("%w: size %dx%d", ErrInvalid, w, h)
	}
	if w > MaxSide || h > MaxSide {
		return fmt.Errorf("%w: %dx%d, a side is above %d", ErrTooLarge, w, h, MaxSide)
	}
	if maxPixels > 0 && w*h > maxPixels {
		return fmt.Errorf("%w: %dx%d is %d pixels, the limit is %d", ErrTooLarge, w, h, w*h, maxPixels)
	}
	// Without a limit (or with a huge one) the size alone must not crash the allocation.
	if n := ImageBytes(w, h, Gray); allocFails(n) != "" {
		return fmt.Errorf("%w: %dx%d needs at least %s of memory, %s", ErrTooLarge, w, h, byteSize(n), allocFails(n))
	}
	return nil
}

// Format names returned by [Decode].
const (
	FormatPNG  = "png"
	FormatJPEG = "jpeg"
	FormatGIF  = "gif"
	FormatBMP  = "bmp"
	FormatTIFF = "tiff"
	FormatWebP = "webp"
	FormatPNM  = "pnm"
)

// Sniff returns the format name of the data starting with head (at least 12 bytes are
// needed to recognize WebP), or "" if it is none of the supported formats.
func Sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG
	case bytes.HasPrefix(head, []byte("\xff\xd8")):
		return FormatJPEG
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return FormatGIF
	case bytes.HasPrefix(head, []byte("BM")):
		return FormatBMP
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return FormatTIFF
	case len(head) >= 12 && bytes.HasPrefix(head, []byte("RIFF")) && string(head[8:12]) == "WEBP":
		return FormatWebP
	case bytes.HasPrefix(head, []byte("P5")), bytes.HasPrefix(head, []byte("P6")):
		return FormatPNM
	}
	return ""
}

// DecodeFile decodes the image file at path (see [Decode]).
func DecodeFile(path string, opt *DecodeOptions) (*Image, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	img, format, err := Decode(f, opt)
	if err != nil {
		return nil, format, fmt.Errorf("%s: %w", path, err)
	}
	return img, format, nil
}

// Decode reads a PNG, JPEG, GIF (first frame), BMP, TIFF, WebP or binary PPM/PGM (P6/P5)
// image. The dimensions are read and checked against the limit first.
//
// Conversion rules:
//   - PNG keeps its color type and bit depth: gray, gray+alpha, RGB and RGBA at 8 or 16 bits
//     (1, 2 and 4-bit gray become 8-bit gray with Go's scaling, e.g. 1 -> 255). A tRNS
//     transparent color makes gray into gray+alpha and RGB into RGBA. Palette images are
//     expanded to RGB, or to RGBA if a pixel is not opaque.
//   - JPEG: gray stays gray; YCbCr and CMYK are converted to 8-bit RGB by Go's conversions.
//   - Other formats: gray stays gray; everything else becomes RGB, or RGBA if some pixel is
//     not opaque. Premultiplied alpha (TIFF associated alpha) is un-premultiplied.
//   - PNM: P5 is gray, P6 is RGB; maxval up to 255 gives 8 bits, above gives 16 bits, and
//     samples are rescaled to the full range (round(v*255/maxval) or v*65535/maxval), which
//     is the identity for maxval 255 and 65535.
func Decode(r io.Reader, opt *DecodeOptions) (*Image, string, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(64)
	format := Sniff(head)
	if format == "" {
		return nil, "", ErrFormat
	}
	// Read the configuration through a tee, so the full decode can replay those bytes.
	var hdr bytes.Buffer
	cfg, err := decodeConfig(format, io.TeeReader(br, &hdr))
	if err != nil {
		return nil, format, fmt.Errorf("%s header: %w", format, err)
	}
	if err := CheckSize(int64(cfg.Width), int64(cfg.Height), opt.maxPixels()); err != nil {
		return nil, format, err
	}
	rest := io.MultiReader(&hdr, br)
	if format == FormatPNM {
		img, err := decodePNM(rest, opt.maxPixels())
		return img, format, err
	}
	// The decoder's image and ours (at least 2 bytes per pixel) are alive at the same time.
	w, h := uint64(cfg.Width), uint64(cfg.Height)
	if n := w * h * (stdPixelBytes(cfg.ColorModel) + 2); allocFails(n) != "" {
		return nil, format, fmt.Errorf("%w: decoding a %dx%d %s needs at least %s of memory, %s",
			ErrTooLarge, w, h, format, byteSize(n), allocFails(n))
	}
	m, err := decodeStd(format, rest)
	if err != nil {
		return nil, format, fmt.Errorf("%s: %w", format, err)
	}
	b := m.Bounds()
	if err := CheckSize(int64(b.Dx()), int64(b.Dy()), opt.maxPixels()); err != nil {
		return nil, format, err
	}
	var hint convHint
	if format == FormatPNG {
		hint = pngHint(head)
	}
	img, err := FromImage(m, hint.gray, hint.keepAlpha)
	return img, format, err
}

func decodeConfig(format string, r io.Reader) (image.Config, error) {
	switch format {
	case FormatPNG:
		return png.DecodeConfig(r)
	case FormatJPEG:
		return jpeg.DecodeConfig(r)
	case FormatGIF:
		return gif.DecodeConfig(r)
	case FormatBMP:
		return bmp.DecodeConfig(r)
	case FormatTIFF:
		return tiff.DecodeConfig(r)
	case FormatWebP:
		return webp.DecodeConfig(r)
	case FormatPNM:
		h, err := readPNMHeader(bufio.NewReader(r))
		return image.Config{Width: h.width, Height: h.height}, err
	}
	return image.Config{}, ErrFormat
}

func decodeStd(format string, r io.Reader) (m image.Image, err error) {
	// The decoders of golang.org/x/image are not all hardened against hostile input; turn a
	// panic into an error rather than crashing the caller.
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("malformed image (decoder panic: %v)", p)
		}
	}()
	switch format {
	case FormatPNG:
		return png.Decode(r)
	case FormatJPEG:
		return jpeg.Decode(r)
	case FormatGIF:
		return gif.Decode(r)
	case FormatBMP:
		return bmp.Decode(r)
	case FormatTIFF:
		return tiff.Decode(r)
	case FormatWebP:
		return webp.Decode(r)
	}
	return nil, ErrFormat
}

type convHint struct{ gray, keepAlpha bool }

// pngHint reads the color type from the IHDR chunk at the start of a PNG file.
func pngHint(head []byte) convHint {
	if len(head) < 26 || string(head[12:16]) != "IHDR" {
		return convHint{}
	}
	switch head[25] {
	case 0: // gray; with tRNS Go decodes to NRGBA, which keeps alpha
		return convHint{gray: true}
	case 4: // gray+alpha
		return convHint{gray: true, keepAlpha: true}
	case 6: // RGBA
		return convHint{keepAlpha: true}
	}
	return convHint{}
}

// FromImage converts a decoded Go image to an Image. Gray and Gray16 images become gray.
// Other images become RGB(A); if gray is set, the red channel is taken as the gray value
// (for sources known to be gray, e.g. a gray+alpha PNG decoded as NRGBA). Alpha is kept if
// keepAlpha is set or if some pixel is not opaque. Premultiplied colors are un-premultiplied.
func FromImage(m image.Image, gray, keepAlpha bool) (*Image, error) {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	if err := CheckSize(int64(w), int64(h), -1); err != nil {
		return nil, err
	}
	n := w * h
	switch m := m.(type) {
	case *image.Gray:
		img := New(w, h, Gray, 8)
		p := img.Planes[0]
		for y := 0; y < h; y++ {
			row := m.Pix[(y)*m.Stride : (y)*m.Stride+w]
			for x, v := range row {
				p[y*w+x] = uint16(v)
			}
		}
		return img, nil
	case *image.Gray16:
		img := New(w, h, Gray, 16)
		p := img.Planes[0]
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+2*w]
			for x := 0; x < w; x++ {
				p[y*w+x] = uint16(row[2*x])<<8 | uint16(row[2*x+1])
			}
		}
		return img, nil
	}
	// Fill four planes, then drop what is not needed.
	buf := make([]uint16, 4*n)
	pl := [4][]uint16{buf[:n:n], buf[n : 2*n : 2*n], buf[2*n : 3*n : 3*n], buf[3*n:]}
	depth := 8
	switch m := m.(type) {
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				i := y*w + x
				pl[0][i], pl[1][i], pl[2][i], pl[3][i] = uint16(row[4*x]), uint16(row[4*x+1]), uint16(row[4*x+2]), uint16(row[4*x+3])
			}
		}
	case *image.NRGBA64:
		depth = 16
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+8*w]
			for x := 0; x < w; x++ {
				i := y*w + x
				for c := 0; c < 4; c++ {
					pl[c][i] = uint16(row[8*x+2*c])<<8 | uint16(row[8*x+2*c+1])
				}
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				i := y*w + x
				c := color.RGBA{row[4*x], row[4*x+1], row[4*x+2], row[4*x+3]}
				if c.A != 255 {
					nc := color.NRGBAModel.Convert(c).(color.NRGBA)
					c = color.RGBA(nc)
				}
				pl[0][i], pl[1][i], pl[2][i], pl[3][i] = uint16(c.R), uint16(c.G), uint16(c.B), uint16(c.A)
			}
		}
	case *image.RGBA64:
		depth = 16
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+8*w]
			for x := 0; x < w; x++ {
				i := y*w + x
				var s [4]uint16
				for c := 0; c < 4; c++ {
					s[c] = uint16(row[8*x+2*c])<<8 | uint16(row[8*x+2*c+1])
				}
				if s[3] != 0xffff {
					nc := color.NRGBA64Model.Convert(color.RGBA64{s[0], s[1], s[2], s[3]}).(color.NRGBA64)
					s = [4]uint16{nc.R, nc.G, nc.B, nc.A}
				}
				pl[0][i], pl[1][i], pl[2][i], pl[3][i] = s[0], s[1], s[2], s[3]
			}
		}
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				i := y*w + x
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				pl[0][i], pl[1][i], pl[2][i], pl[3][i] = uint16(r), uint16(g), uint16(bb), 255
			}
		}
	case *image.NYCbCrA:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				i := y*w + x
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				ai := m.AOffset(b.Min.X+x, b.Min.Y+y)
				r, g, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				pl[0][i], pl[1][i], pl[2][i], pl[3][i] = uint16(r), uint16(g), uint16(bb), uint16(m.A[ai])
			}
		}
	case *image.CMYK:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				i := y*w + x
				r, g, bb := color.CMYKToRGB(row[4*x], row[4*x+1], row[4*x+2], row[4*x+3])
				pl[0][i], pl[1][i], pl[2][i], pl[3][i] = uint16(r), uint16(g), uint16(bb), 255
			}
		}
	case *image.Paletted:
		pal := make([]color.NRGBA, 256)
		for j := range pal {
			pal[j] = color.NRGBA{A: 255} // indices beyond the palette decode as opaque black
			if j < len(m.Palette) {
				pal[j] = color.NRGBAModel.Convert(m.Palette[j]).(color.NRGBA)
			}
		}
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, idx := range row {
				i := y*w + x
				c := pal[idx]
				pl[0][i], pl[1][i], pl[2][i], pl[3][i] = uint16(c.R), uint16(c.G), uint16(c.B), uint16(c.A)
			}
		}
	default:
		depth = 16
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				i := y*w + x
				c := color.NRGBA64Model.Convert(m.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
				pl[0][i], pl[1][i], pl[2][i], pl[3][i] = c.R, c.G, c.B, c.A
			}
		}
		if fitsIn8(buf) {
			for i, v := range buf {
				buf[i] = v >> 8
			}
			depth = 8
		}
	}
	opaque := uint16(1)<<depth - 1
	if !keepAlpha {
		for _, a := range pl[3] {
			if a != opaque {
				keepAlpha = true
				break
			}
		}
	}
	img := &Image{Width: w, Height: h, Depth: depth}
	switch {
	case gray && keepAlpha:
		img.Color, img.Planes = GrayAlpha, [][]uint16{pl[0], pl[3]}
	case gray:
		img.Color, img.Planes = Gray, [][]uint16{pl[0]}
	case keepAlpha:
		img.Color, img.Planes = RGBA, pl[:]
	default:
		img.Color, img.Planes = RGB, pl[:3]
	}
	return img, nil
}

// fitsIn8 reports whether every 16-bit sample is an 8-bit value times 257.
func fitsIn8(s []uint16) bool {
	for _, v := range s {
		if v>>8 != v&0xff {
			return false
		}
	}
	return true
}
