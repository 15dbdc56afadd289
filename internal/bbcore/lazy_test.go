package bbcore

import (
	"testing"

	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/ycc"
	"github.com/bitswap-codec/bitswap/vae"
)

// TestModelLoadedOnlyWhenNeeded: a CodecCoder parses its model only for an image the model
// may code; gray images, decoded JPEGs (mode 2) and the model id need only the weights file.
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
	p := ycc.New(64, 48, ycc.Ratio{DX: 2, DY: 2})
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
	noise := imageio.New(64, 48, imageio.RGB, 8)
	for c, pl := range noise.Planes {
		for i := range pl {
			pl[i] = uint16((i*(c+5) + i*i) % 251)
		}
	}
	if _, err := cc.Encode(noise, nil); err != nil {
		t.Fatal(err)
	}
	if loads != 1 {
		t.Fatalf("model loaded %d times after an RGB image, want 1", loads)
	}
}
