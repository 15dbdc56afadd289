//go:build nodynamic

package bench

import (
	"bytes"
	"testing"

	"github.com/gen2brain/webp"
)

func TestGen2brainBaselines(t *testing.T) {
	for _, slow := range []bool{false, true} {
		cs, err := Select(Baselines(Settings{Slow: slow}), []string{"webp,jxl"})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 2 {
			t.Fatalf("slow=%v: %d codecs", slow, len(cs))
		}
		want := map[bool][2]string{
			false: {"webp lossless -z 6 (gen2brain/webp)", "jpeg xl lossless -e 7 (gen2brain/jpegxl)"},
			true:  {"webp lossless -z 9 (gen2brain/webp)", "jpeg xl lossless -e 9 (gen2brain/jpegxl)"},
		}[slow]
		if cs[0].Label() != want[0] || cs[1].Label() != want[1] {
			t.Errorf("labels %q %q", cs[0].Label(), cs[1].Label())
		}
		if slow {
			// The slow settings are tested for labels only: they are far slower.
			continue
		}
		if testing.Short() {
			cs = cs[:1] // JPEG XL's WASM compilation takes seconds
		}
		var in []Input
		for ch := 1; ch <= 4; ch++ {
			in = append(in, memInput("img", testImage(40, 24, ch, int64(10+ch))))
		}
		rep := run(t, in, Options{Codecs: cs, Uncropped: true})
		if len(rep.Results) != 4*len(cs) {
			t.Fatalf("%d results", len(rep.Results))
		}
		for _, r := range rep.Results {
			if !r.OK() {
				t.Errorf("%s, %d channels: %s", r.Codec, r.Channels, r.Err)
			}
			if r.Bytes < 20 {
				t.Errorf("%s: implausible size %d", r.Codec, r.Bytes)
			}
		}
	}
}

// TestWebPExactUnderTransparency checks that the WebP row keeps the color of fully transparent
// pixels (exact mode), which a pixel-exact comparison of RGBA images requires.
func TestWebPExactUnderTransparency(t *testing.T) {
	img := testImage(40, 24, 4, 3)
	transparent := 0
	for i := 3; i < len(img.Pix); i += 4 {
		if img.Pix[i] == 0 && (img.Pix[i-3] != 0 || img.Pix[i-2] != 0) {
			transparent++
		}
	}
	if transparent == 0 {
		t.Fatal("test image has no colored transparent pixels")
	}
	c := webpCodec{method: 4, quality: 75, level: 6}
	data, err := c.Encode(img)
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Decode(data, img.Shape())
	if err != nil {
		t.Fatal(err)
	}
	if err := Equal(img, m); err != nil {
		t.Fatal(err)
	}
	// Without exact, libwebp is free to change the color of transparent pixels; the check
	// must notice (if this encoder happens to keep them, the comparison still has to hold).
	var b bytes.Buffer
	if err := webp.Encode(&b, toNRGBA(img), webp.Options{Lossless: true, Method: 4, Quality: 75}); err != nil {
		t.Fatal(err)
	}
	m2, err := c.Decode(b.Bytes(), img.Shape())
	if err != nil {
		t.Fatal(err)
	}
	if Equal(img, m2) == nil {
		t.Log("non-exact WebP happened to keep transparent colors")
	}
}

func TestGen2brainNotDynamic(t *testing.T) {
	for _, c := range testBaselines(t) {
		if p, ok := c.(preparer); ok {
			if err := p.prepare(); err != nil {
				t.Errorf("%s: %v", c.Key(), err)
			}
		}
	}
}
