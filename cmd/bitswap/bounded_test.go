package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/bitswap-codec/bitswap/bsw"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
)

// runCLIFrom is runCLI with any reader as standard input.
func runCLIFrom(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"bitswap"}, args...), stdin, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// allocated returns the bytes allocated on the heap while f runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// bswHeader returns a fallback-coder .bsw header with a valid CRC and any fields, even those
// that container.Header.Append refuses to write.
func bswHeader(w, h uint32, ct imageio.ColorType, depth int, payloadLen uint64) []byte {
	b := make([]byte, container.HeaderSize)
	copy(b, container.Magic)
	b[8], b[9], b[10], b[11] = container.Version, byte(container.Fallback), byte(ct), byte(depth)
	binary.BigEndian.PutUint32(b[12:], w)
	binary.BigEndian.PutUint32(b[16:], h)
	binary.BigEndian.PutUint64(b[32:], payloadLen)
	binary.BigEndian.PutUint32(b[40:], crc32.Checksum(b[:40], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// A 64x48 header announcing a 1 GiB payload, on standard input followed by endless zeros:
// decode and info fail at once with little memory. (decode used to read the whole gigabyte
// and peak at 4.2 GB first.)
func TestHugePayloadClaimFromStdin(t *testing.T) {
	hdr := bswHeader(64, 48, imageio.RGB, 8, 1<<30)
	for _, args := range [][]string{{"decode", "-", "-o", "-"}, {"info", "-"}} {
		var r result
		n := allocated(func() { r = runCLIFrom(t, io.MultiReader(bytes.NewReader(hdr), zeros{}), args...) })
		mustFail(t, r, 1, "payload length 1073741824")
		t.Logf("%s: %d bytes allocated; %s", args[0], n, r.stderr)
		if n > 64<<20 {
			t.Errorf("%s: allocated %d bytes", args[0], n)
		}
	}
}

// A non-positive --max-pixels means no limit, but a header whose image this machine cannot
// hold still fails cleanly: no panic (2^24 x 2^24 used to panic in makeslice) and no fatal
// out-of-memory error (2^20 x 2^20 used to).
func TestNoLimitHostileHeaders(t *testing.T) {
	inputs := map[string][]byte{
		"bsw 2^24 x 2^24": append(bswHeader(1<<24, 1<<24, imageio.RGBA, 16, 4), 0, 0, 0, 0),
		"bsw 2^24 x 2^21": append(bswHeader(1<<24, 1<<21, imageio.RGBA, 16, 4), 0, 0, 0, 0),
		"bmp 2^24 x 2^24": bmpHeader(1<<24, 1<<24),
		"pnm 2^24 x 2^24": []byte("P6 16777216 16777216 255\n"),
	}
	if imageio.CheckAlloc(imageio.ImageBytes(1<<20, 1<<20, imageio.RGB)) != nil {
		inputs["bsw 2^20 x 2^20"] = append(bswHeader(1<<20, 1<<20, imageio.RGB, 8, 4), 0, 0, 0, 0)
		inputs["pnm 2^20 x 2^20"] = []byte("P6 1048576 1048576 255\n")
		inputs["bmp 2^20 x 2^20"] = bmpHeader(1<<20, 1<<20)
	}
	for name, in := range inputs {
		for _, limit := range []string{"0", "-1", "9223372036854775807"} {
			cmds := [][]string{{"encode", "-", "-o", "-", "--coder", "fallback"}}
			if in[0] == 0x89 {
				cmds = [][]string{{"decode", "-", "-o", "-"}, {"info", "-"}}
			}
			for _, args := range cmds {
				r := runCLI(t, in, append(args, "--max-pixels", limit)...)
				t.Run(fmt.Sprintf("%s/%s/%s", name, args[0], limit), func(t *testing.T) { mustFail(t, r, 1, "too large") })
			}
		}
	}
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

// Decoding from standard input takes a small multiple of the image's own memory.
func TestDecodeFromStdinMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	img := imageio.New(512, 512, imageio.RGBA, 8)
	for _, p := range img.Planes {
		for i := range p {
			p[i] = uint16(rng.IntN(256))
		}
	}
	var file bytes.Buffer
	if err := bsw.EncodeImage(&file, img, &bsw.Options{Coder: "fallback"}); err != nil {
		t.Fatal(err)
	}
	data := file.Bytes()
	// The PNG goes to io.Discard, not to a buffer that would count here.
	var code int
	var stderr bytes.Buffer
	n := allocated(func() {
		code = run([]string{"bitswap", "decode", "-", "-o", "-"}, bytes.NewReader(data), io.Discard, &stderr)
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	// The payload (in doubling buffers), the planes, the PNG in a growing buffer, zlib's state.
	size := imageio.ImageBytes(512, 512, imageio.RGBA)
	t.Logf("a %d-byte file, %d bytes of planes: %d bytes allocated (%.1f times)", len(data), size, n, float64(n)/float64(size))
	if n > 6*size {
		t.Errorf("decoding allocated %d bytes for %d bytes of planes", n, size)
	}
}
