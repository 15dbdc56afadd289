// Package bsw reads and writes .bsw images (docs/format.md), the lossless files of this
// codec: it is the Go API of the codec, and the bitswap command is a user of it.
//
// It has two levels. Decode, DecodeWith and Encode read and write the standard library's
// image types, in the manner of golang.org/x/image/webp; importing the package, even as
//
//	import _ "github.com/bitswap-codec/bitswap/bsw"
//
// registers the "bsw" format with package image, so that image.Decode and
// image.DecodeConfig read .bsw files. DecodeImage and EncodeImage read and write the
// planar *imageio.Image, which holds exactly the samples of a file: the bitswap command
// reads its inputs into one with imageio.Decode (which keeps a PNG's color type and depth)
// and writes decoded files with imageio.EncodePNG. Inspect describes a file without
// decoding it, LoadModel loads other model weights than the embedded ones (Options.Model),
// and importing the package registers the model coders (bitswap, bbans) with package codec.
//
// # Pixel types
//
// A .bsw file holds gray, gray+alpha, RGB or RGBA samples of 8 or 16 bits, alpha never
// premultiplied. Decode returns the Go type that holds them exactly:
//
//	file            8-bit          16-bit
//	gray            *image.Gray    *image.Gray16
//	gray+alpha      *image.NRGBA   *image.NRGBA64   (R = G = B)
//	RGB             *image.RGBA    *image.RGBA64    (opaque, so premultiplied = straight)
//	RGBA            *image.NRGBA   *image.NRGBA64
//
// Encode stores the pixels of an image.Image in the fewest planes that hold them: gray when
// every pixel has R = G = B, and alpha when some pixel is not opaque or the image is an
// *image.NRGBA or *image.NRGBA64 (the types with a straight alpha channel, which image/png
// returns for PNGs with one). Gray16, RGBA64 and NRGBA64 images are stored at 16 bits;
// Gray, RGBA, NRGBA, Paletted, YCbCr and CMYK images at 8 bits; other types at 8 bits if
// every sample of their 16-bit colors is an 8-bit value (a multiple of 257), else at 16. So
// Decode gives back exactly the pixels encoded, and Encode of a Decode result makes a file of
// the same color type and depth. The one loss: translucent pixels of premultiplied types
// (*image.RGBA, *image.RGBA64, ...) are stored un-premultiplied as color.NRGBAModel (or
// NRGBA64Model) converts them, as image/png does, and that conversion is not always
// invertible; they come back as those NRGBA colors. EncodeImage stores an *imageio.Image
// as it is: its color type and depth are the file's.
package bsw

import (
	"fmt"
	"image"
	"image/color"
	"io"

	"github.com/bitswap-codec/bitswap/codec"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
)

// DefaultMaxPixels is the size limit (width*height) when Options.MaxPixels is 0.
const DefaultMaxPixels = imageio.DefaultMaxPixels

// Errors returned, wrapped, by the functions of this package; test with errors.Is.
var (
	ErrFormat        = container.ErrNotContainer  // not a .bsw file
	ErrVersion       = container.ErrVersion       // a format version this package does not read
	ErrCorrupt       = container.ErrCorrupt       // damaged, truncated or inconsistent file
	ErrTooLarge      = container.ErrTooLarge      // width*height above Options.MaxPixels
	ErrModelMismatch = container.ErrModelMismatch // made with other model weights than the decoder's
	ErrUnknownCoder  = container.ErrUnknownCoder  // a coder this build does not have
)

// Options configure encoding and decoding. A nil *Options means the zero value.
type Options struct {
	// Coder names the encoder: "bitswap", "bbans", "fallback", or "" for DefaultCoder().
	// Decoding ignores it: the file names its coder.
	Coder string
	// MaxPixels bounds width*height of the images encoded and of the files decoded (checked
	// from the header, before the payload is read): 0 means DefaultMaxPixels, negative no
	// limit (an image that could never be allocated is still refused).
	MaxPixels int64
	// Progress, if set, is called with the units of work done so far and their total (for
	// the model coders: 32x32 patches), from the coding goroutine.
	Progress func(done, total int)
	// Workers is the number of goroutines a coder may use; 0 means runtime.GOMAXPROCS. The
	// bytes written do not depend on it.
	Workers int
	// Model, if set, replaces the embedded model of the model coders, for encoding and for
	// decoding (a file records its model's id, and only that model decodes it).
	Model *Model
}

// codecOptions translates o for package codec (which reads nil as its defaults).
func (o *Options) codecOptions() *codec.Options {
	if o == nil {
		return nil
	}
	return &codec.Options{MaxPixels: o.MaxPixels, Progress: o.Progress, Workers: o.Workers, Coders: o.Model.Coders()}
}

// maxPixels is the size limit of o, negative for none.
func (o *Options) maxPixels() int64 {
	if o == nil || o.MaxPixels == 0 {
		return DefaultMaxPixels
	}
	return o.MaxPixels
}

// coder is the name of the encoder of o.
func (o *Options) coder() string {
	if o == nil || o.Coder == "" {
		return DefaultCoder()
	}
	return o.Coder
}

// checkEncode refuses an unknown coder or a w x h image above the size limit, before
// anything is converted or coded. (Package codec checks both too, but its size error is
// imageio's, not ErrTooLarge.)
func (o *Options) checkEncode(w, h int) error {
	if err := CheckCoder(o.coder()); err != nil {
		return err
	}
	if limit := o.maxPixels(); limit > 0 && int64(w)*int64(h) > limit {
		return fmt.Errorf("bsw: %w: %dx%d is more than %d pixels", ErrTooLarge, w, h, limit)
	}
	return nil
}

func init() { image.RegisterFormat("bsw", container.Magic, Decode, DecodeConfig) }

// DefaultCoder returns the best coder of this build: bitswap, then bbans, then fallback.
func DefaultCoder() string {
	for _, name := range []string{"bitswap", "bbans"} {
		if _, err := codec.Lookup(name); err == nil {
			return name
		}
	}
	return "fallback"
}

// Coders returns the names of the coders of this build (the values of Options.Coder),
// sorted.
func Coders() []string { return codec.Names() }

// CheckCoder returns an error wrapping ErrUnknownCoder if the encoders cannot use the coder
// name ("" is DefaultCoder), so that a program can refuse a bad choice before it reads an
// image.
func CheckCoder(name string) error {
	if name == "" {
		return nil
	}
	if _, err := codec.Lookup(name); err != nil {
		return fmt.Errorf("bsw: %w", err)
	}
	return nil
}

// Decode reads a .bsw file from r, which must end with it (trailing bytes are an error),
// with the default size limit. It returns exactly the encoded pixels, checked against the
// file's CRC, or an error; never a partial image.
func Decode(r io.Reader) (image.Image, error) { return DecodeWith(r, nil) }

// DecodeWith is Decode with the options o: DecodeImage, as the Go type of the package
// comment's table.
func DecodeWith(r io.Reader, o *Options) (image.Image, error) {
	img, err := DecodeImage(r, o)
	if err != nil {
		return nil, err
	}
	return toImage(img), nil
}

// DecodeImage reads a .bsw file from r, which must end with it, and returns its samples in
// the file's color type and depth, checked against the file's CRC; or an error, never a
// partial image. The header, the coder and the model id are checked before the payload is
// read, and memory grows only as the payload's bytes arrive.
func DecodeImage(r io.Reader, o *Options) (*imageio.Image, error) {
	img, _, err := codec.DecodeFrom(r, o.codecOptions())
	if err != nil {
		return nil, fmt.Errorf("bsw: %w", err)
	}
	return img, nil
}

// DecodeConfig reads only the header of a .bsw file from r and returns the image's size and
// the color model of the image Decode returns. It checks the header's CRC and fields but
// applies no size limit, so that callers can see the size of any file.
func DecodeConfig(r io.Reader) (image.Config, error) {
	h, err := container.Read(r, container.Limits{MaxPixels: -1})
	if err != nil {
		return image.Config{}, fmt.Errorf("bsw: %w", err)
	}
	return image.Config{ColorModel: colorModel(h.Color, h.Depth), Width: h.Width, Height: h.Height}, nil
}

// colorModel is the color model of the Go image that toImage makes for a color type and
// depth.
func colorModel(c imageio.ColorType, depth int) color.Model {
	switch {
	case c == imageio.Gray && depth == 8:
		return color.GrayModel
	case c == imageio.Gray:
		return color.Gray16Model
	case c == imageio.RGB && depth == 8:
		return color.RGBAModel
	case c == imageio.RGB:
		return color.RGBA64Model
	case depth == 8:
		return color.NRGBAModel
	}
	return color.NRGBA64Model
}

// Encode writes m to w as a .bsw file, losslessly (see the package comment for how the
// pixels are stored): EncodeImage of m's pixels. Nothing is written if m cannot be encoded.
func Encode(w io.Writer, m image.Image, o *Options) error {
	if err := o.checkEncode(m.Bounds().Dx(), m.Bounds().Dy()); err != nil {
		return err
	}
	img, err := fromImage(m)
	if err != nil {
		return fmt.Errorf("bsw: %w", err)
	}
	return EncodeImage(w, img, o)
}

// EncodeImage writes img to w as a .bsw file of img's color type and depth, losslessly. img
// must be valid (imageio.Image.Validate). Nothing is written if img cannot be encoded.
func EncodeImage(w io.Writer, img *imageio.Image, o *Options) error {
	if err := o.checkEncode(img.Width, img.Height); err != nil {
		return err
	}
	if err := codec.EncodeTo(w, img, o.coder(), o.codecOptions()); err != nil {
		return fmt.Errorf("bsw: %w", err)
	}
	return nil
}
