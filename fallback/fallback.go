// Package fallback is a lossless image coder that needs no model: a blend of local
// predictors weighted by their recent errors, context-dependent bias correction, and an
// adaptive binary arithmetic coder with contexts chosen by the local error level.
//
// It codes any set of planes (1 to MaxPlanes) of any size from 1x1 up, at 8 or 16 bits.
// With three or more planes, the first three are taken as R, G, B: G is coded first, then
// R and B with predictors that also look at the already coded planes (inter-channel
// prediction). Further planes (alpha) are coded on their own.
//
// The encoding is self-delimiting: a uvarint byte count followed by the arithmetic-coded
// stream, so it can be embedded in other streams (the bits-back coders use it for the
// "clean bits" that seed their stacks). The fixed overhead is 1 to 3 bytes of length plus
// at most 4 bytes of coder flush. Width, height, depth and the number of planes are not
// stored: the caller supplies them when decoding.
package fallback

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// MaxPlanes is the largest number of planes Encode accepts.
const MaxPlanes = 16

// Errors returned (wrapped) by this package.
var (
	ErrCorrupt = errors.New("fallback: corrupt data")
	ErrInvalid = errors.New("fallback: invalid arguments")
)

func checkArgs(nplanes, w, h, depth int) error {
	switch {
	case nplanes < 1 || nplanes > MaxPlanes:
		return fmt.Errorf("%w: %d planes", ErrInvalid, nplanes)
	case w < 1 || h < 1 || w > 1<<24 || h > 1<<24 || int64(w)*int64(h) > 1<<40:
		return fmt.Errorf("%w: size %dx%d", ErrInvalid, w, h)
	case depth != 8 && depth != 16:
		return fmt.Errorf("%w: depth %d", ErrInvalid, depth)
	}
	return nil
}

var pool = sync.Pool{New: func() any { return new(Coder) }}

// Encode appends the encoding of the w x h planes (samples below 1<<depth, depth 8 or 16)
// to dst and returns the extended slice.
func Encode(dst []byte, planes [][]uint16, w, h, depth int) ([]byte, error) {
	c := pool.Get().(*Coder)
	defer pool.Put(c)
	return c.Encode(dst, planes, w, h, depth)
}

// Decode decodes nplanes planes of w x h samples at the given depth from the start of src,
// and returns them with the number of bytes of src used.
func Decode(src []byte, nplanes, w, h, depth int) ([][]uint16, int, error) {
	if err := checkArgs(nplanes, w, h, depth); err != nil {
		return nil, 0, err
	}
	// Allocate only once the stream looks plausible: its length prefix must be readable.
	if _, k := binary.Uvarint(src); k <= 0 {
		return nil, 0, fmt.Errorf("%w: bad length prefix", ErrCorrupt)
	}
	n := w * h
	buf := make([]uint16, n*nplanes)
	planes := make([][]uint16, nplanes)
	for i := range planes {
		planes[i] = buf[i*n : (i+1)*n : (i+1)*n]
	}
	used, err := DecodeInto(src, planes, w, h, depth)
	if err != nil {
		return nil, 0, err
	}
	return planes, used, nil
}

// DecodeInto is Decode into caller-provided planes (len(planes) planes of w*h samples). On
// error the planes hold partial garbage.
func DecodeInto(src []byte, planes [][]uint16, w, h, depth int) (int, error) {
	c := pool.Get().(*Coder)
	defer pool.Put(c)
	return c.DecodeInto(src, planes, w, h, depth)
}

// Coder holds reusable buffers; its zero value is ready to use. Reusing one Coder for many
// small images avoids allocation. A Coder is not safe for concurrent use.
type Coder struct {
	st  state
	enc rcEncoder
	dec rcDecoder
	tmp []byte
}

// EncodeCosts is Encode that also returns what each block x block block of the image's
// first three planes (R, G, B; all of a one- or two-plane image) cost in the encoding, in
// bits (blocks in raster order, ceil(w/block) per row): the price of a region inside the
// whole image, with the context and the adaptation the rest gives it, for callers that
// weigh coding a region otherwise.
func EncodeCosts(dst []byte, planes [][]uint16, w, h, depth, block int) ([]byte, []float64, error) {
	if block < 1 {
		return dst, nil, fmt.Errorf("%w: block size %d", ErrInvalid, block)
	}
	var c Coder
	cols := (w + block - 1) / block
	c.st.costs, c.st.block, c.st.blockCols = make([]int64, cols*((h+block-1)/block)), block, cols
	out, err := c.Encode(dst, planes, w, h, depth)
	costs := make([]float64, len(c.st.costs))
	for i, v := range c.st.costs {
		costs[i] = float64(v) / 256
	}
	return out, costs, err
}

// Encode is like the package-level Encode, reusing c's buffers.
func (c *Coder) Encode(dst []byte, planes [][]uint16, w, h, depth int) ([]byte, error) {
	if err := checkArgs(len(planes), w, h, depth); err != nil {
		return dst, err
	}
	n := w * h
	maxv := uint16(1<<depth - 1)
	for i, p := range planes {
		if len(p) != n {
			return dst, fmt.Errorf("%w: plane %d has %d samples, want %d", ErrInvalid, i, len(p), n)
		}
		if depth == 8 {
			for _, v := range p {
				if v > maxv {
					return dst, fmt.Errorf("%w: sample %d in plane %d above %d", ErrInvalid, v, i, maxv)
				}
			}
		}
	}
	c.enc.init(c.tmp[:0])
	c.st.run(planes, w, h, depth, &c.enc, nil)
	out := c.enc.finish()
	c.tmp = out[:0]
	dst = binary.AppendUvarint(dst, uint64(len(out)))
	return append(dst, out...), nil
}

// DecodeInto is like the package-level DecodeInto, reusing c's buffers.
func (c *Coder) DecodeInto(src []byte, planes [][]uint16, w, h, depth int) (int, error) {
	if err := checkArgs(len(planes), w, h, depth); err != nil {
		return 0, err
	}
	n := w * h
	for i, p := range planes {
		if len(p) != n {
			return 0, fmt.Errorf("%w: plane %d has %d samples, want %d", ErrInvalid, i, len(p), n)
		}
	}
	length, k := binary.Uvarint(src)
	if k <= 0 || length > uint64(len(src)-k) {
		return 0, fmt.Errorf("%w: bad length prefix", ErrCorrupt)
	}
	end := k + int(length)
	c.dec.init(src[k:end])
	if err := c.st.run(planes, w, h, depth, nil, &c.dec); err != nil {
		return 0, err
	}
	if c.dec.pos < int(length) {
		return 0, fmt.Errorf("%w: %d unused bytes at the end of the stream", ErrCorrupt, int(length)-c.dec.pos)
	}
	return end, nil
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}
