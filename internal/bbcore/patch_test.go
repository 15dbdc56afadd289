package bbcore

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/vae/data"
)

// TestTrainerPatchesAreCoderPatches: on an image whose sides are multiples of 32 with every
// patch VAE coded, the trainer's batch of the aligned patches (data.BatchOf: pixels, context
// and its flags) is byte for byte the coders' (patchBatch), so the model is trained on what
// it codes. The image has alpha, which neither may take for a colour.
func TestTrainerPatchesAreCoderPatches(t *testing.T) {
	const w, h = 4 * vae.PatchSize, 3 * vae.PatchSize
	rng := rand.New(rand.NewPCG(5, 6))
	img := imageio.New(w, h, imageio.RGBA, 8)
	rgb := &data.RGB{W: w, H: h, Pix: make([]uint8, 3*w*h)}
	for c, pl := range img.Planes {
		for i := range pl {
			pl[i] = uint16(rng.IntN(256))
			if c < 3 {
				rgb.Pix[c*w*h+i] = uint8(pl[i])
			}
		}
	}
	grid := imageio.NewGrid(w, h)
	ps := allPatches(grid.Len())
	x, cx := patchBatch(img, grid, make([]bool, grid.Len()), ps)
	imgs := []*data.RGB{rgb}
	bt := data.BatchOf(imgs, data.GridPatches(imgs, 1, 0))
	if bt.B != len(ps) {
		t.Fatalf("trainer has %d patches, coder %d", bt.B, len(ps))
	}
	if !bytes.Equal(bt.X, x) {
		t.Error("the trainer's patch pixels differ from the coder's")
	}
	if !bytes.Equal(bt.Ctx.Has, cx.Has) {
		t.Errorf("context flags: trainer %v, coder %v", bt.Ctx.Has, cx.Has)
	}
	if !bytes.Equal(bt.Ctx.Pix, cx.Pix) {
		t.Error("the trainer's context bytes differ from the coder's")
	}
	if cx.Has[0] != 0 || cx.Has[len(ps)-1] != vae.CtxUp|vae.CtxLeft {
		t.Errorf("context flags %v: none at the top left, both inside", cx.Has)
	}
}
