package vae

import (
	"math"
	"testing"

	"github.com/bitswap-codec/bitswap/vae/nn"
)

func contextConfig() Config {
	return Config{Layers: 2, ZC: 2, Width: 8, BlocksInf: []int{1, 0}, BlocksGen: []int{1, 1}, InKernel: 3,
		PixelStages: DeepStages, StageBlocks: 1, StageSkip: true, StageHints: true, EdgeHints: true,
		PosChannels: true, Context: true}
}

// TestContextHints: on a flat patch whose row above is brighter, the hints of a stage with a
// tap in the row above (the fine row stage: (1,1) above) average it in on the top row only
// when the rows above are there; the context channels hold the row above on the border.
func TestContextHints(t *testing.T) {
	m, err := New(contextConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	S := m.Cfg.PixelStages
	s := S - 2 // sub-position 1: (0,0) left and right, (1,1) above and below
	if StageGroups(S, s)[0] != 1 {
		t.Fatalf("stage %d codes sub-position %d", s, StageGroups(S, s)[0])
	}
	bt := NewBatch(1)
	for i := range bt.X {
		bt.X[i] = 100
	}
	c := NewContext(1)
	for i := range c.Pix {
		c.Pix[i] = 200
	}
	xs := squeezedPatch(bt)
	feat := nn.NewTensor(m.Cfg.Width, 1, LatentHW, LatentHW)
	for _, has := range []uint8{0, CtxUp, CtxLeft, CtxUp | CtxLeft} {
		c.Has[0] = has
		var q sqCtx
		q.squeeze(c, 1, nil)
		var in nn.Tensor
		m.stageInput(s, feat, xs, &in, &q)
		W := feat.C
		plain := float32(100/127.5 - 1)
		withUp := float32((3*(100/127.5-1) + (200/127.5 - 1)) / 4)
		for y := 0; y < LatentHW; y++ {
			for xx := 0; xx < LatentHW; xx++ {
				got := in.Data[(W+hintMean)*hw+y*LatentHW+xx]
				want := plain
				if y == 0 && has&CtxUp != 0 {
					want = withUp
				}
				if xx == LatentHW-1 {
					continue // no (0,0) pixel to the right: three taps
				}
				if math.Abs(float64(got-want)) > 1e-6 {
					t.Fatalf("has %d: hint mean at (%d,%d) = %v, want %v", has, y, xx, got, want)
				}
			}
		}
		base := W + m.knownChannels(s) - ctxChannels
		up := in.Data[(base+0)*hw+5]             // R, even column, row 0
		below := in.Data[(base+0)*hw+LatentHW+5] // row 1: nothing
		left := in.Data[(base+6)*hw+5*LatentHW]  // R, even row, column 0
		mask := in.Data[(base+12)*hw+5] + in.Data[(base+13)*hw+5*LatentHW]
		wantUp, wantLeft := float32(0), float32(0)
		if has&CtxUp != 0 {
			wantUp = float32(200/127.5 - 1)
		}
		if has&CtxLeft != 0 {
			wantLeft = float32(200/127.5 - 1)
		}
		if up != wantUp || left != wantLeft || below != 0 || mask != float32(has&1+has>>1) {
			t.Fatalf("has %d: context channels up %v left %v below %v masks %v", has, up, left, below, mask)
		}
	}
}

// TestPutContext: the context holds the two rows above and the two columns to the left of
// the patch, only where the image has them and they are wanted.
func TestPutContext(t *testing.T) {
	const w, h = 70, 50
	pix := make([]uint8, 3*w*h)
	for i := range pix {
		pix[i] = uint8(i * 7)
	}
	const n = w * h
	planes := [][]uint8{pix[:n], pix[n : 2*n], pix[2*n:]}
	dst := make([]uint8, CtxLen)
	if has := PutContext(dst, planes, w, h, 1, 0, CtxUp|CtxLeft); has != 0 {
		t.Fatalf("at (1, 0): flags %d", has)
	}
	if has := PutContext(dst, planes, w, h, 20, 10, CtxLeft); has != CtxLeft {
		t.Fatalf("left only: flags %d", has)
	}
	if has := PutContext(dst, planes, w, h, 20, 10, CtxUp|CtxLeft); has != CtxUp|CtxLeft {
		t.Fatalf("flags %d", has)
	}
	for c := 0; c < 3; c++ {
		for r := 0; r < 2; r++ {
			for x := 0; x < PatchSize; x++ {
				if got, want := dst[c*CtxPlane+r*PatchSize+x], pix[c*n+(8+r)*w+20+x]; got != want {
					t.Fatalf("up c%d r%d x%d: %d, want %d", c, r, x, got, want)
				}
			}
		}
		for y := 0; y < PatchSize; y++ {
			for j := 0; j < 2; j++ {
				if got, want := dst[c*CtxPlane+2*PatchSize+2*y+j], pix[c*n+(10+y)*w+18+j]; got != want {
					t.Fatalf("left c%d y%d j%d: %d, want %d", c, y, j, got, want)
				}
			}
		}
	}
}
