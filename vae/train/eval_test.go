package train

import (
	"math/rand/v2"
	"testing"

	"github.com/bitswap-codec/bitswap/fallback"
	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/vae/data"
)

// TestFallbackBPD: the fallback coder's score of Y'CbCr planes is that of Y' plus the chroma
// at the resolution its repetition gives (payload mode 2), that of Y' alone with
// ChromaKnown, and RGB images are coded as three planes together; every image is cropped to
// multiples of 32.
func TestFallbackBPD(t *testing.T) {
	const W, H = 70, 40 // cropped to 64 x 32
	rng := rand.New(rand.NewPCG(2, 2))
	im := &data.RGB{Name: "x.ycc.png", W: W, H: H, Pix: make([]uint8, 3*W*H), YCC: true, Flags: vae.RepX | vae.RepY}
	sub := [2][]uint16{}
	for c := 0; c < 3; c++ {
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				v := uint8(x + y + rng.IntN(9))
				if c > 0 {
					v = uint8(100*c + (x/2)%5 + (y/2)%3) // repeated over 2x2
					if x < 64 && y < 32 && x%2 == 0 && y%2 == 0 {
						sub[c-1] = append(sub[c-1], uint16(v))
					}
				}
				im.Pix[(c*H+y)*W+x] = v
			}
		}
	}
	crop := func(c int) []uint16 {
		p := make([]uint16, 0, 64*32)
		for y := 0; y < 32; y++ {
			for x := 0; x < 64; x++ {
				p = append(p, uint16(im.Pix[(c*H+y)*W+x]))
			}
		}
		return p
	}
	size := func(planes [][]uint16, w, h int) float64 {
		b, err := fallback.Encode(nil, planes, w, h, 8)
		if err != nil {
			t.Fatal(err)
		}
		return float64(8*len(b)) / (3 * 64 * 32)
	}
	yBits := size([][]uint16{crop(0)}, 64, 32)
	if got, want := FallbackBPD(im), yBits+size([][]uint16{sub[0], sub[1]}, 32, 16); got != want {
		t.Errorf("4:2:0 planes: %v bits/subpixel, want %v", got, want)
	}
	im.Flags |= vae.ChromaKnown
	if got := FallbackBPD(im); got != yBits {
		t.Errorf("Y' alone: %v bits/subpixel, want %v", got, yBits)
	}
	im.YCC, im.Flags = false, 0
	if got, want := FallbackBPD(im), size([][]uint16{crop(0), crop(1), crop(2)}, 64, 32); got != want {
		t.Errorf("RGB: %v bits/subpixel, want %v", got, want)
	}
}
