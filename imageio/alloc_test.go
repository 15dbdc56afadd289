package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"runtime"
	"testing"
)

// withMachineMemory runs f as if this machine had n bytes of memory (0: unknown).
func withMachineMemory(t *testing.T, n uint64, f func()) {
	t.Helper()
	saved := machineMemory
	machineMemory = func() uint64 { return n }
	defer func() { machineMemory = saved }()
	f()
}

func TestCheckAlloc(t *testing.T) {
	withMachineMemory(t, 1<<30, func() {
		for _, tc := range []struct {
			n  uint64
			ok bool
		}{{0, true}, {1 << 30, true}, {1<<30 + 1, false}, {maxAllocBytes + 1, false}, {1 << 63, false}} {
			if err := CheckAlloc(tc.n); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrTooLarge)) {
				t.Errorf("CheckAlloc(%d) with 1 GiB: %v", tc.n, err)
			}
		}
	})
	withMachineMemory(t, 0, func() {
		if err := CheckAlloc(1 << 40); err != nil {
			t.Errorf("unknown memory, 1 TiB: %v", err)
		}
		if err := CheckAlloc(maxAllocBytes + 1); !errors.Is(err, ErrTooLarge) {
			t.Errorf("unknown memory, beyond the address space: %v", err)
		}
	})
	if m := machineMemory(); (runtime.GOOS == "linux" || runtime.GOOS == "darwin") && m < 64<<20 {
		t.Errorf("this machine's memory reported as %d bytes", m)
	}
}

// Without a pixel limit, a size that could never be allocated is an error, not a panic.
func TestCheckSizeNoLimit(t *testing.T) {
	if err := CheckSize(MaxSide, MaxSide, -1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxSide squared, no limit: %v", err)
	}
	withMachineMemory(t, 1<<30, func() {
		if err := CheckSize(1<<15, 1<<15, -1); !errors.Is(err, ErrTooLarge) {
			t.Errorf("2 GiB of planes with 1 GiB of memory: %v", err)
		}
		if err := CheckSize(1<<14, 1<<14, -1); err != nil {
			t.Errorf("512 MiB of planes with 1 GiB of memory: %v", err)
		}
	})
}

// bmpHeader is the 54-byte header of a 24-bit BMP of the given size, without pixels.
func bmpHeader(w, h int32) []byte {
	b := make([]byte, 54)
	copy(b, "BM")
	binary.LittleEndian.PutUint32(b[2:], 54)
	binary.LittleEndian.PutUint32(b[10:], 54)
	binary.LittleEndian.PutUint32(b[14:], 40)
	binary.LittleEndian.PutUint32(b[18:], uint32(w))
	binary.LittleEndian.PutUint32(b[22:], uint32(h))
	binary.LittleEndian.PutUint16(b[26:], 1)
	binary.LittleEndian.PutUint16(b[28:], 24)
	return b
}

// pngHeader is the signature and IHDR chunk of a PNG of the given size and color type.
func pngHeader(w, h uint32, depth, colorType byte) []byte {
	b := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
	b = binary.BigEndian.AppendUint32(b, w)
	b = binary.BigEndian.AppendUint32(b, h)
	b = append(b, depth, colorType, 0, 0, 0)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[12:]))
}

// Headers of a few bytes claiming images the machine cannot hold are refused from the
// header even without a pixel limit. With no limit, the 54-byte BMP header of a 2^24 x 2^24
// image used to make the BMP decoder panic in makeslice, and smaller ones that still do not
// fit to kill the program with a fatal out-of-memory error.
func TestHostileHeadersNoLimit(t *testing.T) {
	// On a machine of 64 MiB, each of the 2^12 x 2^12 images passes CheckSize (32 MiB for
	// one plane of our own) but not the check of what its decoder needs.
	withMachineMemory(t, 64<<20, func() {
		for name, b := range map[string][]byte{
			"bmp 2^24 x 2^24":   bmpHeader(1<<24, 1<<24),
			"bmp 2^12 x 2^12":   bmpHeader(1<<12, 1<<12), // 64 MiB as RGBA, and ours besides
			"png 2^24 x 2^24":   pngHeader(1<<24, 1<<24, 8, 2),
			"png16 2^12 x 2^12": pngHeader(1<<12, 1<<12, 16, 6), // 128 MiB as NRGBA64, and ours
			"pnm 2^24 x 2^24":   []byte("P6 16777216 16777216 255\n"),
			"pnm 2^12 x 2^12":   []byte("P6 4096 4096 255\n"), // 96 MiB of planes
			"pnm16 2^12 x 2^12": []byte("P6 4096 4096 65535\n"),
		} {
			for _, limit := range []int64{-1, 1 << 62} {
				if _, _, err := Decode(bytes.NewReader(b), &DecodeOptions{MaxPixels: limit}); !errors.Is(err, ErrTooLarge) {
					t.Errorf("%s, limit %d: %v", name, limit, err)
				}
			}
		}
	})
}

// decodeAllocated decodes b and returns the heap bytes allocated meanwhile.
func decodeAllocated(b []byte, limit int64) (uint64, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := Decode(bytes.NewReader(b), &DecodeOptions{MaxPixels: limit})
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, err
}

// A PNM header within the limits but with a short raster fails after allocating the image
// it announces, not more.
func TestPNMShortRasterMemory(t *testing.T) {
	hdr := fmt.Appendf(nil, "P6 %d %d 255\n", 1024, 1024)
	n, err := decodeAllocated(append(hdr, make([]byte, 100)...), 0)
	if err == nil {
		t.Fatal("truncated PNM decoded")
	}
	if size := ImageBytes(1024, 1024, RGB); n > size+1<<20 {
		t.Errorf("allocated %d bytes for a %d-byte image", n, size)
	}
}
