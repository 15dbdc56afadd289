package imageio

import (
	"fmt"
	"image/color"
	"math"
	"sync"
)

// maxAllocBytes is more than any single allocation can get: Go's heap spans at most 2^48
// bytes on 64-bit platforms (asking for more panics in makeslice), and on 32-bit ones an
// int cannot count past 2^31. Sizes above it are refused whatever the pixel limit, so that
// no header turns an allocation into a panic.
const maxAllocBytes = min(1<<47, math.MaxInt)

// machineMemory returns this machine's memory in bytes (RAM and, where the system counts
// it, swap), 0 if unknown; tests replace it.
var machineMemory = sync.OnceValue(systemMemory)

// CheckAlloc returns an error wrapping ErrTooLarge if n bytes can never be allocated: more
// than a Go program can address or, where the system reports it, than this machine's
// memory. Asking for such an allocation would not fail cleanly: it panics or
// kills the program with a fatal out-of-memory error. CheckAlloc cannot tell whether n
// bytes are free right now, only that they can never be.
func CheckAlloc(n uint64) error {
	if why := allocFails(n); why != "" {
		return fmt.Errorf("%w: needs %s of memory, %s", ErrTooLarge, byteSize(n), why)
	}
	return nil
}

// allocFails says why n bytes can never be allocated, or returns "" if they may be.
func allocFails(n uint64) string {
	if n > maxAllocBytes {
		return "more than a program can address"
	}
	if m := machineMemory(); m > 0 && n > m {
		return fmt.Sprintf("more than this machine has (%s)", byteSize(m))
	}
	return ""
}

// ImageBytes is the memory the planes of a w x h image of color type c take (every sample
// is a uint16).
func ImageBytes(w, h int64, c ColorType) uint64 {
	return uint64(w) * uint64(h) * uint64(c.Channels()) * 2
}

// stdPixelBytes is a lower bound on the bytes per pixel of the image that the decoder of
// the standard library (or golang.org/x/image) allocates for a file of color model m, from
// its header. Decode needs that image and its own at the same time.
func stdPixelBytes(m color.Model) uint64 {
	switch m {
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	case color.Gray16Model, color.Alpha16Model:
		return 2
	}
	return 1 // gray, alpha, paletted, YCbCr (at least the luma plane)
}

// byteSize formats n bytes for an error message.
func byteSize(n uint64) string {
	switch {
	case n >= 1<<40:
		return fmt.Sprintf("%.1f TiB", float64(n)/(1<<40))
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}
