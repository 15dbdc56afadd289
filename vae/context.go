package vae

// Context across patches (Config.Context). A patch's pixel model may condition on pixels
// outside the patch that a decoder going through the image's patches in raster order has
// already decoded: the two pixel rows just above the patch (from the patch above) and the two
// columns just left of it (from the patch to the left). Either may be missing (the image's
// top row and left column of patches, or a neighbour the decoder has not decoded yet); the
// Has flags say which are there, and the model has mask channels for them. Context enters
// only the pixel stages after stage 0: their hints use the pixels outside the patch as
// interpolation taps (so a border pixel is interpolated like an inner one), and their
// networks see the row above and the column to the left on the patch border.

// Context layout: per patch CtxLen bytes, per colour c a block of CtxPlane bytes at
// c*CtxPlane: the rows above at r*32 + x (r 0: the row two above the patch, 1: the row just
// above), then the columns to the left at CtxLeftOffset + 2*y + j (j 0: two left, 1: just
// left).
const (
	CtxPlane      = 4 * PatchSize
	CtxLen        = 3 * CtxPlane
	CtxLeftOffset = 2 * PatchSize
)

// Has flags of a patch's context: which sides of it are there and what else the coder
// knows of the patch besides its pixels.
const (
	CtxUp   = 1 // the two rows above are there
	CtxLeft = 2 // the two columns to the left are there
	// RepX and RepY: the patch's G and B (the Cb and Cr of Y'CbCr planes) are copies over
	// each horizontal (RepX) or vertical (RepY) pair of pixels starting at even coordinates,
	// as subsampled chroma spread by repetition is (datatool ycc, payload mode 2's planes).
	// The copies carry no information: the loss leaves them out (chromaCopy), as a coder of
	// such planes copies them instead of coding them. See ChromaRepeats. (Training and
	// measurements only so far: no coder sets them, and bbcore.Step codes every colour.)
	RepX = 4
	RepY = 8
	// ChromaKnown: the patch's G and B (Cb and Cr) are known before its R (Y'): coded on
	// their own, as planes, before the model codes Y' conditioned on them. The loss then
	// takes R alone (its marginal given the earlier stages' pixels, all three colours).
	ChromaKnown = 16
)

// Context is the context of a batch of n patches: Pix[b*CtxLen:] for patch b (see CtxLen),
// Has[b] its flags. Values outside what the flags say are ignored.
type Context struct {
	Pix []uint8
	Has []uint8
}

// NewContext allocates the context of n patches (nothing there).
func NewContext(n int) *Context {
	return &Context{Pix: make([]uint8, n*CtxLen), Has: make([]uint8, n)}
}

// Patch returns patch b's bytes.
func (c *Context) Patch(b int) []uint8 { return c.Pix[b*CtxLen : (b+1)*CtxLen] }

// ctxChannels is the number of context channels of a stage network's input: per colour the
// row just above at both column parities (squeezed row 0 only), per colour the column just to
// the left at both row parities (squeezed column 0 only), and the two Has masks (on the
// border row and column).
const ctxChannels = 14

// sqCtx is a batch's context in squeezed space, [-1, 1] values: up[(ch*B+b)*16 + x] is
// squeezed channel ch (4c + sub-position) of squeezed row -1 at column x, left[(ch*B+b)*16 +
// y] the same of squeezed column -1 at row y; samples outside the patch's valid part (or
// not there) are 0.
type sqCtx struct {
	B        int
	up, left []float32
	has      []uint8
	// chroma[b]: patch b's G and B are known before its R (ChromaKnown), all of them
	// entering its stage inputs.
	chroma []bool
}

// chromaKnown reports whether patch b's chroma is known (nil q: no context, not known).
func (q *sqCtx) chromaKnown(b int) bool { return q != nil && b < len(q.chroma) && q.chroma[b] }

// squeeze sets q to the squeezed context of c for B patches whose valid parts are valid
// (nil: all full). A nil c gives no context.
func (q *sqCtx) squeeze(c *Context, B int, valid [][2]int) {
	q.B = B
	n := 12 * B * LatentHW
	if cap(q.up) < n {
		q.up, q.left = make([]float32, n), make([]float32, n)
	}
	q.up, q.left = q.up[:n], q.left[:n]
	if cap(q.has) < B {
		q.has, q.chroma = make([]uint8, B), make([]bool, B)
	}
	q.has, q.chroma = q.has[:B], q.chroma[:B]
	clear(q.up)
	clear(q.left)
	clear(q.has)
	clear(q.chroma)
	if c == nil {
		return
	}
	for b := 0; b < B; b++ {
		h := c.Has[b] & (CtxUp | CtxLeft)
		q.has[b] = h
		q.chroma[b] = c.Has[b]&ChromaKnown != 0
		vw, vh := PatchSize, PatchSize
		if valid != nil {
			vw, vh = valid[b][0], valid[b][1]
		}
		px := c.Patch(b)
		for col := 0; col < 3; col++ {
			p := px[col*CtxPlane:]
			for k := 0; k < 4; k++ {
				i, j := k/2, k%2
				o := ((4*col+k)*B + b) * LatentHW
				for t := 0; t < LatentHW; t++ {
					if h&CtxUp != 0 && 2*t+j < vw {
						q.up[o+t] = float32(p[i*PatchSize+2*t+j])/127.5 - 1
					}
					if h&CtxLeft != 0 && 2*t+i < vh {
						q.left[o+t] = float32(p[CtxLeftOffset+2*(2*t+i)+j])/127.5 - 1
					}
				}
			}
		}
	}
}

// at returns the value of squeezed channel ch at squeezed position (y, x) of patch b when
// it lies in the context (row -1 or column -1, not the corner) and is there.
func (q *sqCtx) at(ch, b, y, x int) (float64, bool) {
	if q == nil {
		return 0, false
	}
	h := q.has[b]
	switch {
	case y == -1 && uint(x) < LatentHW && h&CtxUp != 0:
		return float64(q.up[(ch*q.B+b)*LatentHW+x]), true
	case x == -1 && uint(y) < LatentHW && h&CtxLeft != 0:
		return float64(q.left[(ch*q.B+b)*LatentHW+y]), true
	}
	return 0, false
}

// channels writes the ctxChannels context channels of a stage input of B patches (dst,
// [14][B][16][16]); a nil q is no context.
func (q *sqCtx) channels(dst []float32, B int) {
	n := B * hw
	clear(dst[:ctxChannels*n])
	if q == nil {
		return
	}
	for b := 0; b < B; b++ {
		h := q.has[b]
		for col := 0; col < 3; col++ {
			for j := 0; j < 2; j++ {
				up := q.up[((4*col+2+j)*B+b)*LatentHW:]
				left := q.left[((4*col+2*j+1)*B+b)*LatentHW:]
				du := dst[(2*col+j)*n+b*hw:]
				dl := dst[(6+2*col+j)*n+b*hw:]
				for t := 0; t < LatentHW; t++ {
					du[t] = up[t]            // row 0
					dl[t*LatentHW] = left[t] // column 0
				}
			}
		}
		for t := 0; t < LatentHW; t++ {
			if h&CtxUp != 0 {
				dst[12*n+b*hw+t] = 1
			}
			if h&CtxLeft != 0 {
				dst[13*n+b*hw+t*LatentHW] = 1
			}
		}
	}
}
