package data

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/bitswap-codec/bitswap/vae"
)

// TestLoadDirPlanes: LoadDir knows Y'CbCr planes by their names (datatool ycc's *.ycc.png)
// and gives them the repetition flags of their chroma; the same pixels under another name
// are RGB.
func TestLoadDirPlanes(t *testing.T) {
	dir := t.TempDir()
	im := image.NewNRGBA(image.Rect(0, 0, 40, 34))
	for y := 0; y < 34; y++ {
		for x := 0; x < 40; x++ {
			im.Set(x, y, color.NRGBA{uint8(x*7 + y), uint8(x / 2 * 9), uint8(y / 2 * 5), 255}) // chroma 2x2
		}
	}
	for _, name := range []string{"a.ycc.png", "b.png"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, im); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	imgs, err := LoadDir(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 2 || !imgs[0].YCC || imgs[0].Flags != vae.RepX|vae.RepY || imgs[1].YCC || imgs[1].Flags != 0 {
		t.Fatalf("loaded %s (planes %v, flags %d), %s (planes %v, flags %d)", imgs[0].Name, imgs[0].YCC, imgs[0].Flags, imgs[1].Name, imgs[1].YCC, imgs[1].Flags)
	}
}

// TestMarkChromaKnown: only Y'CbCr planes get their chroma known.
func TestMarkChromaKnown(t *testing.T) {
	planes, rgb := &RGB{YCC: true, Flags: vae.RepX}, &RGB{}
	MarkChromaKnown([]*RGB{planes, rgb})
	if planes.Flags != vae.RepX|vae.ChromaKnown || rgb.Flags != 0 {
		t.Fatalf("flags %d (planes), %d (RGB)", planes.Flags, rgb.Flags)
	}
}
