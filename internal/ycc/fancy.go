package ycc

import (
	"math"
	"slices"
)

// Filter is how a decoder spreads the chroma samples over the pixels.
type Filter uint8

const (
	// Nearest repeats each chroma sample over its DX x DY block (Go's decoders; djpeg
	// -nosmooth).
	Nearest Filter = iota
	// Fancy is the interpolation of the conversion's library, the default of djpeg, dwebp and
	// most software: libjpeg's triangle filter (jdsample.c: 3/4 of the nearer sample and 1/4
	// of the next in each subsampled direction, rounding up and down at alternate pixels;
	// samples beyond the edge repeat the edge) and libwebp's (upsampling.c: the same weights,
	// rounded in two steps). Only LibJPEG and LibWebP have one (LibWebP only at 4:2:0).
	Fancy
)

// HasFilter tells whether the planes of ratio r and conversion c can use filter f.
func HasFilter(c Conv, r Ratio, f Filter) bool {
	switch {
	case f == Nearest:
		return true
	case f != Fancy || r == (Ratio{1, 1}):
		return false
	case c == LibJPEG:
		return true
	case c == LibWebP:
		return r == Ratio{2, 2}
	}
	return false
}

// repeats tells whether libjpeg repeats these planes' chroma instead of interpolating it:
// it interpolates horizontally subsampled chroma only from 3 samples a row on.
func (p *Planes) repeats() bool { return p.DX == 2 && p.CW <= 2 && p.Conv == LibJPEG }

// chromaAt returns the chroma of pixel (x, y).
func (p *Planes) chromaAt(x, y int) (cb, cr uint8) {
	if p.Filter == Nearest || p.repeats() {
		i := (y/p.DY)*p.CW + x/p.DX
		return p.Cb[i], p.Cr[i]
	}
	cb, cr = p.fancyAt(p.Cb, x, y), p.fancyAt(p.Cr, x, y)
	if p.Res[0] != nil {
		i := y*p.W + x
		cb, cr = cb+p.Res[0][i], cr+p.Res[1][i]
	}
	return cb, cr
}

// fancyAt is one chroma value of pixel (x, y) under the Fancy filter of plane c.
func (p *Planes) fancyAt(c []uint8, x, y int) uint8 {
	if p.Conv == LibWebP {
		return p.webpAt(c, x, y)
	}
	// The nearer sample (cx, cy) and the next one (fx, fy) in each subsampled direction.
	cx, cy := x>>(p.DX-1), y>>(p.DY-1)
	fx, fy := cx, cy
	if p.DX == 2 {
		fx = min(max(cx-1+2*(x&1), 0), p.CW-1)
	}
	if p.DY == 2 {
		fy = min(max(cy-1+2*(y&1), 0), p.CH-1)
	}
	near, far := c[cy*p.CW:], c[fy*p.CW:]
	switch {
	case p.DY == 1: // h2v1
		return uint8((3*int(near[cx]) + int(near[fx]) + 1 + x&1) >> 2)
	case p.DX == 1: // h1v2
		return uint8((3*int(near[cx]) + int(far[cx]) + 1 + y&1) >> 2)
	}
	this := 3*int(near[cx]) + int(far[cx])
	next := 3*int(near[fx]) + int(far[fx])
	return uint8((3*this + next + 8 - x&1) >> 4)
}

// webpAt is libwebp's fancy upsampling (UpsampleRgbLinePair) of chroma plane c at pixel
// (x, y): row y interpolates chroma rows top and cur, the nearer first; columns the same
// way, except at the left edge and, in an image of even width, the right one.
func (p *Planes) webpAt(c []uint8, x, y int) uint8 {
	top, cur, bottom := 0, 0, false
	if y > 0 {
		k := (y + 1) / 2
		top, cur, bottom = k-1, min(k, p.CH-1), y&1 == 0
	}
	at := func(row, col int) int { return int(c[row*p.CW+col]) }
	if x == 0 || (x == p.W-1 && p.W&1 == 0) {
		near, far := at(top, x>>1), at(cur, x>>1)
		if bottom {
			near, far = far, near
		}
		return uint8((3*near + far + 2) >> 2)
	}
	k := (x + 1) / 2
	tl, t, l, uv := at(top, k-1), at(top, k), at(cur, k-1), at(cur, k)
	avg := tl + t + l + uv + 8
	d12, d03 := (avg+2*(t+l))>>3, (avg+2*(tl+uv))>>3
	switch {
	case !bottom && x&1 == 1:
		return uint8((d12 + tl) >> 1)
	case !bottom:
		return uint8((d03 + t) >> 1)
	case x&1 == 1:
		return uint8((d03 + l) >> 1)
	}
	return uint8((d12 + uv) >> 1)
}

func clampTo(v, n int) int { return min(max(v, 0), n-1) }

// Subsample returns planes with ratio r and the Fancy filter that Merge turns into the same
// pixels as full, 4:4:4 planes of the same conversion, or nil if the conversion has no such
// filter. Their chroma samples are estimated from full's (the samples that full's decoder
// interpolated, where the search finds them); what the filter then misses, Res holds. A
// pixel may take other chroma than full's (alts), with its own Y'; Cb is searched first,
// allowed wherever some Cr fits, then Cr given the Cb found.
func Subsample(full *Planes, r Ratio) *Planes {
	if full.Ratio != (Ratio{1, 1}) || !HasFilter(full.Conv, r, Fancy) {
		return nil
	}
	p := New(full.W, full.H, r, full.Conv)
	p.Filter = Fancy
	if p.repeats() {
		return nil // nearest there: Split's job
	}
	a := newAlts(full)
	p.refine(p.Cb, p.estimate(p.Cb, full.Cb), &acceptor{a: a, u: full.Cb})
	cb := p.upsample(p.Cb) // fixed from here on
	p.refine(p.Cr, p.estimate(p.Cr, full.Cr), &acceptor{a: a, u: full.Cr, cb: cb})
	cr := p.upsample(p.Cr)
	p.Res = [2][]uint8{make([]uint8, p.W*p.H), make([]uint8, p.W*p.H)}
	copy(p.Y, full.Y)
	for i := range p.Y {
		if cb[i] == full.Cb[i] && cr[i] == full.Cr[i] {
			continue
		}
		if a.ok(i, cb[i], cr[i]) {
			r, g, b := full.Conv.RGB(full.Y[i], full.Cb[i], full.Cr[i])
			if y, ok := p.Conv.lumaFor(r, g, b, cb[i], cr[i]); ok {
				p.Y[i] = y
				continue
			}
		}
		p.Res[0][i], p.Res[1][i] = full.Cb[i]-cb[i], full.Cr[i]-cr[i]
	}
	return p
}

// upsample returns chroma plane c under the Fancy filter, without residual.
func (p *Planes) upsample(c []uint8) []uint8 {
	out := make([]uint8, p.W*p.H)
	for y := 0; y < p.H; y++ {
		for x := 0; x < p.W; x++ {
			out[y*p.W+x] = p.fancyAt(c, x, y)
		}
	}
	return out
}

// acceptor tells which values of one chroma plane a pixel can take: for Cb (cb nil) those
// some Cr allows, for Cr those that the Cb found (cb) allows.
type acceptor struct {
	a     *alts
	u, cb []uint8 // the plane's 4:4:4 values; the Cb found
}

func (ac *acceptor) ok(i int, v uint8) bool {
	if v == ac.u[i] && (ac.cb == nil || ac.cb[i] == ac.a.full.Cb[i]) {
		return true
	}
	if ac.cb == nil {
		return ac.a.cbOK(i, v)
	}
	return ac.a.ok(i, ac.cb[i], v)
}

// altRadius is how far from a pixel's 4:4:4 chroma alts looks for other chroma that give
// the same RGB under some Y'.
const altRadius = 3

// alts knows, for each pixel of 4:4:4 planes, which chroma pairs near its own also give its
// RGB: a pixel's RGB has about four Y'CbCr preimages (the conversion's determinant), so
// the interpolated chroma need not be the one Split found.
type alts struct {
	full *Planes
	// Bits (dcb+altRadius)*8 + dcr+altRadius: (Cb + dcb, Cr + dcr) gives the pixel; bit
	// (dcb+altRadius)*8 + 7: that row of dcb is known; clampBit; bit 63: the pixel is known.
	mask []uint64
}

// clampBit marks a pixel with a clamped channel: chroma far away can give its RGB too.
const clampBit = 1 << 62

func newAlts(full *Planes) *alts { return &alts{full: full, mask: make([]uint64, len(full.Y))} }

// row returns pixel i's mask with row db known (db within altRadius).
func (a *alts) row(i, db int) uint64 {
	m := a.mask[i]
	at := uint((db + altRadius) * 8)
	if m&clampBit != 0 || m>>(at+7)&1 != 0 {
		return m
	}
	f := a.full
	r, g, b := f.Conv.RGB(f.Y[i], f.Cb[i], f.Cr[i])
	if m == 0 {
		m = 1 << 63
		if clamped(r) || clamped(g) || clamped(b) {
			m |= clampBit // ok and cbOK see to those
			a.mask[i] = m
			return m
		}
	}
	m |= 1 << (at + 7)
	cb := int(f.Cb[i]) + db
	for dr := -altRadius; dr <= altRadius; dr++ {
		cr := int(f.Cr[i]) + dr
		if cb >= 0 && cb <= 255 && cr >= 0 && cr <= 255 && f.Conv.unclampedHit(r, g, b, cb, cr) {
			m |= 1 << (at + uint(dr+altRadius))
		}
	}
	a.mask[i] = m
	return m
}

// cbOK tells whether some Cr lets pixel i have Cb v (for a clamping pixel: whether it may).
func (a *alts) cbOK(i int, v uint8) bool {
	d := int(v) - int(a.full.Cb[i])
	if d == 0 {
		return true
	}
	if d < -altRadius || d > altRadius {
		return a.row(i, 0)&clampBit != 0
	}
	m := a.row(i, d)
	return m&clampBit != 0 || m>>((d+altRadius)*8)&0x7f != 0
}

// ok tells whether pixel i can have chroma (cb, cr).
func (a *alts) ok(i int, cb, cr uint8) bool {
	db, dr := int(cb)-int(a.full.Cb[i]), int(cr)-int(a.full.Cr[i])
	if db == 0 && dr == 0 {
		return true
	}
	far := max(abs(db), abs(dr)) > altRadius
	m := a.row(i, max(-altRadius, min(altRadius, db)))
	switch {
	case m&clampBit != 0:
		f := a.full
		r, g, b := f.Conv.RGB(f.Y[i], f.Cb[i], f.Cr[i])
		_, ok := f.Conv.lumaFor(r, g, b, cb, cr)
		return ok
	case far:
		return false
	}
	return m>>((db+altRadius)*8+dr+altRadius)&1 != 0
}

// estimate sets c to an inverse of the filter's weights (9/16, 3/16, 3/16, 1/16 at 4:2:0;
// 3/4, 1/4 along one direction) for the full-resolution plane u: Jacobi iterations on each
// sample's block mean, which the filter's weights give in closed form (edge blocks cut by
// the image's border are taken as whole: the estimate need not be exact). other gives, for
// each sample, the direction of the other integer nearest its estimate: solveRow's second
// candidate.
func (p *Planes) estimate(c, u []uint8) (other []int8) {
	want := make([]float64, len(c)) // mean of u over each block
	n := make([]float64, len(c))
	for y := 0; y < p.H; y++ {
		row := (y / p.DY) * p.CW
		for x, v := range u[y*p.W : (y+1)*p.W] {
			want[row+x/p.DX] += float64(v)
			n[row+x/p.DX]++
		}
	}
	cur := make([]float64, len(c))
	for i := range want {
		want[i] /= n[i]
		cur[i] = want[i]
	}
	// A block's mean under the filter: its own sample with weight wc, each neighbour along a
	// subsampled direction wn, each diagonal one wd (4:2:0: 36, 6, 1 in 64ths).
	wc, wn, wd := 0.75, 0.125, 0.0
	if p.DX == 2 && p.DY == 2 {
		wc, wn, wd = 36.0/64, 6.0/64, 1.0/64
	}
	at := func(x, y int) float64 { return cur[clampTo(y, p.CH)*p.CW+clampTo(x, p.CW)] }
	next := make([]float64, len(c))
	for it := 0; it < 5; it++ {
		for y := 0; y < p.CH; y++ {
			for x := 0; x < p.CW; x++ {
				var nb, dg float64
				if p.DX == 2 {
					nb += at(x-1, y) + at(x+1, y)
				}
				if p.DY == 2 {
					nb += at(x, y-1) + at(x, y+1)
				}
				if wd != 0 {
					dg = at(x-1, y-1) + at(x+1, y-1) + at(x-1, y+1) + at(x+1, y+1)
				}
				i := y*p.CW + x
				got := wc*cur[i] + wn*nb + wd*dg
				next[i] = cur[i] + (want[i]-got)/wc
			}
		}
		cur, next = next, cur
	}
	other = make([]int8, len(c))
	for i, v := range cur {
		c[i] = uint8(min(255, max(0, math.Round(v))))
		if other[i] = 1; v < float64(c[i]) {
			other[i] = -1
		}
	}
	return other
}

// refine moves the samples of c to where accept takes more of the pixels: every stretch of
// a sample row that reaches refused pixels gets the best values given the rest (solveRow),
// once down the image. (Three passes over five candidates a sample, from two steps below to
// two above, left 0.056 against 0.069 bits per subpixel of residual on a 4-megapixel
// photograph, for five times the time.)
func (p *Planes) refine(c []uint8, other []int8, accept *acceptor) {
	const margin = 1 // samples on each side of a refused pixel's that a stretch takes in
	bad := make([]bool, p.CW)
	for k := 0; k < p.CH; k++ {
		y0, y1 := p.rowReach(k)
		clear(bad)
		any := false
		for y := y0; y < y1; y++ {
			for x := 0; x < p.W; x++ {
				if !accept.ok(y*p.W+x, p.fancyAt(c, x, y)) {
					s := x / p.DX
					for j := max(0, s-margin); j <= min(p.CW-1, s+margin); j++ {
						bad[j] = true
					}
					any = true
				}
			}
		}
		for c0 := 0; any && c0 < p.CW; c0++ {
			if !bad[c0] {
				continue
			}
			c1 := c0
			for c1+1 < p.CW && bad[c1+1] {
				c1++
			}
			p.solveRow(c, other, k, y0, y1, c0, c1, accept)
			c0 = c1
		}
	}
}

// rowReach returns the pixel rows that sample row k reaches.
func (p *Planes) rowReach(k int) (y0, y1 int) {
	y0, y1 = p.pixelSpan(k, p.H, p.DY, p.CH)
	if k+1 < p.CH {
		_, y1 = p.pixelSpan(k+1, p.H, p.DY, p.CH)
	}
	return y0, y1
}

// refused counts the pixels of rows y0..y1-1, columns x0..x1-1 that accept refuses.
func (p *Planes) refused(c []uint8, accept *acceptor, y0, y1, x0, x1 int) int {
	n := 0
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			if !accept.ok(y*p.W+x, p.fancyAt(c, x, y)) {
				n++
			}
		}
	}
	return n
}

// solveRow sets samples c0..c1 of row k of c to the values (each its own or the other
// integer nearest its estimate, other) that leave the fewest refused pixels in rows
// y0..y1-1, everything else fixed: along the row each pixel reaches two neighbouring columns
// at most, so the stretch is a chain that dynamic programming solves exactly. It returns how
// many pixels stay refused.
func (p *Planes) solveRow(c []uint8, other []int8, k, y0, y1, c0, c1 int, accept *acceptor) int {
	const nv = 2
	row := c[k*p.CW : (k+1)*p.CW]
	cur := slices.Clone(row)
	n := c1 - c0 + 1
	set := func(col, j int) bool {
		v := int(cur[col]) + j*int(other[k*p.CW+col])
		row[col] = uint8(v)
		return v >= 0 && v <= 255
	}
	cost := make([]int32, n*nv)
	back := make([]int8, n*nv)
	for col := c0; col <= c1; col++ {
		x0, x1 := p.pixelSpan(col, p.W, p.DX, p.CW)
		at := (col - c0) * nv
		for j := 0; j < nv; j++ {
			b := at + j
			cost[b], back[b] = math.MaxInt32, -1
			if !set(col, j) {
				continue
			}
			if col == c0 { // after a fixed sample, if any
				cost[b] = int32(p.refused(c, accept, y0, y1, x0, x1))
				continue
			}
			for i := 0; i < nv; i++ {
				prev := cost[at-nv+i]
				if prev == math.MaxInt32 || prev >= cost[b] || !set(col-1, i) {
					continue
				}
				if m := prev + int32(p.refused(c, accept, y0, y1, x0, x1)); m < cost[b] {
					cost[b], back[b] = m, int8(i)
				}
			}
		}
	}
	// The pixels after the stretch reach its last sample and the fixed one after it.
	end := (n - 1) * nv
	if c1+1 < p.CW {
		x0, x1 := p.pixelSpan(c1+1, p.W, p.DX, p.CW)
		for j := 0; j < nv; j++ {
			if cost[end+j] != math.MaxInt32 && set(c1, j) {
				cost[end+j] += int32(p.refused(c, accept, y0, y1, x0, x1))
			}
		}
	}
	j := 0
	for jj := 1; jj < nv; jj++ {
		if cost[end+jj] < cost[end+j] {
			j = jj
		}
	}
	left := int(cost[end+j])
	for col := c1; col >= c0; col-- {
		set(col, j)
		j = int(back[(col-c0)*nv+j])
	}
	return left
}

// pixelSpan returns the pixels (along one direction of n pixels, subsampled by d into ns
// samples) whose highest sample is k: under the Fancy filters a pixel reaches its own
// sample and, at a subsampled direction's odd pixels, the next one.
func (p *Planes) pixelSpan(k, n, d, ns int) (lo, hi int) {
	if d == 1 {
		return k, k + 1
	}
	lo, hi = max(0, 2*k-1), min(n, 2*k+1)
	if k == ns-1 {
		hi = n
	}
	return lo, hi
}

// unclampedHit tells whether some Y' turns chroma (cb, cr) into (r, g, b), a pixel that
// clamps no channel.
func (c Conv) unclampedHit(r, g, b uint8, cb, cr int) bool {
	if c == LibJPEG { // each channel is Y' plus a chroma term: R fixes Y'
		cb1, cr1 := cb-128, cr-128
		y := int(r) - (91881*cr1+32768)>>16
		return y >= 0 && y <= 255 && int(g) == y+(-22554*cb1-46802*cr1+32768)>>16 && int(b) == y+(116130*cb1+32768)>>16
	}
	// R's estimate of Y' is off by rounding only.
	e := c.lumaEst(0, r, uint8(cb), uint8(cr))
	for y := max(0, e-1); y <= min(255, e+1); y++ {
		if rr, gg, bb := c.RGB(uint8(y), uint8(cb), uint8(cr)); rr == r && gg == g && bb == b {
			return true
		}
	}
	return false
}

// residualShare is the share of pixels whose chroma the residual corrects.
func (p *Planes) residualShare() float64 {
	if p.Res[0] == nil {
		return 0
	}
	n := 0
	for i := range p.Res[0] {
		if p.Res[0][i] != 0 || p.Res[1][i] != 0 {
			n++
		}
	}
	return float64(n) / float64(len(p.Res[0]))
}

// bandRows is the height of the band of rows that FancyRatio and the encoder judge an image
// on: enough pixels to tell, few enough to cost little.
const bandRows = 128

// Band returns a copy of the 4:4:4 planes p's middle band of rows (all of p if it is
// small), starting at an even row: what the choices about the whole image look at.
func (p *Planes) Band() *Planes {
	y0, y1 := 0, p.H
	if p.H >= 2*bandRows {
		y0 = (p.H/2 - bandRows/2) &^ 1
		y1 = y0 + bandRows
	}
	b := New(p.W, y1-y0, Ratio{1, 1}, p.Conv)
	copy(b.Y, p.Y[y0*p.W:y1*p.W])
	copy(b.Cb, p.Cb[y0*p.W:y1*p.W])
	copy(b.Cr, p.Cr[y0*p.W:y1*p.W])
	return b
}

// FancyRatio returns the subsampling whose Fancy filter best explains the chroma of band,
// 4:4:4 planes of a conversion with such filters (an image's Band), judged by the estimate
// alone; false if none explains it (at most 30% of the pixels left over). A 4:4:4 original
// with smooth chroma can look subsampled too: whether coding it that way pays is the
// caller's to judge.
func FancyRatio(band *Planes) (Ratio, bool) {
	if band.Ratio != (Ratio{1, 1}) {
		return Ratio{}, false
	}
	best, bestMiss := Ratio{}, 0.3*float64(2*band.W*band.H)
	for _, r := range Ratios {
		if !HasFilter(band.Conv, r, Fancy) {
			continue
		}
		p := New(band.W, band.H, r, band.Conv)
		p.Filter = Fancy
		if p.repeats() {
			continue
		}
		miss := 0
		for _, pl := range [...][2][]uint8{{p.Cb, band.Cb}, {p.Cr, band.Cr}} {
			p.estimate(pl[0], pl[1])
			for y := 0; y < p.H; y++ {
				for x := 0; x < p.W; x++ {
					if p.fancyAt(pl[0], x, y) != pl[1][y*p.W+x] {
						miss++
					}
				}
			}
		}
		if float64(miss) < bestMiss {
			best, bestMiss = r, float64(miss)
		}
	}
	return best, best != Ratio{}
}
