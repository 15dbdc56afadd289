package container

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bitswap-codec/bitswap/imageio"
)

func sample() Header {
	return Header{Version: Version, Coder: BitSwap, Color: imageio.RGBA, Depth: 16, Width: 640, Height: 480,
		ModelID: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, PixelCRC: 0xdeadbeef, PayloadLen: 12345}
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, h := range []Header{
		sample(),
		{Version: Version, Coder: Fallback, Color: imageio.Gray, Depth: 8, Width: 1, Height: 1},
		// the longest payload allowed: twice the raw 3<<24 bytes, plus 64 KiB
		{Version: Version, Coder: BBANS, Color: imageio.RGB, Depth: 8, Width: imageio.MaxSide, Height: 1, ModelID: [8]byte{9}, PayloadLen: 6<<24 + 64<<10},
	} {
		b, err := h.Append([]byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 1+HeaderSize || b[0] != 'x' {
			t.Fatalf("Append wrote %d bytes", len(b)-1)
		}
		got, err := Parse(b[1:], Limits{MaxPixels: -1})
		if err != nil {
			t.Fatal(err)
		}
		if *got != h {
			t.Fatalf("got %+v want %+v", *got, h)
		}
		got2, err := Read(bytes.NewReader(b[1:]), Limits{MaxPixels: -1})
		if err != nil || *got2 != h {
			t.Fatalf("Read: %v %+v", err, got2)
		}
	}
}

// The layout is the one documented in docs/format.md.
func TestLayout(t *testing.T) {
	h := sample()
	b, _ := h.Append(nil)
	if string(b[:8]) != "\x89BSW\r\n\x1a\n" || b[8] != 1 || b[9] != 2 || b[10] != 4 || b[11] != 16 {
		t.Fatalf("bad fixed fields % x", b[:12])
	}
	if binary.BigEndian.Uint32(b[12:]) != 640 || binary.BigEndian.Uint32(b[16:]) != 480 ||
		b[20] != 1 || b[27] != 8 || binary.BigEndian.Uint32(b[28:]) != 0xdeadbeef ||
		binary.BigEndian.Uint64(b[32:]) != 12345 {
		t.Fatalf("bad fields % x", b)
	}
	if binary.BigEndian.Uint32(b[40:]) != crc32.Checksum(b[:40], crc32.MakeTable(crc32.Castagnoli)) {
		t.Fatal("bad header CRC")
	}
}

// reseal recomputes the header CRC after a field was changed on purpose.
func reseal(b []byte) []byte {
	binary.BigEndian.PutUint32(b[40:], crc32.Checksum(b[:40], castagnoli))
	return b
}

func TestRejects(t *testing.T) {
	h := sample()
	good, _ := h.Append(nil)
	mod := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrNotContainer},
		{"png", []byte("\x89PNG\r\n\x1a\n0000000000000000000000000000000000000000"), ErrNotContainer},
		{"truncated magic", good[:5], ErrCorrupt},
		{"truncated", good[:HeaderSize-1], ErrCorrupt},
		{"version", mod(func(b []byte) { b[8] = 2 }), ErrVersion},
		{"header crc", mod(func(b []byte) { b[30] ^= 1 }), ErrCorrupt},
		{"crc field", mod(func(b []byte) { b[41] ^= 0x80 }), ErrCorrupt},
		{"coder", reseal(mod(func(b []byte) { b[9] = 7 })), ErrUnknownCoder},
		{"color", reseal(mod(func(b []byte) { b[10] = 5 })), ErrCorrupt},
		{"color zero", reseal(mod(func(b []byte) { b[10] = 0 })), ErrCorrupt},
		{"depth", reseal(mod(func(b []byte) { b[11] = 12 })), ErrCorrupt},
		{"zero width", reseal(mod(func(b []byte) { binary.BigEndian.PutUint32(b[12:], 0) })), ErrCorrupt},
		{"huge side", reseal(mod(func(b []byte) { binary.BigEndian.PutUint32(b[16:], 1<<30) })), ErrCorrupt},
		{"too many pixels", reseal(mod(func(b []byte) {
			binary.BigEndian.PutUint32(b[12:], 100000)
			binary.BigEndian.PutUint32(b[16:], 100000)
		})), ErrTooLarge},
		{"model id on fallback", reseal(mod(func(b []byte) { b[9] = 0 })), ErrCorrupt},
		{"no model id on bitswap", reseal(mod(func(b []byte) { copy(b[20:28], make([]byte, 8)) })), ErrCorrupt},
		{"huge payload length", reseal(mod(func(b []byte) { binary.BigEndian.PutUint64(b[32:], 1<<63) })), ErrCorrupt},
	}
	for _, tc := range cases {
		_, err := Parse(tc.b, Limits{})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestLimits(t *testing.T) {
	h := sample() // 640x480 = 307200 pixels
	b, _ := h.Append(nil)
	if _, err := Parse(b, Limits{MaxPixels: 307200}); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	if _, err := Parse(b, Limits{MaxPixels: 307199}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("above the limit: %v", err)
	}
}

// A header claiming a huge image and payload over a short stream is rejected quickly and
// without allocating for the claim.
func TestHugeClaimIsCheap(t *testing.T) {
	h := sample()
	h.Width, h.Height = 100000, 100000
	h.PayloadLen = h.MaxPayloadLen()
	b, err := h.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	allocs := testing.AllocsPerRun(10, func() {
		if _, err := Read(bytes.NewReader(b), Limits{}); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("got %v", err)
		}
	})
	if allocs > 20 || time.Since(start) > time.Second {
		t.Errorf("rejecting took %v and %v allocations", time.Since(start), allocs)
	}
	// Within the limits but with a payload claim far beyond the data: read what is there.
	h = sample()
	h.PayloadLen = h.MaxPayloadLen()
	b, _ = h.Append(nil)
	b = append(b, make([]byte, 100)...)
	r := bytes.NewReader(b)
	hh, err := Read(r, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPayload(r, hh); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("short payload: %v", err)
	}
}

func TestSplitAndReadPayload(t *testing.T) {
	h := sample()
	h.PayloadLen = 5
	b, _ := h.Append(nil)
	file := append(b, "hello"...)
	hh, p, err := Split(file, Limits{})
	if err != nil || string(p) != "hello" || *hh != h {
		t.Fatalf("Split: %v %q", err, p)
	}
	for _, bad := range [][]byte{file[:len(file)-1], append(append([]byte(nil), file...), 0)} {
		if _, _, err := Split(bad, Limits{}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Split of %d bytes: %v", len(bad), err)
		}
		r := bytes.NewReader(bad)
		hh, err := Read(r, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ReadPayload(r, hh); !errors.Is(err, ErrCorrupt) {
			t.Errorf("ReadPayload of %d bytes: %v", len(bad), err)
		}
	}
	r := bytes.NewReader(file)
	hh, _ = Read(r, Limits{})
	if p, err := ReadPayload(r, hh); err != nil || string(p) != "hello" {
		t.Fatalf("ReadPayload: %v %q", err, p)
	}
	if _, err := Read(io.LimitReader(bytes.NewReader(file), 0), Limits{}); !errors.Is(err, ErrNotContainer) {
		t.Errorf("empty reader: %v", err)
	}
}

func TestAppendRejectsBadFields(t *testing.T) {
	for _, f := range []func(h *Header){
		func(h *Header) { h.Depth = 4 },
		func(h *Header) { h.Width = 0 },
		func(h *Header) { h.Coder = 9 },
		func(h *Header) { h.Color = 0 },
		func(h *Header) { h.ModelID = [8]byte{} },
	} {
		h := sample()
		f(&h)
		if _, err := h.Append(nil); err == nil {
			t.Errorf("Append accepted %+v", h)
		}
	}
}

// FuzzParse: arbitrary bytes never panic; an accepted header re-encodes to the same bytes.
func FuzzParse(f *testing.F) {
	h := sample()
	b, _ := h.Append(nil)
	f.Add(b)
	h2 := Header{Version: Version, Coder: Fallback, Color: imageio.Gray, Depth: 8, Width: 3, Height: 2, PayloadLen: 3}
	b2, _ := h2.Append(nil)
	f.Add(append(b2, 1, 2, 3))
	f.Add([]byte("\x89BSW\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		hh, err := Parse(data, Limits{})
		if err != nil {
			return
		}
		out, err := hh.Append(nil)
		if err != nil {
			t.Fatalf("accepted header does not re-encode: %v", err)
		}
		if !bytes.Equal(out, data[:HeaderSize]) {
			t.Fatalf("re-encoded header differs:\n% x\n% x", out, data[:HeaderSize])
		}
		hs, payload, err := Split(data, Limits{})
		if err == nil && (uint64(len(payload)) != hs.PayloadLen || *hs != *hh) {
			t.Fatal("Split disagrees with Parse")
		}
	})
}

// The payload length is bounded by the image's raw size, and checked with the header.
func TestMaxPayloadLen(t *testing.T) {
	for _, tc := range []struct {
		w, h  int
		color imageio.ColorType
		depth int
		want  uint64
	}{
		{1, 1, imageio.Gray, 8, 2 + 64<<10},
		{64, 48, imageio.RGB, 8, 2*64*48*3 + 64<<10},
		{640, 480, imageio.RGBA, 16, 2*640*480*8 + 64<<10},
		{imageio.MaxSide, imageio.MaxSide, imageio.RGBA, 16, 1<<52 + 64<<10},
	} {
		h := Header{Version: Version, Coder: Fallback, Color: tc.color, Depth: tc.depth, Width: tc.w, Height: tc.h}
		if got := h.MaxPayloadLen(); got != tc.want {
			t.Errorf("%dx%d %v/%d: MaxPayloadLen %d, want %d", tc.w, tc.h, tc.color, tc.depth, got, tc.want)
		}
		h.PayloadLen = tc.want
		b, err := h.Append(nil)
		if err != nil {
			t.Fatalf("at the bound: %v", err)
		}
		if _, err := Parse(b, Limits{MaxPixels: -1}); err != nil && !errors.Is(err, ErrTooLarge) {
			t.Errorf("%dx%d at the bound: %v", tc.w, tc.h, err)
		}
		h.PayloadLen++
		if _, err := h.Append(nil); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%dx%d: Append above the bound: %v", tc.w, tc.h, err)
		}
		binary.BigEndian.PutUint64(b[32:], tc.want+1)
		if _, err := Parse(reseal(b), Limits{MaxPixels: -1}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%dx%d: Parse above the bound: %v", tc.w, tc.h, err)
		}
	}
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

// A 64x48 header announcing a 1 GiB payload is refused from the header, before a payload
// byte is read, whatever follows it. (It used to be read in full: 4 GiB allocated.)
func TestHugePayloadClaim(t *testing.T) {
	// Append refuses to write such a header: build it by hand.
	h := Header{Version: Version, Coder: Fallback, Color: imageio.RGB, Depth: 8, Width: 64, Height: 48, PayloadLen: 1 << 30}
	var b [HeaderSize]byte
	copy(b[:], Magic)
	b[8], b[9], b[10], b[11] = Version, byte(h.Coder), byte(h.Color), byte(h.Depth)
	binary.BigEndian.PutUint32(b[12:], uint32(h.Width))
	binary.BigEndian.PutUint32(b[16:], uint32(h.Height))
	binary.BigEndian.PutUint64(b[32:], h.PayloadLen)
	reseal(b[:])
	for name, r := range map[string]func() io.Reader{
		"short file":    func() io.Reader { return bytes.NewReader(append(b[:], make([]byte, 1000)...)) },
		"endless zeros": func() io.Reader { return io.MultiReader(bytes.NewReader(b[:]), zeros{}) },
	} {
		rd := r()
		var err error
		n := allocated(func() { _, err = Read(rd, Limits{}) })
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "payload length") {
			t.Errorf("%s: %v", name, err)
		}
		if n > 64<<10 {
			t.Errorf("%s: rejecting the header allocated %d bytes", name, n)
		}
	}
	if _, _, err := Split(append(b[:], make([]byte, 1000)...), Limits{}); !errors.Is(err, ErrCorrupt) ||
		!strings.Contains(err.Error(), "payload length") {
		t.Errorf("Split: %v", err)
	}
}

// Within the bound, a payload claim over a shorter stream costs what the stream holds, and a
// longer stream what the claim says. The buffer doubles as the data fills it, so the buffers
// allocated add up to less than 4 times the data read (the last one may be half empty, and
// those before it add up to less than the last), 3 times for a complete payload (whose
// last buffer has exactly its size).
func TestReadPayloadGrowsWithData(t *testing.T) {
	h := Header{Version: Version, Coder: Fallback, Color: imageio.RGBA, Depth: 16, Width: 8192, Height: 8192}
	h.PayloadLen = h.MaxPayloadLen() // 1 GiB
	for _, have := range []int64{0, 100, 1 << 20, 4 << 20} {
		var err error
		n := allocated(func() { _, err = ReadPayload(io.LimitReader(zeros{}, have), &h) })
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%d of %d bytes: %v", have, h.PayloadLen, err)
		}
		if limit := uint64(4*have + firstChunk + 4096); n > limit {
			t.Errorf("reading %d of %d bytes allocated %d bytes", have, h.PayloadLen, n)
		}
	}
	// A complete payload of 3 MB read from an endless stream: exactly it, then trailing data.
	h.PayloadLen = 3e6
	var err error
	n := allocated(func() { _, err = ReadPayload(zeros{}, &h) })
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "trailing") {
		t.Errorf("endless stream: %v", err)
	}
	if n > 3*h.PayloadLen {
		t.Errorf("reading a %d-byte payload allocated %d bytes", h.PayloadLen, n)
	}
	p, err := ReadPayload(io.LimitReader(zeros{}, 3e6), &h)
	if err != nil || len(p) != 3e6 {
		t.Errorf("complete payload: %d bytes, %v", len(p), err)
	}
}

// Without a pixel limit, sizes that cannot be allocated are still refused cleanly.
func TestNoLimitStillRefusesTheImpossible(t *testing.T) {
	for _, s := range [][2]int{{imageio.MaxSide, imageio.MaxSide}, {imageio.MaxSide, 1 << 21}} {
		h := Header{Version: Version, Coder: Fallback, Color: imageio.RGBA, Depth: 16, Width: s[0], Height: s[1], PayloadLen: 10}
		b, err := h.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, lim := range []int64{-1, 1 << 62} {
			if _, err := Parse(b, Limits{MaxPixels: lim}); !errors.Is(err, ErrTooLarge) {
				t.Errorf("%dx%d, limit %d: %v", s[0], s[1], lim, err)
			}
		}
	}
}
