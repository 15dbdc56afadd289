package fallback

import (
	"errors"
	"testing"
)

func fuzzShape(np, w, h uint8, deep bool) (int, int, int, int) {
	depth := 8
	if deep {
		depth = 16
	}
	return int(np%5) + 1, int(w%40) + 1, int(h%40) + 1, depth
}

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic, must report
// corruption as ErrCorrupt, and whatever it accepts must be a valid image whose own
// encoding decodes back to it.
func FuzzDecode(f *testing.F) {
	for _, kind := range []string{"smooth", "noise", "edges", "constant"} {
		for _, deep := range []bool{false, true} {
			np, w, h, depth := fuzzShape(3, 13, 9, deep)
			enc, err := Encode(nil, synth(kind, np, w, h, depth, 1), w, h, depth)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(enc, uint8(3), uint8(13), uint8(9), deep)
		}
	}
	f.Add([]byte{}, uint8(0), uint8(0), uint8(0), false)
	f.Fuzz(func(t *testing.T, data []byte, np8, w8, h8 uint8, deep bool) {
		np, w, h, depth := fuzzShape(np8, w8, h8, deep)
		planes, n, err := Decode(data, np, w, h, depth)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if n < 1 || n > len(data) {
			t.Fatalf("used %d bytes of %d", n, len(data))
		}
		enc, err := Encode(nil, planes, w, h, depth)
		if err != nil {
			t.Fatalf("decoded planes do not re-encode: %v", err)
		}
		again, _, err := Decode(enc, np, w, h, depth)
		if err != nil {
			t.Fatal(err)
		}
		for c := range planes {
			if !equal16(planes[c], again[c]) {
				t.Fatalf("re-encoding plane %d does not round-trip", c)
			}
		}
	})
}

// FuzzRoundTrip builds planes from arbitrary bytes and checks that they round-trip.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello, world"), uint8(3), uint8(4), uint8(3), false)
	f.Add([]byte{0, 255, 0, 255, 1, 254}, uint8(1), uint8(2), uint8(3), true)
	f.Fuzz(func(t *testing.T, data []byte, np8, w8, h8 uint8, deep bool) {
		np, w, h, depth := fuzzShape(np8, w8, h8, deep)
		planes := make([][]uint16, np)
		k := 0
		next := func() uint16 {
			if len(data) == 0 {
				return 0
			}
			b := data[k%len(data)]
			k++
			return uint16(b)
		}
		for c := range planes {
			planes[c] = make([]uint16, w*h)
			for i := range planes[c] {
				v := next()
				if depth == 16 {
					v = v<<8 | next()
				}
				planes[c][i] = v
			}
		}
		roundTrip(t, planes, w, h, depth)
	})
}
