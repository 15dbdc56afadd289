package bbcore

import (
	"encoding/binary"
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
//
// Modes 5 and 6 code such an image through the subsampled chroma that the library
// interpolated (ycc.Subsample), as modes 3 and 4 with the library's interpolation (ycc.Fancy)
// and, after the chroma, a residual:
//
//	... | fallback stream of Cb, Cr | the residual (encodeResidual) | fallback stream of
//	alpha, if any
//
// Decoded JPEGs and WebPs take 3-17% fewer bits that way than in modes 3 and 4 (16 of the
// 23 decoded validation photographs; the others keep modes 3 and 4).

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

// yccModes are the payload modes of the conversions (by ycc.Conv), fancyModes those with the
// conversion's library's interpolation (Go has none).
var (
	yccModes   = [...]byte{ycc.Go: modeYCC, ycc.LibJPEG: modeYCCLibJPEG, ycc.LibWebP: modeYCCLibWebP}
	fancyModes = [...]byte{ycc.Go: 0, ycc.LibJPEG: modeFancyJPEG, ycc.LibWebP: modeFancyWebP}
)

// encodePlanes writes the payload of img through its planes p: for 4:4:4 planes of libjpeg
// or libwebp, through the subsampled chroma the library interpolated (ycc.Subsample) when
// that codes smaller on a band of the image.
func encodePlanes(img *imageio.Image, p *ycc.Planes) ([]byte, error) {
	if p.Ratio != (ycc.Ratio{DX: 1, DY: 1}) || p.Conv == ycc.Go {
		return encodeYCC(img, p)
	}
	band := p.Band()
	r, ok := ycc.FancyRatio(band)
	if !ok {
		return encodeYCC(img, p)
	}
	if pays, err := fancyPays(band, ycc.Subsample(band, r)); err != nil || !pays {
		return encodeYCC(img, p)
	}
	if q := ycc.Subsample(p, r); q != nil {
		return encodeYCC(img, q)
	}
	return encodeYCC(img, p)
}

// fancyPays tells whether q's chroma samples and residual code smaller than the 4:4:4 chroma
// of p, the same pixels (the Y' planes hardly differ). A 4:4:4 original with smooth chroma
// can fit a subsampling with a residual that costs more than the samples save: Foggy-Trees,
// a 4:4:4 JPEG, took 11% more.
func fancyPays(p, q *ycc.Planes) (bool, error) {
	if q == nil {
		return false, nil
	}
	full, err := fallback.Encode(nil, [][]uint16{widen(p.Cb), widen(p.Cr)}, p.W, p.H, 8)
	if err != nil {
		return false, err
	}
	sub, err := fallback.Encode(nil, [][]uint16{widen(q.Cb), widen(q.Cr)}, q.CW, q.CH, 8)
	if err != nil {
		return false, err
	}
	if sub, err = encodeResidual(sub, q.Res); err != nil {
		return false, err
	}
	return len(sub) < len(full), nil
}

// encodeYCC writes the mode-2 (3 to 6) payload of img, whose planes p are.
func encodeYCC(img *imageio.Image, p *ycc.Planes) ([]byte, error) {
	mode := yccModes[p.Conv]
	if p.Filter == ycc.Fancy {
		mode = fancyModes[p.Conv]
	}
	out := []byte{payloadVersion, mode, byte(p.DX), byte(p.DY)}
	out, err := fallback.Encode(out, [][]uint16{widen(p.Y)}, p.W, p.H, 8)
	if err != nil {
		return nil, err
	}
	if out, err = fallback.Encode(out, [][]uint16{widen(p.Cb), widen(p.Cr)}, p.CW, p.CH, 8); err != nil {
		return nil, err
	}
	if p.Filter == ycc.Fancy {
		if out, err = encodeResidual(out, p.Res); err != nil {
			return nil, err
		}
	}
	if len(img.Planes) > 3 {
		return fallback.Encode(out, img.Planes[3:], img.Width, img.Height, 8)
	}
	return out, nil
}

// decodeYCC decodes the rest of a mode-2 to 6 payload (after version and mode), whose
// planes conversion conv and filter turn into pixels.
func decodeYCC(h *container.Header, rest []byte, conv ycc.Conv, filter ycc.Filter) (*imageio.Image, error) {
	if h.Depth != 8 || (h.Color != imageio.RGB && h.Color != imageio.RGBA) || len(rest) < 2 {
		return nil, fmt.Errorf("%w: Y'CbCr payload for a %v %d-bit image", ErrCorrupt, h.Color, h.Depth)
	}
	r := ycc.Ratio{DX: int(rest[0]), DY: int(rest[1])}
	if !slices.Contains(ycc.Ratios, r) || !ycc.HasFilter(conv, r, filter) {
		return nil, fmt.Errorf("%w: chroma subsampling %dx%d", ErrCorrupt, r.DX, r.DY)
	}
	p := ycc.New(h.Width, h.Height, r, conv)
	p.Filter = filter
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
	if filter == ycc.Fancy {
		var err error
		if rest, err = decodeResidual(rest, p); err != nil {
			return nil, err
		}
	}
	img := imageio.New(h.Width, h.Height, h.Color, h.Depth)
	rgb := p.Merge()
	copy(img.Planes, rgb[:])
	if err := decodeAlpha(rest, img); err != nil {
		return nil, err
	}
	return img, nil
}

// The residual of modes 5 and 6 is sparse (1-2% of a photograph's pixels): it is coded as
// entries, each the number of pixels skipped since the last one (a gap) and the pixel's Cb
// and Cr residual, zigzagged; a gap of maxGap skips that many pixels without an entry's
// pixel, so that any gap fits 16 bits.
const maxGap = 1<<16 - 1

// encodeResidual appends the uvarint number of entries and, if any, one fallback stream of
// three n x 1 planes at depth 16: the gaps, the Cb and the Cr residuals.
func encodeResidual(dst []byte, res [2][]uint8) ([]byte, error) {
	var gaps, cb, cr []uint16
	gap := 0
	for i := range res[0] {
		if res[0][i] == 0 && res[1][i] == 0 {
			if gap++; gap == maxGap {
				gaps, cb, cr = append(gaps, maxGap), append(cb, 0), append(cr, 0)
				gap = 0
			}
			continue
		}
		gaps, cb, cr = append(gaps, uint16(gap)), append(cb, zigzag(res[0][i])), append(cr, zigzag(res[1][i]))
		gap = 0
	}
	dst = binary.AppendUvarint(dst, uint64(len(gaps)))
	if len(gaps) == 0 {
		return dst, nil
	}
	return fallback.Encode(dst, [][]uint16{gaps, cb, cr}, len(gaps), 1, 16)
}

// decodeResidual reads encodeResidual's entries from src into p.Res and returns the rest.
func decodeResidual(src []byte, p *ycc.Planes) ([]byte, error) {
	n, k := binary.Uvarint(src)
	pixels := uint64(p.W * p.H)
	if k <= 0 || n > pixels+pixels/maxGap+1 {
		return nil, fmt.Errorf("%w: residual of %d entries", ErrCorrupt, n)
	}
	src = src[k:]
	p.Res = [2][]uint8{make([]uint8, pixels), make([]uint8, pixels)}
	if n == 0 {
		return src, nil
	}
	e, used, err := fallback.Decode(src, 3, int(n), 1, 16)
	if err != nil {
		return nil, err
	}
	at := 0
	for j := range e[0] {
		g, cb, cr := int(e[0][j]), e[1][j], e[2][j]
		if g == maxGap {
			if at += g; at > len(p.Res[0]) || cb != 0 || cr != 0 {
				return nil, fmt.Errorf("%w: residual entry %d", ErrCorrupt, j)
			}
			continue
		}
		if at += g; at >= len(p.Res[0]) || cb > 255 || cr > 255 {
			return nil, fmt.Errorf("%w: residual entry %d", ErrCorrupt, j)
		}
		p.Res[0][at], p.Res[1][at] = unzigzag(cb), unzigzag(cr)
		at++
	}
	return src[used:], nil
}

// zigzag maps a byte read as an int8 (a difference modulo 256) to 0, 1, 2, 3, ... for 0, -1,
// 1, -2, ...: small differences of either sign become small values.
func zigzag(v uint8) uint16 { return uint16(uint8(v<<1) ^ uint8(int8(v)>>7)) }

// unzigzag inverts zigzag.
func unzigzag(v uint16) uint8 {
	u := uint8(v)
	return u>>1 ^ -(u & 1)
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
