package bbcore

import (
	"fmt"
	"slices"

	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/fallback"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/ycc"
)

// A mode-2 payload codes an RGB(A) image that a JPEG or lossy WebP decoder produced through
// the Y'CbCr planes behind it (package ycc):
//
//	u8 version | u8 mode 2 | u8 DX | u8 DY (the chroma subsampling) |
//	fallback stream of Y (w x h) | fallback stream of Cb, Cr (ceil(w/DX) x ceil(h/DY)) |
//	fallback stream of alpha, if any
//
// The decoder turns the planes back into RGB with color.YCbCrToRGB, each chroma sample shared
// by its DX x DY block: what imageio does with a decoded JPEG. Such images take 30-45% fewer
// bits this way than through the fallback coder on RGB, more than the model saves, so the
// encoder does not try the model on them. Modes 3 and 4 are the same with libjpeg's and
// libwebp's conversions (ycc.LibJPEG, ycc.LibWebP): a JPEG or WebP decoded by djpeg, dwebp
// and most software, 4:4:4 after their chroma interpolation, 20-36% fewer bits than on RGB.

// splitYCC returns the Y'CbCr planes that reproduce img's RGB planes exactly, with the most
// compact subsampling that does (Go's conversion first), or nil.
func splitYCC(img *imageio.Image) *ycc.Planes {
	rgb := [3][]uint16{img.Planes[0], img.Planes[1], img.Planes[2]}
	for _, c := range ycc.Convs {
		for _, r := range ycc.Ratios {
			if p := ycc.Split(rgb, img.Width, img.Height, r, c); p != nil {
				return p
			}
		}
	}
	return nil
}

// yccModes are the payload modes of the conversions (by ycc.Conv).
var yccModes = [...]byte{ycc.Go: modeYCC, ycc.LibJPEG: modeYCCLibJPEG, ycc.LibWebP: modeYCCLibWebP}

// encodeYCC writes the mode-2 (3, 4) payload of img, whose planes p are.
func encodeYCC(img *imageio.Image, p *ycc.Planes) ([]byte, error) {
	out := []byte{payloadVersion, yccModes[p.Conv], byte(p.DX), byte(p.DY)}
	out, err := fallback.Encode(out, [][]uint16{widen(p.Y)}, p.W, p.H, 8)
	if err != nil {
		return nil, err
	}
	if out, err = fallback.Encode(out, [][]uint16{widen(p.Cb), widen(p.Cr)}, p.CW, p.CH, 8); err != nil {
		return nil, err
	}
	if len(img.Planes) > 3 {
		return fallback.Encode(out, img.Planes[3:], img.Width, img.Height, 8)
	}
	return out, nil
}

// decodeYCC decodes the rest of a mode-2, 3 or 4 payload (after version and mode), whose
// planes conversion conv turns into pixels.
func decodeYCC(h *container.Header, rest []byte, conv ycc.Conv) (*imageio.Image, error) {
	if h.Depth != 8 || (h.Color != imageio.RGB && h.Color != imageio.RGBA) || len(rest) < 2 {
		return nil, fmt.Errorf("%w: Y'CbCr payload for a %v %d-bit image", ErrCorrupt, h.Color, h.Depth)
	}
	r := ycc.Ratio{DX: int(rest[0]), DY: int(rest[1])}
	if !slices.Contains(ycc.Ratios, r) {
		return nil, fmt.Errorf("%w: chroma subsampling %dx%d", ErrCorrupt, r.DX, r.DY)
	}
	p := ycc.New(h.Width, h.Height, r, conv)
	y, c := [][]uint16{make([]uint16, p.W*p.H)}, [][]uint16{make([]uint16, p.CW*p.CH), make([]uint16, p.CW*p.CH)}
	rest = rest[2:]
	for _, s := range []struct {
		planes [][]uint16
		w, h   int
	}{{y, p.W, p.H}, {c, p.CW, p.CH}} {
		n, err := fallback.DecodeInto(rest, s.planes, s.w, s.h, 8)
		if err != nil {
			return nil, err
		}
		rest = rest[n:]
	}
	narrow(y[0], p.Y)
	narrow(c[0], p.Cb)
	narrow(c[1], p.Cr)
	img := imageio.New(h.Width, h.Height, h.Color, h.Depth)
	rgb := p.Merge()
	copy(img.Planes, rgb[:])
	if err := decodeAlpha(rest, img); err != nil {
		return nil, err
	}
	return img, nil
}

func widen(b []uint8) []uint16 {
	out := make([]uint16, len(b))
	for i, v := range b {
		out[i] = uint16(v)
	}
	return out
}

// narrow copies 8-bit samples (the fallback decoder keeps them below 256) into dst.
func narrow(s []uint16, dst []uint8) {
	for i, v := range s {
		dst[i] = uint8(v)
	}
}

// smallerOf returns the shorter of two payloads.
func smallerOf(a, b func() ([]byte, error)) ([]byte, error) {
	pa, err := a()
	if err != nil {
		return nil, err
	}
	pb, err := b()
	if err != nil {
		return nil, err
	}
	if len(pb) < len(pa) {
		return pb, nil
	}
	return pa, nil
}
