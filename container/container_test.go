package container

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
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
		{Version: Version, Coder: BBANS, Color: imageio.RGB, Depth: 8, Width: imageio.MaxSide, Height: 1, ModelID: [8]byte{9}, PayloadLen: 1 << 40},
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
	h.Width, h.Height, h.PayloadLen = 100000, 100000, 1<<60
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
	h.PayloadLen = 1 << 60
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
