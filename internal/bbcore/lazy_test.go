package bbcore

import (
	"testing"

	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/ycc"
	"github.com/bitswap-codec/bitswap/vae"
)

// TestModelLoadedOnlyWhenNeeded: a CodecCoder parses its model only for an image the model
// may code; gray images, decoded JPEGs (mode 2), RGB images too small to try the model on
// (minModelPatches) and the model id need only the weights file.
func TestModelLoadedOnlyWhenNeeded(t *testing.T) {
	m := engineTestModel(t)
	loads := 0
	cc := NewCodecCoder(0, "lazy-test", testScheme{}, m.MarshalWeights, func() (*vae.Model, error) {
		loads++
		return m, nil
	})
	if cc.ModelID() != vae.ModelID(m.MarshalWeights()) {
		t.Fatal("wrong model id")
	}
	gray := imageio.New(40, 40, imageio.Gray, 8)
	p := ycc.New(64, 48, ycc.Ratio{DX: 2, DY: 2}, ycc.Go)
	for i := range p.Y {
		p.Y[i] = uint8(i * 7 % 251)
	}
	for i := range p.Cb {
		p.Cb[i], p.Cr[i] = uint8(100+i%40), uint8(140-i%30)
	}
	jpg := imageio.New(64, 48, imageio.RGB, 8)
	rgb := p.Merge()
	copy(jpg.Planes, rgb[:])
	for _, img := range []*imageio.Image{gray, jpg} {
		if _, err := cc.Encode(img, nil); err != nil {
			t.Fatal(err)
		}
	}
	if loads != 0 {
		t.Fatalf("model loaded %d times for a gray image and a decoded JPEG", loads)
	}
	noise := func(w, h int) *imageio.Image {
		img := imageio.New(w, h, imageio.RGB, 8)
		for c, pl := range img.Planes {
			for i := range pl {
				pl[i] = uint16((i*(c+5) + i*i) % 251)
			}
		}
		return img
	}
	side := imageio.PatchSize * 16 // 256 patches
	if 16*16 < minModelPatches || 16*15 >= minModelPatches {
		t.Fatalf("minModelPatches %d: the sizes below need changing", minModelPatches)
	}
	for _, c := range []struct {
		img   *imageio.Image
		loads int
	}{{noise(64, 48), 0}, {noise(side, side-imageio.PatchSize), 0}, {noise(side, side), 1}} {
		if _, err := cc.Encode(c.img, nil); err != nil {
			t.Fatal(err)
		}
		if loads != c.loads {
			t.Fatalf("model loaded %d times after a %dx%d RGB image, want %d", loads, c.img.Width, c.img.Height, c.loads)
		}
	}
}
