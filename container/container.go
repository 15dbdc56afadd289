// Package container reads and writes the header of .bsw files (see docs/format.md).
//
// A .bsw file is a fixed 44-byte header followed by exactly PayloadLen bytes of coder
// payload. The header says which coder and which model weights produced the payload, the
// image's shape, and carries a CRC-32C of the decoded pixels and a CRC-32C of itself.
package container

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/bitswap-codec/bitswap/imageio"
)

// Magic starts every .bsw file. Like PNG's signature it catches text-mode transfers.
const Magic = "\x89BSW\r\n\x1a\n"

// Version is the format version written by this package and the only one it reads.
const Version = 1

// HeaderSize is the size of the encoded header in bytes.
const HeaderSize = 44

// CoderID says which coder produced the payload.
type CoderID uint8

// The coders.
const (
	Fallback CoderID = 0
	BBANS    CoderID = 1
	BitSwap  CoderID = 2
)

func (c CoderID) String() string {
	switch c {
	case Fallback:
		return "fallback"
	case BBANS:
		return "bbans"
	case BitSwap:
		return "bitswap"
	}
	return fmt.Sprintf("coder(%d)", uint8(c))
}

// Valid reports whether c is a known coder id.
func (c CoderID) Valid() bool { return c <= BitSwap }

// Errors, returned wrapped with context; test with errors.Is.
var (
	ErrNotContainer  = errors.New("not a .bsw file (bad magic)")
	ErrVersion       = errors.New("unsupported .bsw format version")
	ErrCorrupt       = errors.New("corrupt .bsw file")
	ErrTooLarge      = errors.New("image too large")
	ErrModelMismatch = errors.New("model mismatch")
	ErrUnknownCoder  = errors.New("unknown coder")
)

// Header is the decoded header of a .bsw file.
type Header struct {
	Version    uint8
	Coder      CoderID
	Color      imageio.ColorType
	Depth      int // 8 or 16
	Width      int
	Height     int
	ModelID    [8]byte // hash of the model weights; zero for the fallback coder
	PixelCRC   uint32  // imageio.Image.Checksum of the decoded image
	PayloadLen uint64
}

// Limits bound what a header may claim before anything is allocated for it.
type Limits struct {
	// MaxPixels bounds Width*Height: 0 means imageio.DefaultMaxPixels, negative no limit
	// (besides imageio.MaxSide per side and what can be allocated, see imageio.CheckAlloc).
	MaxPixels int64
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Append appends the encoded header to dst. It checks the fields (not the limits).
func (h *Header) Append(dst []byte) ([]byte, error) {
	if err := h.check(); err != nil {
		return dst, err
	}
	var b [HeaderSize]byte
	copy(b[0:8], Magic)
	b[8] = Version
	b[9] = byte(h.Coder)
	b[10] = byte(h.Color)
	b[11] = byte(h.Depth)
	binary.BigEndian.PutUint32(b[12:], uint32(h.Width))
	binary.BigEndian.PutUint32(b[16:], uint32(h.Height))
	copy(b[20:28], h.ModelID[:])
	binary.BigEndian.PutUint32(b[28:], h.PixelCRC)
	binary.BigEndian.PutUint64(b[32:], h.PayloadLen)
	binary.BigEndian.PutUint32(b[40:], crc32.Checksum(b[:40], castagnoli))
	return append(dst, b[:]...), nil
}

// check validates the fields of h.
func (h *Header) check() error {
	switch {
	case !h.Coder.Valid():
		return fmt.Errorf("%w: id %d", ErrUnknownCoder, h.Coder)
	case !h.Color.Valid():
		return fmt.Errorf("%w: color type %d", ErrCorrupt, h.Color)
	case h.Depth != 8 && h.Depth != 16:
		return fmt.Errorf("%w: bit depth %d", ErrCorrupt, h.Depth)
	case h.Width < 1 || h.Height < 1 || h.Width > imageio.MaxSide || h.Height > imageio.MaxSide:
		return fmt.Errorf("%w: size %dx%d", ErrCorrupt, h.Width, h.Height)
	case h.Coder == Fallback && h.ModelID != [8]byte{}:
		return fmt.Errorf("%w: fallback coder with a non-zero model id", ErrCorrupt)
	case h.Coder != Fallback && h.ModelID == [8]byte{}:
		return fmt.Errorf("%w: %v coder without a model id", ErrCorrupt, h.Coder)
	case h.PayloadLen > h.MaxPayloadLen():
		return fmt.Errorf("%w: payload length %d, more than any coder needs for a %dx%d %v %d-bit image (at most %d)",
			ErrCorrupt, h.PayloadLen, h.Width, h.Height, h.Color, h.Depth, h.MaxPayloadLen())
	}
	return nil
}

// payloadSlack is what MaxPayloadLen allows on top of twice the raw size: the fixed costs
// of the coders (length prefixes, flags, the bits-back headers, the range coder's flush)
// dominate on tiny images.
const payloadSlack = 64 << 10

// MaxPayloadLen is the longest payload a file with h's shape may have: twice the raw size
// of its pixels (width*height*channels*depth/8) plus 64 KiB. No coder needs more. The
// fallback coder, which has no escape to raw storage, expands random noise by 3 to 7% and
// the worst images a greedy search built against it by about 30%; the bits-back coders
// keep their own payload only when it is shorter than the fallback coder's (plus two bytes).
// Parse checks it before any payload byte is read, so that a header cannot make a decoder
// read and hold more than a small multiple of the image's own size. h's color type and
// depth must be valid.
func (h *Header) MaxPayloadLen() uint64 {
	raw := uint64(h.Width) * uint64(h.Height) * uint64(h.Color.Channels()) * uint64(h.Depth/8)
	return 2*raw + payloadSlack
}

// Parse decodes and validates the header at the start of b (which may hold more data).
// It checks, in order: length, magic, version, header checksum, fields, and limits.
func Parse(b []byte, lim Limits) (*Header, error) {
	if len(b) < len(Magic) || !bytes.Equal(b[:len(Magic)], []byte(Magic)) {
		if len(b) < len(Magic) && bytes.HasPrefix([]byte(Magic), b) && len(b) > 0 {
			return nil, fmt.Errorf("%w: truncated header (%d of %d bytes)", ErrCorrupt, len(b), HeaderSize)
		}
		return nil, ErrNotContainer
	}
	if len(b) < HeaderSize {
		return nil, fmt.Errorf("%w: truncated header (%d of %d bytes)", ErrCorrupt, len(b), HeaderSize)
	}
	if b[8] != Version {
		return nil, fmt.Errorf("%w: version %d, this program reads version %d", ErrVersion, b[8], Version)
	}
	if got, want := crc32.Checksum(b[:40], castagnoli), binary.BigEndian.Uint32(b[40:]); got != want {
		return nil, fmt.Errorf("%w: header checksum mismatch", ErrCorrupt)
	}
	h := &Header{
		Version:    b[8],
		Coder:      CoderID(b[9]),
		Color:      imageio.ColorType(b[10]),
		Depth:      int(b[11]),
		Width:      int(binary.BigEndian.Uint32(b[12:])),
		Height:     int(binary.BigEndian.Uint32(b[16:])),
		PixelCRC:   binary.BigEndian.Uint32(b[28:]),
		PayloadLen: binary.BigEndian.Uint64(b[32:]),
	}
	copy(h.ModelID[:], b[20:28])
	if err := h.check(); err != nil {
		return nil, err
	}
	if err := imageio.CheckSize(int64(h.Width), int64(h.Height), lim.MaxPixels); err != nil {
		return nil, fmt.Errorf("%w: header claims %dx%d (%v)", ErrTooLarge, h.Width, h.Height, err)
	}
	// CheckSize assumed one plane; the image has h.Color's.
	if err := imageio.CheckAlloc(imageio.ImageBytes(int64(h.Width), int64(h.Height), h.Color)); err != nil {
		return nil, fmt.Errorf("%w: header claims %dx%d %v (%v)", ErrTooLarge, h.Width, h.Height, h.Color, err)
	}
	return h, nil
}

// Read reads and validates a header from r (see Parse).
func Read(r io.Reader, lim Limits) (*Header, error) {
	var b [HeaderSize]byte
	n, err := io.ReadFull(r, b[:])
	if err != nil {
		if n == 0 && err == io.EOF {
			return nil, fmt.Errorf("%w: empty input", ErrNotContainer)
		}
		if err != io.ErrUnexpectedEOF {
			return nil, err
		}
	}
	return Parse(b[:n], lim)
}

// Split parses the header of a complete in-memory file and returns it with the payload,
// checking that the payload has exactly the length the header claims.
func Split(data []byte, lim Limits) (*Header, []byte, error) {
	h, err := Parse(data, lim)
	if err != nil {
		return nil, nil, err
	}
	rest := uint64(len(data) - HeaderSize)
	switch {
	case rest < h.PayloadLen:
		return nil, nil, fmt.Errorf("%w: truncated payload (%d of %d bytes)", ErrCorrupt, rest, h.PayloadLen)
	case rest > h.PayloadLen:
		return nil, nil, fmt.Errorf("%w: %d bytes of trailing data after the payload", ErrCorrupt, rest-h.PayloadLen)
	}
	return h, data[HeaderSize:], nil
}

// firstChunk is the most ReadPayload allocates before the data it reads proves that the
// payload is longer.
const firstChunk = 64 << 10

// ReadPayload reads exactly h.PayloadLen bytes of payload from r, then checks that r is at
// its end. The buffer starts small and doubles (never past h.PayloadLen) only when the data
// has filled it, so a header claiming a long payload over a short stream costs what the
// stream holds, and a complete payload at most twice its length.
func ReadPayload(r io.Reader, h *Header) ([]byte, error) {
	if h.PayloadLen > h.MaxPayloadLen() {
		return nil, fmt.Errorf("%w: payload length %d, more than %d", ErrCorrupt, h.PayloadLen, h.MaxPayloadLen())
	}
	if err := imageio.CheckAlloc(h.PayloadLen); err != nil {
		return nil, fmt.Errorf("%w: payload of %d bytes (%v)", ErrTooLarge, h.PayloadLen, err)
	}
	want := int(h.PayloadLen)
	buf := make([]byte, 0, min(want, firstChunk))
	for {
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: truncated payload (%d of %d bytes)", ErrCorrupt, len(buf), h.PayloadLen)
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == want {
			break
		}
		// Full, so the stream holds at least this much: double, up to the announced length
		// (written so that it cannot overflow an int).
		buf = append(make([]byte, 0, cap(buf)+min(cap(buf), want-cap(buf))), buf...)
	}
	var one [1]byte
	if k, _ := io.ReadFull(r, one[:]); k > 0 {
		return nil, fmt.Errorf("%w: trailing data after the payload", ErrCorrupt)
	}
	return buf, nil
}
