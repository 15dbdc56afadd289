// Package ycc finds the Y'CbCr planes behind an RGB image that a JPEG or lossy WebP decoder
// produced, so that a lossless coder can code those planes instead of the RGB ones.
//
// Go's decoders return JPEG and VP8 pixels as Y'CbCr with subsampled chroma, and imageio turns
// them into RGB with color.YCbCrToRGB, each chroma sample shared by the block of pixels it
// covers (nearest, not interpolated). Such an RGB image holds no more information than its
// Y plane and the (a half or a quarter as large) Cb and Cr planes: coded that way it takes
// 35-55% fewer bits. Split recovers planes that reproduce the RGB image exactly, if there
// are any; Merge is its inverse. Any RGB image that Merge would not give back fails Split.
package ycc

import (
	"image/color"
)

// Ratio is a chroma subsampling: each chroma sample covers a DX x DY block of pixels.
type Ratio struct{ DX, DY int }

// Ratios are the subsamplings Split tries, the most compact first: 4:2:0, 4:2:2, 4:4:0,
// 4:4:4.
var Ratios = []Ratio{{2, 2}, {2, 1}, {1, 2}, {1, 1}}

// Planes are the Y'CbCr planes of a w x h image: Y is w x h, Cb and Cr are CW x CH with
// CW = ceil(w/DX) and CH = ceil(h/DY).
type Planes struct {
	Ratio
	W, H, CW, CH int
	Y, Cb, Cr    []uint8

	full, tries int // blocks Split searched over all chroma pairs, and the pairs it tried
}

// New returns zero planes of an image of w x h pixels with ratio r.
func New(w, h int, r Ratio) *Planes {
	cw, ch := (w+r.DX-1)/r.DX, (h+r.DY-1)/r.DY
	return &Planes{Ratio: r, W: w, H: h, CW: cw, CH: ch,
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
			i, ci := y*p.W+x, (y/p.DY)*p.CW+x/p.DX
			r, g, b := color.YCbCrToRGB(p.Y[i], p.Cb[ci], p.Cr[ci])
			out[0][i], out[1][i], out[2][i] = uint16(r), uint16(g), uint16(b)
		}
	}
	return out
}

// Split returns Y'CbCr planes with ratio r that Merge turns into exactly the 8-bit RGB planes
// rgb of a w x h image, or nil if there are none (it gives up at the first chroma block
// that no (Cb, Cr) pair reproduces, so a image of another origin fails fast).
func Split(rgb [3][]uint16, w, h int, r Ratio) *Planes {
	p := New(w, h, r)
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
			_, cb, cr := color.RGBToYCbCr(r, g, bl)
			sbAll, srAll, nAll = sbAll+int(cb), srAll+int(cr), nAll+1
			if !clamped(r) && !clamped(g) && !clamped(bl) {
				sb, sr, n = sb+int(cb), sr+int(cr), n+1
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
// R - G = (138683 Cr' + 22554 Cb') / 65536 and B - G = (138684 Cb' + 46802 Cr') / 65536.
// decided is false when no pixel has such a pair of unclamped channels.
func (b *block) line() (ok, decided bool) {
	for y := b.y0; y < b.y1; y++ {
		for x := b.x0; x < b.x1; x++ {
			r, g, bl := b.px(x, y)
			switch {
			case !clamped(r) && !clamped(g):
				for cb := 0; cb < 256; cb++ {
					cr := 128 + (65536*(int(r)-int(g))-22554*(cb-128))/138683
					if b.try(cb, cr) || b.try(cb, cr-1) || b.try(cb, cr+1) {
						return true, true
					}
				}
				return false, true
			case !clamped(bl) && !clamped(g):
				for cr := 0; cr < 256; cr++ {
					cb := 128 + (65536*(int(bl)-int(g))-46802*(cr-128))/138684
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
			_, cb, cr := color.RGBToYCbCr(b.px(x, y))
			sb, sr, n = sb+int(cb), sr+int(cr), n+1
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
			yy, ok := lumaFor(uint8(rgb[0][i]), uint8(rgb[1][i]), uint8(rgb[2][i]), cb, cr)
			if !ok {
				return false
			}
			p.Y[i] = yy
		}
	}
	return true
}

// lumaFor returns a Y' with YCbCrToRGB(Y', cb, cr) = (r, g, b), if there is one. Each
// unclamped channel suggests a Y' (Y' = R - 1.402 Cr', G + 0.344 Cb' + 0.714 Cr',
// B - 1.772 Cb'); the search tries those and their neighbours.
func lumaFor(r, g, b, cb, cr uint8) (uint8, bool) {
	cb1, cr1 := int(cb)-128, int(cr)-128
	var est [3]int
	n := 0
	if !clamped(g) {
		est[n], n = int(g)+(22554*cb1+46802*cr1)/65536, n+1
	}
	if !clamped(r) {
		est[n], n = int(r)-91881*cr1/65536, n+1
	}
	if !clamped(b) {
		est[n], n = int(b)-116130*cb1/65536, n+1
	}
	if n == 0 { // every channel clamped: Y' can be far from all of them
		for y := 0; y < 256; y++ {
			if r2, g2, b2 := color.YCbCrToRGB(uint8(y), cb, cr); r2 == r && g2 == g && b2 == b {
				return uint8(y), true
			}
		}
		return 0, false
	}
	for _, e := range est[:n] {
		for _, d := range [...]int{0, 1, -1, 2, -2} {
			y := e + d
			if y < 0 || y > 255 {
				continue
			}
			if r2, g2, b2 := color.YCbCrToRGB(uint8(y), cb, cr); r2 == r && g2 == g && b2 == b {
				return uint8(y), true
			}
		}
	}
	return 0, false
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
