package vae

import "github.com/bitswap-codec/bitswap/imageio"

// Patches and their context are cut by the functions here for the trainer (vae/data, from
// its RGB images) and the coders (from imageio.Image planes) alike, so that the model is
// trained on exactly the bytes it later codes.

// PutPatch writes the crop at (x0, y0) of planes (the R, G and B planes of a w x h image,
// holding 8-bit values) as patch b of the planar batch x ([3][B][32][32]), cut by
// imageio.Crop: edge replication past the image's right or bottom edge, mirrored rows with
// flip.
func PutPatch[S uint8 | uint16](x []uint8, B, b int, planes [][]S, w, h, x0, y0 int, flip bool) {
	const P = PatchSize * PatchSize
	imageio.Crop(x[b*P:], B*P, planes[:3], w, h, x0, y0, flip)
}

// PutContext writes the context of the crop at (x0, y0) of planes (as for PutPatch) into dst
// (CtxLen bytes) and returns its Has flags: those of want, less CtxUp when y0 < 2 and
// CtxLeft when x0 < 2. Only samples of the image are read: a crop at the right or bottom
// edge gets the rows above over its columns inside the image and the columns to the left
// over its rows inside the image; the rest of dst is 0.
func PutContext[S uint8 | uint16](dst []uint8, planes [][]S, w, h, x0, y0 int, want uint8) uint8 {
	clear(dst[:CtxLen])
	has := want & (CtxUp | CtxLeft)
	if y0 < 2 {
		has &^= CtxUp
	}
	if x0 < 2 {
		has &^= CtxLeft
	}
	vw, vh := min(PatchSize, w-x0), min(PatchSize, h-y0)
	for c, pl := range planes[:3] {
		d := dst[c*CtxPlane : (c+1)*CtxPlane]
		if has&CtxUp != 0 {
			for r := 0; r < 2; r++ {
				o := (y0-2+r)*w + x0
				for x, v := range pl[o : o+vw] {
					d[r*PatchSize+x] = uint8(v)
				}
			}
		}
		if has&CtxLeft != 0 {
			for y := 0; y < vh; y++ {
				o := (y0+y)*w + x0 - 2
				d[CtxLeftOffset+2*y] = uint8(pl[o])
				d[CtxLeftOffset+2*y+1] = uint8(pl[o+1])
			}
		}
	}
	return has
}

// ChromaRepeats returns the repetition flags of the R, G, B planes of a w x h image: RepX if
// G and B repeat over every horizontal pair and R does not, RepY likewise vertically (an
// image enlarged by repetition repeats all three and is not Y'CbCr planes).
func ChromaRepeats(planes [][]uint8, w, h int) uint8 {
	rep := uint8(0)
	if pairsEqual(planes[1], w, h, 1, 0) && pairsEqual(planes[2], w, h, 1, 0) && !pairsEqual(planes[0], w, h, 1, 0) {
		rep |= RepX
	}
	if pairsEqual(planes[1], w, h, 0, 1) && pairsEqual(planes[2], w, h, 0, 1) && !pairsEqual(planes[0], w, h, 0, 1) {
		rep |= RepY
	}
	return rep
}

// pairsEqual reports whether the w x h plane p holds equal values at (x, y) and (x+dx, y+dy)
// for every even x (dx = 1) or even y (dy = 1) whose pair lies inside the plane.
func pairsEqual(p []uint8, w, h, dx, dy int) bool {
	for y := 0; y+dy < h; y += 1 + dy {
		for x := 0; x+dx < w; x += 1 + dx {
			if p[y*w+x] != p[(y+dy)*w+x+dx] {
				return false
			}
		}
	}
	return true
}

// chromaCopy reports whether, under the repetition flags rep, the chroma of sub-position k
// (pixel (k/2, k%2) of each 2x2 block) is a copy of that of a sub-position coded before it
// (subOrder): the first of a repeated group is coded, the rest are copies.
func chromaCopy(rep uint8, k int) bool {
	for _, e := range subOrder {
		if e == k {
			return false
		}
		sameRow, sameCol := e/2 == k/2, e%2 == k%2
		if (sameRow || rep&RepY != 0) && (sameCol || rep&RepX != 0) {
			return true
		}
	}
	return false
}
