package imageio

import (
	"fmt"
	"slices"
)

// PatchSize is the side of the square patches that the patch-based coders work on.
const PatchSize = 32

// PaddedSize returns w and h rounded up to multiples of PatchSize.
func PaddedSize(w, h int) (pw, ph int) {
	return (w + PatchSize - 1) / PatchSize * PatchSize, (h + PatchSize - 1) / PatchSize * PatchSize
}

// PadPlane returns the w x h plane src padded to PaddedSize(w, h) by edge replication: a
// padded sample takes the value of the nearest sample of src (the last column to the right,
// the last row below, the bottom-right sample in the corner). It writes into dst if dst has
// the capacity, and allocates otherwise.
func PadPlane(src []uint16, w, h int, dst []uint16) []uint16 {
	pw, ph := PaddedSize(w, h)
	if cap(dst) < pw*ph {
		dst = make([]uint16, pw*ph)
	}
	dst = dst[:pw*ph]
	for y := 0; y < ph; y++ {
		sy := min(y, h-1)
		row := dst[y*pw : (y+1)*pw]
		copy(row, src[sy*w:sy*w+w])
		last := src[sy*w+w-1]
		for x := w; x < pw; x++ {
			row[x] = last
		}
	}
	return dst
}

// Grid is the grid of PatchSize x PatchSize patches covering a Width x Height image padded
// to PaddedSize. Patches are numbered in raster order: patch p is in column p % Cols and row
// p / Cols, so the top row of patches comes first, left to right.
type Grid struct {
	Width, Height int // the image size (unpadded)
	Cols, Rows    int // patches across and down
}

// NewGrid returns the patch grid of a w x h image.
func NewGrid(w, h int) Grid {
	pw, ph := PaddedSize(w, h)
	return Grid{Width: w, Height: h, Cols: pw / PatchSize, Rows: ph / PatchSize}
}

// Len returns the number of patches.
func (g Grid) Len() int { return g.Cols * g.Rows }

// Origin returns the image coordinates of the top-left sample of patch p.
func (g Grid) Origin(p int) (x0, y0 int) {
	return p % g.Cols * PatchSize, p / g.Cols * PatchSize
}

// Valid returns the size of the part of patch p that lies inside the image: the samples
// (x, y) of the patch with x < vw and y < vh are real, the others are padding.
func (g Grid) Valid(p int) (vw, vh int) {
	x0, y0 := g.Origin(p)
	return min(PatchSize, g.Width-x0), min(PatchSize, g.Height-y0)
}

func (g Grid) check(planes [][]uint16, p int, buf []uint16, what string) {
	if p < 0 || p >= g.Len() {
		panic(fmt.Sprintf("imageio: patch %d out of range [0,%d)", p, g.Len()))
	}
	if len(buf) < len(planes)*PatchSize*PatchSize {
		panic(fmt.Sprintf("imageio: %s buffer of %d for %d planes", what, len(buf), len(planes)))
	}
}

// Extract copies patch p of the given planes (each Width x Height) into dst, plane after
// plane, each plane PatchSize rows of PatchSize samples; dst needs
// len(planes)*PatchSize*PatchSize samples. Samples outside the image are filled by edge
// replication, exactly as PadPlane does. It does not allocate.
func (g Grid) Extract(planes [][]uint16, p int, dst []uint16) {
	g.check(planes, p, dst, "destination")
	x0, y0 := g.Origin(p)
	Crop(dst, PatchSize*PatchSize, planes, g.Width, g.Height, x0, y0, false)
}

// Crop copies the PatchSize x PatchSize crop at (x0, y0) of planes (each w x h samples, the
// crop's top-left sample inside) into dst, plane c from dst[c*stride], rows of PatchSize
// samples. Samples past the right or bottom edge are filled by edge replication, exactly as
// PadPlane does; with flip every row is mirrored (the trainer's augmentation). It is the one
// place where patches are cut, for the coders and the trainer alike, so that the model trains
// on the same bytes it codes. It does not allocate.
func Crop[S, D uint8 | uint16](dst []D, stride int, planes [][]S, w, h, x0, y0 int, flip bool) {
	vw, vh := min(PatchSize, w-x0), min(PatchSize, h-y0)
	for c, pl := range planes {
		out := dst[c*stride : c*stride+PatchSize*PatchSize]
		for y := 0; y < PatchSize; y++ {
			sy := y0 + min(y, vh-1)
			row := out[y*PatchSize : (y+1)*PatchSize]
			for x, v := range pl[sy*w+x0 : sy*w+x0+vw] {
				row[x] = D(v)
			}
			for x := vw; x < PatchSize; x++ {
				row[x] = row[vw-1]
			}
			if flip {
				slices.Reverse(row)
			}
		}
	}
}

// Insert copies the valid region of patch p from src (laid out as Extract writes it) into
// the planes; padding samples in src are ignored. It does not allocate.
func (g Grid) Insert(planes [][]uint16, p int, src []uint16) {
	g.check(planes, p, src, "source")
	x0, y0 := g.Origin(p)
	vw, vh := g.Valid(p)
	for c, pl := range planes {
		in := src[c*PatchSize*PatchSize : (c+1)*PatchSize*PatchSize]
		for y := 0; y < vh; y++ {
			copy(pl[(y0+y)*g.Width+x0:(y0+y)*g.Width+x0+vw], in[y*PatchSize:y*PatchSize+vw])
		}
	}
}
