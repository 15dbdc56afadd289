package bsw_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/bitswap-codec/bitswap/bsw"
	"github.com/bitswap-codec/bitswap/imageio"
)

// randomPlanar returns a w x h image of color type c and depth d with random samples.
func randomPlanar(c imageio.ColorType, d, w, h int, seed uint64) *imageio.Image {
	img := imageio.New(w, h, c, d)
	rng := rand.New(rand.NewPCG(seed, 9))
	for _, p := range img.Planes {
		for i := range p {
			p[i] = uint16(rng.IntN(1 << d))
		}
	}
	return img
}

func encodeImage(t *testing.T, img *imageio.Image, o *bsw.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := bsw.EncodeImage(&buf, img, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestEncodeImage: EncodeImage stores every color type and depth as it is, DecodeImage gives
// it back exactly, and Encode is EncodeImage of the converted pixels (the same file).
func TestEncodeImage(t *testing.T) {
	fallback := &bsw.Options{Coder: "fallback"}
	for i, k := range kinds {
		t.Run(k.String(), func(t *testing.T) {
			img := randomPlanar(k.color, k.depth, 21, 13, uint64(i))
			data := encodeImage(t, img, fallback)
			if h := header(t, data); h.Color != k.color || h.Depth != k.depth {
				t.Fatalf("stored as %v/%d", h.Color, h.Depth)
			}
			got, err := bsw.DecodeImage(bytes.NewReader(data), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !imageio.Equal(got, img) {
				t.Fatal("decoded samples differ")
			}
			m, err := bsw.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(encode(t, m, fallback), data) {
				t.Fatal("Encode of the decoded image.Image makes another file")
			}
		})
	}
	// What Encode cannot tell from an image.Image: gray pixels in RGB planes, an opaque
	// alpha plane. EncodeImage keeps both.
	for _, c := range []imageio.ColorType{imageio.RGB, imageio.RGBA} {
		img := imageio.New(9, 7, c, 8)
		for i := range img.Planes[0] {
			for p := range 3 {
				img.Planes[p][i] = uint16(i)
			}
			if c == imageio.RGBA {
				img.Planes[3][i] = 255
			}
		}
		data := encodeImage(t, img, fallback)
		if h := header(t, data); h.Color != c {
			t.Errorf("%v image of gray pixels stored as %v", c, h.Color)
		}
	}
}

// TestEncodeImageErrors: what EncodeImage refuses, writing nothing.
func TestEncodeImageErrors(t *testing.T) {
	img := randomPlanar(imageio.RGB, 8, 40, 30, 1)
	bad := randomPlanar(imageio.RGB, 8, 40, 30, 1)
	bad.Planes = bad.Planes[:2]
	for _, c := range []struct {
		name string
		img  *imageio.Image
		o    *bsw.Options
		want error
	}{
		{"coder", img, &bsw.Options{Coder: "png"}, bsw.ErrUnknownCoder},
		{"too large", img, &bsw.Options{MaxPixels: 100}, bsw.ErrTooLarge},
		{"invalid", bad, nil, imageio.ErrInvalid},
	} {
		var buf bytes.Buffer
		if err := bsw.EncodeImage(&buf, c.img, c.o); !errors.Is(err, c.want) || buf.Len() != 0 {
			t.Errorf("%s: %v (%d bytes written); want %v", c.name, err, buf.Len(), c.want)
		}
	}
}

// TestCheckCoder: the coders of this build pass, others fail as Encode would.
func TestCheckCoder(t *testing.T) {
	for _, name := range append(bsw.Coders(), "") {
		if err := bsw.CheckCoder(name); err != nil {
			t.Errorf("CheckCoder(%q): %v", name, err)
		}
	}
	if got := bsw.Coders(); len(got) != 3 {
		t.Errorf("Coders() = %q, want bbans, bitswap, fallback", got)
	}
	if err := bsw.CheckCoder("zip"); !errors.Is(err, bsw.ErrUnknownCoder) {
		t.Errorf("CheckCoder(zip): %v", err)
	}
}

// TestWorkers: the number of goroutines does not change the file.
func TestWorkers(t *testing.T) {
	img := loadTestdata(t, "picos-100x75.png")
	one := encodeImage(t, img, &bsw.Options{Coder: "bitswap", Workers: 1})
	two := encodeImage(t, img, &bsw.Options{Coder: "bitswap", Workers: 2})
	if !bytes.Equal(one, two) {
		t.Fatal("Workers 1 and 2 make different files")
	}
	got, err := bsw.DecodeImage(bytes.NewReader(one), &bsw.Options{Workers: 2})
	if err != nil || !imageio.Equal(got, img) {
		t.Fatalf("decoding with 2 workers: %v", err)
	}
}
