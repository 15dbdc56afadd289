package imageio

import (
	"bytes"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

// randomImage fills an image with random samples; alpha (if any) includes 0 and partial
// values so that premultiplication mistakes would show.
func randomImage(w, h int, ct ColorType, depth int, seed uint64) *Image {
	rng := rand.New(rand.NewPCG(seed, 11))
	img := New(w, h, ct, depth)
	maxv := 1<<depth - 1
	for _, p := range img.Planes {
		for i := range p {
			p[i] = uint16(rng.IntN(maxv + 1))
		}
	}
	if ct.HasAlpha() {
		a := img.Planes[len(img.Planes)-1]
		a[0] = 0
		if len(a) > 1 {
			a[1] = uint16(maxv)
		}
	}
	return img
}

func TestValidate(t *testing.T) {
	img := New(3, 2, RGB, 8)
	if err := img.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(*Image){
		func(m *Image) { m.Planes[1][5] = 256 },
		func(m *Image) { m.Planes = m.Planes[:2] },
		func(m *Image) { m.Planes[0] = m.Planes[0][:5] },
		func(m *Image) { m.Depth = 12 },
		func(m *Image) { m.Width = 0 },
		func(m *Image) { m.Color = 5 },
	}
	for i, f := range bad {
		m := New(3, 2, RGB, 8)
		f(m)
		if err := m.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("case %d: %v", i, err)
		}
	}
	m := New(3, 2, RGB, 16)
	m.Planes[1][5] = 65535
	if err := m.Validate(); err != nil {
		t.Errorf("16-bit max: %v", err)
	}
}

// The checksum covers the documented canonical byte order.
func TestChecksumCanonicalOrder(t *testing.T) {
	for _, depth := range []int{8, 16} {
		img := randomImage(5, 3, RGBA, depth, 1)
		var b []byte
		for i := 0; i < 15; i++ {
			for c := 0; c < 4; c++ {
				v := img.Planes[c][i]
				if depth == 16 {
					b = append(b, byte(v>>8), byte(v))
				} else {
					b = append(b, byte(v))
				}
			}
		}
		if got, want := img.Checksum(), crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)); got != want {
			t.Errorf("depth %d: checksum %08x, want %08x", depth, got, want)
		}
	}
	// Large images cross the internal buffer boundary.
	big := randomImage(300, 200, RGB, 16, 2)
	var b bytes.Buffer
	for i := 0; i < 300*200; i++ {
		for c := 0; c < 3; c++ {
			b.WriteByte(byte(big.Planes[c][i] >> 8))
			b.WriteByte(byte(big.Planes[c][i]))
		}
	}
	if big.Checksum() != crc32.Checksum(b.Bytes(), crc32.MakeTable(crc32.Castagnoli)) {
		t.Error("checksum of a large image")
	}
	big.Planes[2][12345] ^= 1
	if big.Checksum() == crc32.Checksum(b.Bytes(), crc32.MakeTable(crc32.Castagnoli)) {
		t.Error("checksum did not change")
	}
}

func TestEqual(t *testing.T) {
	a := randomImage(4, 4, GrayAlpha, 8, 1)
	b := randomImage(4, 4, GrayAlpha, 8, 1)
	if !Equal(a, b) {
		t.Fatal("equal images differ")
	}
	b.Planes[1][15]++
	if Equal(a, b) {
		t.Fatal("different images equal")
	}
	if Equal(a, randomImage(4, 4, GrayAlpha, 16, 1)) {
		t.Fatal("different depths equal")
	}
}
