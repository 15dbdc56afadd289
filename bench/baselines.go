package bench

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"image/png"
	"io"

	"github.com/dsnet/compress/bzip2"
	"github.com/ulikunitz/xz/lzma"
)

// The raw-byte baselines compress Image.Pix as it is: the interleaved 8-bit samples, row by
// row (R,G,B,R,G,B,... for a color image), with no header, as the Bit-Swap paper did with raw
// RGB bytes. The decoder is told the shape out of band, so the few bytes a real file would
// need for width, height and channels are not counted.

// readAllLimited reads a decompressed stream that must hold exactly want bytes.
func readAllLimited(r io.Reader, want int) ([]byte, error) {
	buf := make([]byte, want)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("short stream: %w", err)
	}
	var one [1]byte
	if n, _ := r.Read(one[:]); n != 0 {
		return nil, fmt.Errorf("stream holds more than the %d bytes of the image", want)
	}
	return buf, nil
}

func rawImage(pix []byte, s Shape) (*Image, error) {
	if err := s.validate(len(pix)); err != nil {
		return nil, err
	}
	return &Image{Width: s.Width, Height: s.Height, Channels: s.Channels, Pix: pix}, nil
}

type gzipCodec struct{}

func (gzipCodec) Key() string   { return "gzip" }
func (gzipCodec) Label() string { return "gzip -9 (compress/gzip)" }

func (gzipCodec) Encode(img *Image) ([]byte, error) {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(img.Pix); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (gzipCodec) Decode(data []byte, s Shape) (*Image, error) {
	if err := s.validate(-1); err != nil {
		return nil, err
	}
	r, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	pix, err := readAllLimited(r, s.Dims())
	if err != nil {
		return nil, err
	}
	return rawImage(pix, s)
}

type bzip2Codec struct{}

func (bzip2Codec) Key() string   { return "bzip2" }
func (bzip2Codec) Label() string { return "bzip2 -9 (dsnet/compress)" }

func (bzip2Codec) Encode(img *Image) ([]byte, error) {
	var b bytes.Buffer
	w, err := bzip2.NewWriter(&b, &bzip2.WriterConfig{Level: bzip2.BestCompression})
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(img.Pix); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (bzip2Codec) Decode(data []byte, s Shape) (*Image, error) {
	if err := s.validate(-1); err != nil {
		return nil, err
	}
	r, err := bzip2.NewReader(bytes.NewReader(data), nil)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	pix, err := readAllLimited(r, s.Dims())
	if err != nil {
		return nil, err
	}
	return rawImage(pix, s)
}

// lzmaCodec writes the classic .lzma format (LZMA1, "lzma_alone") with the library's default
// writer configuration: 8 MiB dictionary, HashTable4 matcher, lc=3 lp=0 pb=2, end marker.
type lzmaCodec struct{}

func (lzmaCodec) Key() string   { return "lzma" }
func (lzmaCodec) Label() string { return "lzma (ulikunitz/xz)" }

func (lzmaCodec) Encode(img *Image) ([]byte, error) {
	var b bytes.Buffer
	w, err := lzma.NewWriter(&b)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(img.Pix); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (lzmaCodec) Decode(data []byte, s Shape) (*Image, error) {
	if err := s.validate(-1); err != nil {
		return nil, err
	}
	r, err := lzma.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	pix, err := readAllLimited(r, s.Dims())
	if err != nil {
		return nil, err
	}
	return rawImage(pix, s)
}

// pngCodec writes a PNG file (header and all counted) with image/png at BestCompression: gray
// for one channel, RGB for opaque color, RGBA otherwise (image/png has no gray+alpha writer,
// so two-channel images are stored as RGBA).
type pngCodec struct{}

func (pngCodec) Key() string   { return "png" }
func (pngCodec) Label() string { return "png best (image/png)" }

func (pngCodec) Encode(img *Image) ([]byte, error) {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, toStd(img)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (pngCodec) Decode(data []byte, s Shape) (*Image, error) {
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return fromDecoded(m, s)
}
