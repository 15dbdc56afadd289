package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
)

// rawHeader returns a fallback-coder .bsw header with a valid CRC and any fields, even those
// that Header.Append refuses to write.
func rawHeader(w, h uint32, ct imageio.ColorType, depth int, payloadLen uint64) []byte {
	b := make([]byte, container.HeaderSize)
	copy(b, container.Magic)
	b[8], b[9], b[10], b[11] = container.Version, byte(container.Fallback), byte(ct), byte(depth)
	binary.BigEndian.PutUint32(b[12:], w)
	binary.BigEndian.PutUint32(b[16:], h)
	binary.BigEndian.PutUint64(b[32:], payloadLen)
	binary.BigEndian.PutUint32(b[40:], crc32.Checksum(b[:40], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// allocated returns the bytes allocated on the heap while f runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// noiseImage has independent uniform samples: what no coder compresses.
func noiseImage(w, h int, ct imageio.ColorType, depth int, seed uint64) *imageio.Image {
	rng := rand.New(rand.NewPCG(seed, 11))
	img := imageio.New(w, h, ct, depth)
	for _, p := range img.Planes {
		for i := range p {
			p[i] = uint16(rng.IntN(1 << depth))
		}
	}
	return img
}

// A 64x48 header announcing a 1 GiB payload fails from the header, before a payload byte
// is read, from memory and from streams. It used to be read in full: DecodeFrom allocated 4
// times the claim (512 MiB for a 128 MiB claim) before failing.
func TestHugePayloadClaim(t *testing.T) {
	hdr := rawHeader(64, 48, imageio.RGB, 8, 1<<30)
	file := append(hdr, make([]byte, 1000)...)
	for name, decode := range map[string]func() error{
		"Decode": func() error { _, _, err := Decode(file, nil); return err },
		"DecodeFrom bytes": func() error {
			_, _, err := DecodeFrom(bytes.NewReader(file), nil)
			return err
		},
		"DecodeFrom endless zeros": func() error {
			_, _, err := DecodeFrom(io.MultiReader(bytes.NewReader(hdr), zeros{}), nil)
			return err
		},
	} {
		var err error
		n := allocated(func() { err = decode() })
		if !errors.Is(err, container.ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
		if n > 1<<20 {
			t.Errorf("%s: allocated %d bytes", name, n)
		}
		t.Logf("%s: %v; %d bytes allocated", name, err, n)
	}
	// The largest image of the default limit may announce up to 1 GiB: over a short stream,
	// only what arrives is held.
	hdr = rawHeader(8192, 8192, imageio.RGBA, 16, 1<<30)
	var err error
	n := allocated(func() {
		_, _, err = DecodeFrom(io.MultiReader(bytes.NewReader(hdr), io.LimitReader(zeros{}, 1000)), nil)
	})
	if !errors.Is(err, container.ErrCorrupt) || n > 1<<20 {
		t.Errorf("8192x8192 claiming 1 GiB over 1000 bytes: %v, %d bytes allocated", err, n)
	}
}

// Without a pixel limit (or with an absurd one), a header whose image could never be
// allocated fails with an error: before, 2^24 x 2^24 panicked in makeslice and 2^20 x 2^20
// killed the program with a fatal out-of-memory error.
func TestNoLimitHostileSizes(t *testing.T) {
	cases := []struct {
		w, h  uint32
		color imageio.ColorType
		depth int
		want  error
	}{
		{1 << 31, 1 << 31, imageio.RGBA, 16, container.ErrCorrupt}, // a side above imageio.MaxSide
		{1 << 24, 1 << 24, imageio.RGBA, 16, container.ErrTooLarge},
		{1 << 24, 1 << 21, imageio.RGBA, 16, container.ErrTooLarge}, // 2^48 bytes of planes
		{1 << 24, 1 << 24, imageio.Gray, 8, container.ErrTooLarge},
		{1 << 20, 1 << 20, imageio.RGB, 8, container.ErrTooLarge}, // 6 TiB: more than the machine
	}
	for _, tc := range cases {
		need := imageio.ImageBytes(int64(tc.w), int64(tc.h), tc.color)
		if tc.w <= imageio.MaxSide && imageio.CheckAlloc(need) == nil {
			t.Logf("%dx%d: this machine could hold %d bytes; not decoding it", tc.w, tc.h, need)
			continue
		}
		file := append(rawHeader(tc.w, tc.h, tc.color, tc.depth, 4), 0, 0, 0, 0)
		for _, limit := range []int64{-1, 1 << 62} {
			opt := &Options{MaxPixels: limit}
			_, _, err := Decode(file, opt)
			_, _, err2 := DecodeFrom(bytes.NewReader(file), opt)
			if !errors.Is(err, tc.want) || !errors.Is(err2, tc.want) {
				t.Errorf("%dx%d %v, limit %d: %v / %v", tc.w, tc.h, tc.color, limit, err, err2)
			}
		}
	}
}

// The payload bound leaves a wide margin over what the coders produce on noise, the worst
// case of ordinary images.
func TestPayloadBoundMargin(t *testing.T) {
	for _, ct := range []imageio.ColorType{imageio.Gray, imageio.GrayAlpha, imageio.RGB, imageio.RGBA} {
		for _, depth := range []int{8, 16} {
			for _, s := range [][2]int{{1, 1}, {2, 1}, {7, 5}, {128, 96}} {
				img := noiseImage(s[0], s[1], ct, depth, uint64(s[0]))
				for _, name := range Names() {
					data, err := Encode(img, name, nil)
					if err != nil {
						t.Fatalf("%s %dx%d %v/%d: %v", name, s[0], s[1], ct, depth, err)
					}
					h, _, err := container.Split(data, container.Limits{})
					if err != nil {
						t.Fatal(err)
					}
					if 3*h.PayloadLen > 2*h.MaxPayloadLen() {
						t.Errorf("%s %dx%d %v/%d: a %d-byte payload, the bound is %d", name, s[0], s[1], ct, depth,
							h.PayloadLen, h.MaxPayloadLen())
					}
				}
			}
		}
	}
}

// Decoding from a stream takes a small multiple of the image's own memory (its planes). The
// collection first empties the fallback coder's pool of buffers (as any collection may), so
// that the decode pays for them: measured with them left from the encode, the test failed
// only when a collection happened to run in between.
func TestDecodeFromMemory(t *testing.T) {
	img := noiseImage(256, 256, imageio.RGBA, 8, 1)
	data, err := Encode(img, "fallback", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got *imageio.Image
	runtime.GC()
	n := allocated(func() { got, _, err = DecodeFrom(bytes.NewReader(data), nil) })
	if err != nil || !imageio.Equal(got, img) {
		t.Fatalf("round trip: %v", err)
	}
	size := imageio.ImageBytes(256, 256, imageio.RGBA)
	t.Logf("decoding a %d-byte file into %d bytes of planes allocated %d bytes", len(data), size, n)
	if n > 7*size/2 {
		t.Errorf("decoding allocated %d bytes for %d bytes of planes", n, size)
	}
}
