// Package ycc finds the Y'CbCr planes behind an RGB image that a JPEG or lossy WebP decoder
// produced, so that a lossless coder can code those planes instead of the RGB ones.
//
// Go's decoders return JPEG and VP8 pixels as Y'CbCr with subsampled chroma, and imageio turns
// them into RGB with color.YCbCrToRGB, each chroma sample shared by the block of pixels it
// covers (nearest, not interpolated). Such an RGB image holds no more information than its
// Y plane and the (a half or a quarter as large) Cb and Cr planes: coded that way it takes
// 35-55% fewer bits. Split recovers planes that reproduce the RGB image exactly, if there
// are any; Merge is its inverse. Any RGB image that Merge would not give back fails Split.
//
// libjpeg (djpeg, and most software that turns a JPEG into a PNG) and libwebp (dwebp)
// interpolate the chroma instead, then convert each pixel with their own fixed-point
// arithmetic (Conv LibJPEG, LibWebP). Their pixels still lie on that conversion's lattice
// (one RGB value in 4, in 5.7 for libwebp's studio range), which a coder of RGB planes cannot
// know: their 4:4:4 Y'CbCr planes take 20-36% fewer bits. Their chroma was interpolated from
// subsampled samples (Filter Fancy); Subsample recovers those, up to a small residual: 10-20%
// fewer bits again.
package ycc

import (
	"image/color"
	"math"
	"strconv"
)

// Ratio is a chroma subsampling: each chroma sample covers a DX x DY block of pixels.
type Ratio struct{ DX, DY int }

// Ratios are the subsamplings Split tries, the most compact first: 4:2:0, 4:2:2, 4:4:0,
// 4:4:4.
var Ratios = []Ratio{{2, 2}, {2, 1}, {1, 2}, {1, 1}}

// Conv is a Y'CbCr-to-RGB conversion: how the decoder that made an image computed its pixels.
type Conv uint8

const (
	// Go is color.YCbCrToRGB (Go's image/jpeg and x/image/webp, through imageio).
	Go Conv = iota
	// LibJPEG is libjpeg's (and libjpeg-turbo's) ycc_rgb_convert: R = Y' + round(1.402 Cr'),
	// G = Y' + floor((-22554 Cb' - 46802 Cr' + 2^15) / 2^16), B = Y' + round(1.772 Cb'),
	// each clamped to [0, 255], with Cb' = Cb - 128 and Cr' = Cr - 128.
	LibJPEG
	// LibWebP is libwebp's VP8YUVToR/G/B (dwebp, and most software that decodes a lossy
	// WebP): BT.601 with studio-range Y', R = clip((hi(Y', 19077) + hi(Cr, 26149) - 14234) / 64),
	// G = clip((hi(Y', 19077) - hi(Cb, 6419) - hi(Cr, 13320) + 8708) / 64), B = clip((hi(Y',
	// 19077) + hi(Cb, 33050) - 17685) / 64), hi(v, k) = v k >> 8 and / 64 a shift, clipped
	// to [0, 255].
	LibWebP
)

func (c Conv) String() string {
	switch c {
	case Go:
		return "Go"
	case LibJPEG:
		return "libjpeg"
	case LibWebP:
		return "libwebp"
	}
	return "Conv(" + strconv.Itoa(int(c)) + ")"
}

// Convs are the conversions Split knows.
var Convs = []Conv{Go, LibJPEG, LibWebP}

// RGB converts one pixel.
func (c Conv) RGB(y, cb, cr uint8) (r, g, b uint8) {
	switch c {
	case Go:
		return color.YCbCrToRGB(y, cb, cr)
	case LibJPEG:
		cb1, cr1 := int(cb)-128, int(cr)-128
		yy := int(y)
		return clamp8(yy + (91881*cr1+32768)>>16), clamp8(yy + (-22554*cb1-46802*cr1+32768)>>16), clamp8(yy + (116130*cb1+32768)>>16)
	}
	yy, u, v := int(y)*19077>>8, int(cb), int(cr)
	return clip6(yy + v*26149>>8 - 14234), clip6(yy - u*6419>>8 - v*13320>>8 + 8708), clip6(yy + u*33050>>8 - 17685)
}

func clamp8(v int) uint8 { return uint8(min(255, max(0, v))) }

// clip6 is libwebp's VP8Clip8: v / 64, clipped to [0, 255].
func clip6(v int) uint8 {
	if v&^(256<<6-1) == 0 {
		return uint8(v >> 6)
	}
	if v < 0 {
		return 0
	}
	return 255
}

// coefs are the chroma terms of each conversion in units of 2^-16 (R = Y' + rCr Cr', G = Y' -
// gCb Cb' - gCr Cr', B = Y' + bCb Cb', up to rounding and LibWebP's scale of Y'): what the
// searches for a block's chroma use.
type coefs struct{ rCr, gCb, gCr, bCb int }

func (c Conv) coefs() coefs {
	if c == LibWebP {
		return coefs{4 * 26149, 4 * 6419, 4 * 13320, 4 * 33050}
	}
	return coefs{91881, 22554, 46802, 116130}
}

// chroma estimates the chroma of pixel (r, g, b) under c (Go's rounding for the full-range
// conversions, BT.601's studio range for LibWebP).
func (c Conv) chroma(r, g, b uint8) (cb, cr int) {
	if c != LibWebP {
		_, cb8, cr8 := color.RGBToYCbCr(r, g, b)
		return int(cb8), int(cr8)
	}
	rf, gf, bf := float64(r), float64(g), float64(b)
	cbf := 128 - 0.148*rf - 0.291*gf + 0.439*bf
	crf := 128 + 0.439*rf - 0.368*gf - 0.071*bf
	return int(math.Round(cbf)), int(math.Round(crf))
}

// Planes are the Y'CbCr planes of a w x h image: Y is w x h, Cb and Cr are CW x CH with
// CW = ceil(w/DX) and CH = ceil(h/DY); Conv turns them into pixels.
type Planes struct {
	Ratio
	Conv   Conv
	Filter Filter // how the chroma samples spread over the pixels (New: Nearest)
	// Res, with the Fancy filter, holds what each pixel's Cb and Cr add (modulo 256) to the
	// filter's (Subsample's residual); nil planes add nothing.
	Res          [2][]uint8
	W, H, CW, CH int
	Y, Cb, Cr    []uint8

	full, tries int // blocks Split searched over all chroma pairs, and the pairs it tried
}

// New returns zero planes of an image of w x h pixels with ratio r and conversion c.
func New(w, h int, r Ratio, c Conv) *Planes {
	cw, ch := (w+r.DX-1)/r.DX, (h+r.DY-1)/r.DY
	return &Planes{Ratio: r, Conv: c, W: w, H: h, CW: cw, CH: ch,
		Y: make([]uint8, w*h), Cb: make([]uint8, cw*ch), Cr: make([]uint8, cw*ch)}
}

// Merge returns the RGB planes (8-bit values in uint16, planar) that p decodes to.
func (p *Planes) Merge() [3][]uint16 {
	var out [3][]uint16
	for c := range out {
		out[c] = make([]uint16, p.W*p.H)
	}
	for y := 0; y < p.H; y++ {
		for x := 0; x < p.W; x++ {
			i := y*p.W + x
			cb, cr := p.chromaAt(x, y)
			r, g, b := p.Conv.RGB(p.Y[i], cb, cr)
			out[0][i], out[1][i], out[2][i] = uint16(r), uint16(g), uint16(b)
		}
	}
	return out
}

// Split returns Y'CbCr planes with ratio r and conversion c that Merge turns into exactly
// the 8-bit RGB planes rgb of a w x h image, or nil if there are none (it gives up at the
// first chroma block that no (Cb, Cr) pair reproduces, so a image of another origin fails
// fast).
func Split(rgb [3][]uint16, w, h int, r Ratio, c Conv) *Planes {
	p := New(w, h, r, c)
	for cy := 0; cy < p.CH; cy++ {
		for cx := 0; cx < p.CW; cx++ {
			if !p.solveBlock(rgb, cx, cy) {
				return nil
			}
		}
	}
	return p
}

// searchRadius bounds how far from the estimate Split first looks for a block's (Cb, Cr):
// the estimate from the block's unclamped pixels is off by rounding only. clampedRadius is
// the bound when every pixel clamps a channel (the estimate from all of them is rougher).
const (
	searchRadius  = 3
	clampedRadius = 24
)

func clamped(v uint8) bool { return v == 0 || v == 255 }

// solveBlock finds the chroma of block (cx, cy) and the luma of its pixels: near the
// estimate from its unclamped pixels first; then, since a clamped channel hides how far its
// chroma goes, along the line of (Cb, Cr) that an unclamped pixel's R - G (or B - G) allows;
// and, for blocks clamped in two channels everywhere, over all pairs (at most fullTries pairs
// per image, so that a saturated picture of another origin fails in bounded time).
func (p *Planes) solveBlock(rgb [3][]uint16, cx, cy int) bool {
	b := block{p: p, rgb: rgb, x0: cx * p.DX, y0: cy * p.DY}
	b.x1, b.y1 = min(b.x0+p.DX, p.W), min(b.y0+p.DY, p.H)
	ok := b.near()
	if !ok {
		// When line tried every pair that a pixel allows, no other pair can work: a picture
		// of another origin fails on its first block instead of spending fullTries there.
		var decided bool
		if ok, decided = b.line(); !ok && !decided && p.tries < fullTries {
			p.full++
			ok = b.all()
		}
	}
	if ok {
		ci := cy*p.CW + cx
		p.Cb[ci], p.Cr[ci] = b.cb, b.cr
	}
	return ok
}

// fullTries bounds the chroma pairs per image that the searches over all pairs try.
const fullTries = 1 << 17

// block is one chroma sample's block of pixels being solved.
type block struct {
	p              *Planes
	rgb            [3][]uint16
	x0, y0, x1, y1 int
	cb, cr         uint8 // the solution
}

func (b *block) px(x, y int) (r, g, bl uint8) {
	i := y*b.p.W + x
	return uint8(b.rgb[0][i]), uint8(b.rgb[1][i]), uint8(b.rgb[2][i])
}

// try tells whether chroma (cb, cr) reproduces the block (and keeps it if so).
func (b *block) try(cb, cr int) bool {
	if cb < 0 || cb > 255 || cr < 0 || cr > 255 || !b.p.tryChroma(b.rgb, b.x0, b.y0, b.x1, b.y1, uint8(cb), uint8(cr)) {
		return false
	}
	b.cb, b.cr = uint8(cb), uint8(cr)
	return true
}

// near searches around the mean chroma of the unclamped pixels (of all, if every pixel clamps
// a channel), by growing distance (so that the chroma found is the smooth one when several
// reproduce the block).
func (b *block) near() bool {
	var sb, sr, n, sbAll, srAll, nAll int
	for y := b.y0; y < b.y1; y++ {
		for x := b.x0; x < b.x1; x++ {
			r, g, bl := b.px(x, y)
			cb, cr := b.p.Conv.chroma(r, g, bl)
			sbAll, srAll, nAll = sbAll+cb, srAll+cr, nAll+1
			if !clamped(r) && !clamped(g) && !clamped(bl) {
				sb, sr, n = sb+cb, sr+cr, n+1
			}
		}
	}
	radius := searchRadius
	if n == 0 {
		sb, sr, n, radius = sbAll, srAll, nAll, clampedRadius
	}
	eb, er := (sb+n/2)/n, (sr+n/2)/n
	for d := 0; d <= radius; d++ {
		for db := -d; db <= d; db++ {
			for dr := -d; dr <= d; dr++ {
				if max(abs(db), abs(dr)) == d && b.try(eb+db, er+dr) {
					return true
				}
			}
		}
	}
	return false
}

// line searches the chroma pairs that one pixel's unclamped R - G or B - G allows:
// R - G = ((rCr + gCr) Cr' + gCb Cb') / 65536 and B - G = ((bCb + gCb) Cb' + gCr Cr') / 65536
// (coefs; for Go's conversion 138683, 22554, 138684 and 46802). decided is false when no
// pixel has such a pair of unclamped channels.
func (b *block) line() (ok, decided bool) {
	k := b.p.Conv.coefs()
	for y := b.y0; y < b.y1; y++ {
		for x := b.x0; x < b.x1; x++ {
			r, g, bl := b.px(x, y)
			switch {
			case !clamped(r) && !clamped(g):
				for cb := 0; cb < 256; cb++ {
					cr := 128 + (65536*(int(r)-int(g))-k.gCb*(cb-128))/(k.rCr+k.gCr)
					if b.try(cb, cr) || b.try(cb, cr-1) || b.try(cb, cr+1) {
						return true, true
					}
				}
				return false, true
			case !clamped(bl) && !clamped(g):
				for cr := 0; cr < 256; cr++ {
					cb := 128 + (65536*(int(bl)-int(g))-k.gCr*(cr-128))/(k.bCb+k.gCb)
					if b.try(cb, cr) || b.try(cb-1, cr) || b.try(cb+1, cr) {
						return true, true
					}
				}
				return false, true
			}
		}
	}
	return false, false
}

// all searches every chroma pair, by growing distance from the mean chroma of all the
// block's pixels, spending from the image's budget of fullTries.
func (b *block) all() bool {
	var sb, sr, n int
	for y := b.y0; y < b.y1; y++ {
		for x := b.x0; x < b.x1; x++ {
			cb, cr := b.p.Conv.chroma(b.px(x, y))
			sb, sr, n = sb+cb, sr+cr, n+1
		}
	}
	eb, er := (sb+n/2)/n, (sr+n/2)/n
	for d := 0; d < 256; d++ {
		for db := -d; db <= d; db++ {
			for dr := -d; dr <= d; dr++ {
				if max(abs(db), abs(dr)) != d {
					continue
				}
				if b.p.tries++; b.p.tries > fullTries {
					return false
				}
				if b.try(eb+db, er+dr) {
					return true
				}
			}
		}
	}
	return false
}

// tryChroma sets the luma of the block's pixels for chroma (cb, cr) and tells whether every
// pixel is then reproduced.
func (p *Planes) tryChroma(rgb [3][]uint16, x0, y0, x1, y1 int, cb, cr uint8) bool {
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			i := y*p.W + x
			yy, ok := p.Conv.lumaFor(uint8(rgb[0][i]), uint8(rgb[1][i]), uint8(rgb[2][i]), cb, cr)
			if !ok {
				return false
			}
			p.Y[i] = yy
		}
	}
	return true
}

// lumaFor returns a Y' with c.RGB(Y', cb, cr) = (r, g, b), if there is one. Each unclamped
// channel suggests a Y' (lumaEst) that is off by rounding only; the search tries those and
// their neighbours. With every channel clamped, Y' can be anywhere.
func (c Conv) lumaFor(r, g, b, cb, cr uint8) (uint8, bool) {
	want := [3]uint8{r, g, b}
	hit := func(y int) bool {
		r, g, b := c.RGB(uint8(y), cb, cr)
		return [3]uint8{r, g, b} == want
	}
	unclamped := false
	for _, ch := range [...]int{1, 0, 2} {
		if clamped(want[ch]) {
			continue
		}
		unclamped = true
		e := c.lumaEst(ch, want[ch], cb, cr)
		for _, d := range [...]int{0, 1, -1, 2, -2} {
			if y := e + d; y >= 0 && y <= 255 && hit(y) {
				return uint8(y), true
			}
		}
	}
	if !unclamped { // every channel clamped: Y' can be far from all of them
		for y := 0; y < 256; y++ {
			if hit(y) {
				return uint8(y), true
			}
		}
	}
	return 0, false
}

// lumaEst estimates the Y' whose channel ch (0 R, 1 G, 2 B) converts to v under chroma
// (cb, cr): Y' = R - 1.402 Cr', G + 0.344 Cb' + 0.714 Cr', B - 1.772 Cb' for the full-range
// conversions, and the same through libwebp's scale and offsets.
func (c Conv) lumaEst(ch int, v, cb, cr uint8) int {
	if c == LibWebP {
		u, w := int(cb), int(cr)
		t := [3]int{w*26149>>8 - 14234, 8708 - u*6419>>8 - w*13320>>8, u*33050>>8 - 17685}[ch]
		return ((int(v)*64+32-t)<<8 + 19077/2) / 19077
	}
	k, cb1, cr1 := c.coefs(), int(cb)-128, int(cr)-128
	return int(v) - [3]int{k.rCr * cr1, -(k.gCb*cb1 + k.gCr*cr1), k.bCb * cb1}[ch]/65536
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
