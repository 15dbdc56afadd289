package bbcore

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/bitswap-codec/bitswap/fallback"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/ycc"
	"github.com/bitswap-codec/bitswap/vae"
)

// The payload's version and modes (see the layout in codec.go).
const (
	payloadVersion    = 6
	minPayloadVersion = 2 // version 2 had no calibration (vae.Calib), 3 no colour scales, 4 no mixture and anchor-scale offsets
	// firstIntVersion is the first version whose networks ran on the integer path
	// (nn.Conv.SetInteger); older payloads are decoded with every convolution in float32.
	firstIntVersion = 6
	modeFallback    = 0
	modeVAE         = 1
	modeYCC         = 2 // see ycc.go
	modeYCCLibJPEG  = 3 // mode 2 with libjpeg's conversion (ycc.LibJPEG)
	modeYCCLibWebP  = 4 // mode 2 with libwebp's conversion (ycc.LibWebP)
	modeFancyJPEG   = 5 // mode 3 with libjpeg's chroma interpolation (ycc.Fancy) and a residual
	modeFancyWebP   = 6 // mode 4 with libwebp's chroma interpolation and a residual
)

// Info is the header of a payload: everything before the rANS message. Encode writes it
// with Append, Decode and Inspect read it with parseInfo.
type Info struct {
	Version      byte
	VAE          bool       // false: the whole image went through the fallback coder
	YCC          bool       // the fallback coder coded the image's Y'CbCr planes (modes 2-6)
	conv         ycc.Conv   // with YCC: the planes' conversion into pixels
	filter       ycc.Filter // with YCC: how the chroma spreads over the pixels
	LatentBits   int
	Lanes        int
	Clean        int    // patches coded by the fallback coder (their stream seeds the stack)
	Bitmap       []byte // the per-patch bitmap (1 = fallback), as in the payload
	Calib        vae.Calib
	Chains       int
	Starts       []int // start step of each chain
	CleanBytes   int
	MessageBytes int
}

// Append writes the header of a VAE-mode payload (version payloadVersion; the calibration
// has one value per stage of in.Calib.Scale).
func (in *Info) Append(dst []byte) []byte {
	dst = append(dst, payloadVersion, modeVAE, byte(in.LatentBits), byte(in.Lanes))
	c := padCalib(in.Calib, len(in.Calib.Scale))
	dst = append(dst, byte(len(c.Scale)))
	for _, v := range [][]int8{c.Scale, c.Anchor} {
		for _, k := range v {
			dst = append(dst, byte(k))
		}
	}
	for _, col := range c.Colour {
		for _, k := range col {
			dst = append(dst, byte(k))
		}
	}
	for _, v := range [][]int8{c.Mix, c.AnchorScale} {
		for _, k := range v {
			dst = append(dst, byte(k))
		}
	}
	dst = append(dst, in.Bitmap...)
	dst = binary.AppendUvarint(dst, uint64(in.Chains))
	for _, st := range in.Starts {
		dst = binary.AppendUvarint(dst, uint64(st))
	}
	dst = binary.AppendUvarint(dst, uint64(in.CleanBytes))
	return binary.AppendUvarint(dst, uint64(in.MessageBytes))
}

// Inspect reads the header of the payload of an image of the given number of patches
// (0: unknown, the bitmap is not read and nothing after it).
func Inspect(payload []byte, patches int) (Info, error) {
	in, _, err := parseInfo(payload, patches)
	return in, err
}

// parseInfo reads a payload's header and returns it with the rest of the payload (the
// message and what follows it; for mode 0 the fallback stream). It checks the structure
// only: what the values must satisfy is Decode's to check.
func parseInfo(payload []byte, patches int) (Info, []byte, error) {
	if len(payload) < 2 || payload[0] < minPayloadVersion || payload[0] > payloadVersion {
		return Info{}, nil, fmt.Errorf("%w: unknown payload version", ErrCorrupt)
	}
	in := Info{Version: payload[0]}
	switch payload[1] {
	case modeFallback:
		return in, payload[2:], nil
	case modeYCC, modeYCCLibJPEG, modeYCCLibWebP:
		in.YCC = true
		in.conv = ycc.Conv(slices.Index(yccModes[:], payload[1]))
		return in, payload[2:], nil
	case modeFancyJPEG, modeFancyWebP:
		in.YCC, in.filter = true, ycc.Fancy
		in.conv = ycc.Conv(slices.Index(fancyModes[:], payload[1]))
		return in, payload[2:], nil
	case modeVAE:
	default:
		return Info{}, nil, fmt.Errorf("%w: unknown payload mode %d", ErrCorrupt, payload[1])
	}
	if len(payload) < 4 {
		return Info{}, nil, fmt.Errorf("%w: short payload", ErrCorrupt)
	}
	in.VAE, in.LatentBits, in.Lanes = true, int(payload[2]), int(payload[3])
	r := &reader{b: payload[4:]}
	in.Calib = r.calib(in.Version)
	if patches <= 0 {
		return in, nil, r.err
	}
	in.Bitmap = append([]byte(nil), r.bytes((patches+7)/8)...)
	for p := 0; p < patches && r.err == nil; p++ {
		in.Clean += int(in.Bitmap[p/8] >> (p % 8) & 1)
	}
	in.Chains = r.uvarint()
	for c := 0; c < in.Chains && c <= maxChains && r.err == nil; c++ {
		in.Starts = append(in.Starts, r.uvarint())
	}
	in.CleanBytes = r.uvarint()
	in.MessageBytes = r.uvarint()
	if r.err != nil {
		return Info{}, nil, r.err
	}
	return in, r.b, nil
}

// reader reads a payload header, keeping the first error (after which it reads zeros).
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad payload header", ErrCorrupt)
	}
	r.b = nil
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || len(r.b) < n {
		r.fail()
		return make([]byte, n)
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) uvarint() int {
	v, n := binary.Uvarint(r.b)
	if r.err != nil || n <= 0 || v > 1<<40 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

// calib reads the calibration (version 3: u8 S | S x int8 scale | S x int8 anchor;
// version 4 adds S x 3 x int8 colour scales, version 5 S x int8 mixture logits and S x int8
// anchor log-scales).
func (r *reader) calib(version byte) vae.Calib {
	if version < 3 {
		return vae.Calib{}
	}
	S := int(r.bytes(1)[0])
	n := 2
	switch {
	case version >= 5:
		n = 7
	case version == 4:
		n = 5
	}
	b := r.bytes(n * S)
	c := padCalib(vae.Calib{}, S)
	for s := 0; s < S; s++ {
		c.Scale[s], c.Anchor[s] = int8(b[s]), int8(b[S+s])
		if version >= 4 {
			for i := range c.Colour[s] {
				c.Colour[s][i] = int8(b[2*S+3*s+i])
			}
		}
		if version >= 5 {
			c.Mix[s], c.AnchorScale[s] = int8(b[5*S+s]), int8(b[6*S+s])
		}
	}
	return c
}

// Fallback returns which patches the payload codes with the fallback coder (nil for a
// payload without VAE patches or inspected without the patch count).
func (in Info) Fallback(patches int) []bool {
	if !in.VAE || len(in.Bitmap) < (patches+7)/8 {
		return nil
	}
	fb := make([]bool, patches)
	for p := range fb {
		fb[p] = in.Bitmap[p/8]>>(p%8)&1 == 1
	}
	return fb
}

// bitmap packs fb into the payload's per-patch bitmap.
func bitmap(fb []bool) []byte {
	out := make([]byte, (len(fb)+7)/8)
	for p, f := range fb {
		if f {
			out[p/8] |= 1 << (p % 8)
		}
	}
	return out
}

// stackClean codes the patches marked in fb with the fallback coder, stacked into one
// 32 x 32n image per plane, in grid order (the clean bits).
func stackClean(img *imageio.Image, grid imageio.Grid, fb []bool) ([]byte, error) {
	planes := cleanPlanes(fb)
	if planes == nil {
		return nil, nil
	}
	buf := make([]uint16, 3*patchPix)
	k := 0
	for p, f := range fb {
		if f {
			grid.Extract(img.Planes[:3], p, buf)
			for c := range planes {
				copy(planes[c][k*patchPix:(k+1)*patchPix], buf[c*patchPix:(c+1)*patchPix])
			}
			k++
		}
	}
	return fallback.Encode(nil, planes, vae.PatchSize, k*vae.PatchSize, 8)
}

// unstackClean is stackClean backwards: it decodes clean, which must be exactly the stack,
// into the RGB planes of the patches marked in fb.
func unstackClean(clean []byte, rgb [][]uint16, grid imageio.Grid, fb []bool) error {
	planes := cleanPlanes(fb)
	if planes == nil {
		if len(clean) != 0 {
			return fmt.Errorf("%w: clean bits without fallback patches", ErrCorrupt)
		}
		return nil
	}
	K := len(planes[0]) / patchPix
	n, err := fallback.DecodeInto(clean, planes, vae.PatchSize, K*vae.PatchSize, 8)
	if err != nil {
		return err
	}
	if n != len(clean) {
		return fmt.Errorf("%w: clean-bit stream length", ErrCorrupt)
	}
	buf := make([]uint16, 3*patchPix)
	k := 0
	for p, f := range fb {
		if f {
			for c := range planes {
				copy(buf[c*patchPix:(c+1)*patchPix], planes[c][k*patchPix:(k+1)*patchPix])
			}
			grid.Insert(rgb, p, buf)
			k++
		}
	}
	return nil
}

// cleanPlanes allocates the three planes of the stack of fb's fallback patches (nil: none).
func cleanPlanes(fb []bool) [][]uint16 {
	K := 0
	for _, f := range fb {
		if f {
			K++
		}
	}
	if K == 0 {
		return nil
	}
	return [][]uint16{make([]uint16, K*patchPix), make([]uint16, K*patchPix), make([]uint16, K*patchPix)}
}
