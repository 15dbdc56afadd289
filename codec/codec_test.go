package codec

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
)

func synthImage(w, h int, ct imageio.ColorType, depth int, seed uint64) *imageio.Image {
	rng := rand.New(rand.NewPCG(seed, 3))
	img := imageio.New(w, h, ct, depth)
	maxv := 1<<depth - 1
	for c, p := range img.Planes {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := (x*5+y*3+c*17)*maxv/(5*w+3*h+60) + rng.IntN(5) - 2
				p[y*w+x] = uint16(max(0, min(maxv, v)))
			}
		}
	}
	return img
}

func TestRoundTripAllTypes(t *testing.T) {
	for _, ct := range []imageio.ColorType{imageio.Gray, imageio.GrayAlpha, imageio.RGB, imageio.RGBA} {
		for _, depth := range []int{8, 16} {
			for _, sz := range [][2]int{{1, 1}, {31, 33}, {64, 48}} {
				t.Run(fmt.Sprintf("%v/%d/%dx%d", ct, depth, sz[0], sz[1]), func(t *testing.T) {
					img := synthImage(sz[0], sz[1], ct, depth, uint64(depth))
					data, err := Encode(img, "fallback", nil)
					if err != nil {
						t.Fatal(err)
					}
					got, h, err := Decode(data, nil)
					if err != nil {
						t.Fatal(err)
					}
					if !imageio.Equal(got, img) || h.Coder != container.Fallback || h.PixelCRC != img.Checksum() {
						t.Fatal("round trip differs")
					}
					got2, _, err := DecodeFrom(bytes.NewReader(data), nil)
					if err != nil || !imageio.Equal(got2, img) {
						t.Fatalf("DecodeFrom: %v", err)
					}
				})
			}
		}
	}
}

func TestUnknownCoder(t *testing.T) {
	img := synthImage(4, 4, imageio.RGB, 8, 1)
	for _, name := range []string{"nope", "bitswap", "bbans"} {
		if _, err := Lookup(name); err == nil {
			continue // registered by another package linked into this test
		}
		_, err := Encode(img, name, nil)
		if !errors.Is(err, ErrUnknownCoder) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestMaxPixels(t *testing.T) {
	img := synthImage(20, 10, imageio.Gray, 8, 1)
	if _, err := Encode(img, "fallback", &Options{MaxPixels: 199}); !errors.Is(err, imageio.ErrTooLarge) {
		t.Errorf("encode above the limit: %v", err)
	}
	data, err := Encode(img, "fallback", &Options{MaxPixels: 200})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Decode(data, &Options{MaxPixels: 199}); !errors.Is(err, container.ErrTooLarge) {
		t.Errorf("decode above the limit: %v", err)
	}
}

// Every damaged file must fail with an error: never a wrong image.
func TestDamagedFiles(t *testing.T) {
	img := synthImage(37, 29, imageio.RGBA, 8, 5)
	data, err := Encode(img, "fallback", nil)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, bad []byte) {
		t.Helper()
		got, _, err := Decode(bad, nil)
		if err == nil {
			if imageio.Equal(got, img) {
				return // a flip that cannot matter (e.g. slack low bits at the very end)
			}
			t.Fatalf("%s: decoded a wrong image without error", what)
		}
		got2, _, err2 := DecodeFrom(bytes.NewReader(bad), nil)
		if err2 == nil && !imageio.Equal(got2, img) {
			t.Fatalf("%s: DecodeFrom decoded a wrong image without error", what)
		}
	}
	for n := 0; n < len(data); n++ {
		if n > container.HeaderSize+8 && n%37 != 0 && n < len(data)-8 {
			continue // every length in the header and at the ends, a sample in between
		}
		check(fmt.Sprintf("truncated to %d", n), data[:n])
	}
	check("extended", append(append([]byte(nil), data...), 0))
	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 8*container.HeaderSize+600; i++ {
		// Every bit of the header, then random bits of the payload.
		k := i
		if i >= 8*container.HeaderSize {
			k = 8*container.HeaderSize + rng.IntN(8*(len(data)-container.HeaderSize))
		}
		bad := append([]byte(nil), data...)
		bad[k/8] ^= 1 << (k % 8)
		check(fmt.Sprintf("bit %d of byte %d", k%8, k/8), bad)
	}
	for i := 0; i < 200; i++ {
		junk := make([]byte, rng.IntN(300))
		for j := range junk {
			junk[j] = byte(rng.Uint32())
		}
		if i%2 == 0 && len(junk) >= container.HeaderSize {
			copy(junk, data[:container.HeaderSize]) // valid header, random payload
		}
		if _, _, err := Decode(junk, nil); err == nil {
			t.Fatalf("random data %d decoded", i)
		}
	}
}

type fakeCoder struct{ model [8]byte }

func (fakeCoder) ID() container.CoderID { return container.BBANS }
func (fakeCoder) Name() string          { return "bbans" }
func (f fakeCoder) ModelID() [8]byte    { return f.model }
func (fakeCoder) Encode(img *imageio.Image, opt *Options) ([]byte, error) {
	return []byte{byte(img.Planes[0][0])}, nil
}
func (fakeCoder) Decode(h *container.Header, payload []byte, opt *Options) (*imageio.Image, error) {
	img := imageio.New(h.Width, h.Height, h.Color, h.Depth)
	img.Planes[0][0] = uint16(payload[0])
	return img, nil
}

func TestModelMismatch(t *testing.T) {
	if _, err := Lookup("bbans"); err == nil {
		t.Skip("a real bbans coder is registered")
	}
	img := imageio.New(1, 1, imageio.Gray, 8)
	img.Planes[0][0] = 7
	h := container.Header{Version: container.Version, Coder: container.BBANS, Color: img.Color, Depth: 8,
		Width: 1, Height: 1, ModelID: [8]byte{1}, PixelCRC: img.Checksum(), PayloadLen: 1}
	b, _ := h.Append(nil)
	b = append(b, 7)
	if _, _, err := Decode(b, nil); !errors.Is(err, ErrUnknownCoder) {
		t.Fatalf("unregistered coder: %v", err)
	}
	Register(fakeCoder{model: [8]byte{2}})
	defer func() {
		mu.Lock()
		delete(byName, "bbans")
		delete(byID, container.BBANS)
		mu.Unlock()
	}()
	if _, _, err := Decode(b, nil); !errors.Is(err, container.ErrModelMismatch) {
		t.Fatalf("other weights: %v", err)
	}
	h.ModelID = [8]byte{2}
	b, _ = h.Append(nil)
	b = append(b, 7)
	got, _, err := Decode(b, nil)
	if err != nil || got.Planes[0][0] != 7 {
		t.Fatalf("matching model: %v", err)
	}
}

func TestRegisterChecks(t *testing.T) {
	mustPanic := func(what string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", what)
			}
		}()
		f()
	}
	mustPanic("duplicate fallback", func() { Register(fallbackCoder{}) })
	mustPanic("wrong id for name", func() { Register(badName{}) })
}

type badName struct{ fakeCoder }

func (badName) Name() string { return "bitswap" } // with BBANS's id

// FuzzDecode: any bytes given to Decode produce an error or a valid image whose checksum
// matches its header; never a panic.
func FuzzDecode(f *testing.F) {
	for _, ct := range []imageio.ColorType{imageio.Gray, imageio.RGB, imageio.RGBA} {
		data, err := Encode(synthImage(9, 7, ct, 8, 1), "fallback", nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	data, _ := Encode(synthImage(5, 6, imageio.GrayAlpha, 16, 1), "fallback", nil)
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		img, h, err := Decode(data, &Options{MaxPixels: 1 << 16})
		if err != nil {
			return
		}
		if img.Checksum() != h.PixelCRC || img.Validate() != nil {
			t.Fatal("accepted image does not match its header")
		}
	})
}

// The real photo crops in testdata round-trip exactly, and compress better than their PNGs.
func TestRoundTripTestdata(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join("..", "testdata", "*.png"))
	webps, _ := filepath.Glob(filepath.Join("..", "testdata", "*.webp"))
	names = append(names, webps...)
	if len(names) < 4 {
		t.Fatalf("only %d test images found", len(names))
	}
	for _, name := range names {
		img, format, err := imageio.DecodeFile(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		data, err := Encode(img, "fallback", nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := Decode(data, nil)
		if err != nil || !imageio.Equal(got, img) {
			t.Fatalf("%s: round trip failed: %v", name, err)
		}
		st, _ := os.Stat(name)
		t.Logf("%-28s %-4s %dx%d %v: %6d bytes (%s %6d), %.3f bits/dim", filepath.Base(name), format, img.Width, img.Height,
			img.Color, len(data), format, st.Size(), float64(8*len(data))/float64(img.Pixels()*len(img.Planes)))
		if format == imageio.FormatPNG && int64(len(data)) >= st.Size() {
			t.Errorf("%s: %d bytes, not smaller than the %d-byte PNG", name, len(data), st.Size())
		}
	}
}

// TestOptionsCoders: Options.Coders replaces the registered coder of the same name when
// encoding and of the same id when decoding, and nothing global changes.
func TestOptionsCoders(t *testing.T) {
	if _, err := Lookup("bbans"); err == nil {
		t.Skip("a real bbans coder is registered")
	}
	img := imageio.New(1, 1, imageio.Gray, 8)
	img.Planes[0][0] = 9
	opt := &Options{Coders: []Coder{fakeCoder{model: [8]byte{3}}}}
	data, err := Encode(img, "bbans", opt)
	if err != nil {
		t.Fatal(err)
	}
	got, h, err := Decode(data, opt)
	if err != nil || got.Planes[0][0] != 9 || h.ModelID != [8]byte{3} {
		t.Fatalf("decode with the same Options.Coders: %v", err)
	}
	if _, _, err := Decode(data, nil); !errors.Is(err, ErrUnknownCoder) {
		t.Fatalf("without Options.Coders: %v", err)
	}
	other := &Options{Coders: []Coder{fakeCoder{model: [8]byte{4}}}}
	if _, _, err := Decode(data, other); !errors.Is(err, container.ErrModelMismatch) {
		t.Fatalf("other weights: %v", err)
	}
}
