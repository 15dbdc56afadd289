package bbcore_test

import (
	"bytes"
	"runtime/metrics"
	"testing"

	"github.com/bitswap-codec/bitswap/bbans"
	"github.com/bitswap-codec/bitswap/bitswap"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/bbcore"
	"github.com/bitswap-codec/bitswap/internal/ycc"
)

// Bounds of the fuzzed header: up to 7x7 patches, so that every execution is fast.
const fuzzMaxDim = 7 * imageio.PatchSize

// fuzzAllocLimit bounds the bytes one decode may allocate. A valid decode of the largest
// fuzzed image with the tiny model allocates a few MiB; hostile payload headers must not
// make it allocate much more before failing.
const fuzzAllocLimit = 256 << 20

var fuzzColors = []imageio.ColorType{imageio.Gray, imageio.GrayAlpha, imageio.RGB, imageio.RGBA}

var fuzzSchemes = []bbcore.Scheme{bitswap.Scheme{}, bbans.Scheme{}}

// fuzzHeader maps the fuzzed header fields onto a header that passes container validation
// (which Decode may assume), within the fuzzing bounds.
func fuzzHeader(w, h uint16, color, depth uint8) *container.Header {
	d := 8
	if depth&1 == 1 {
		d = 16
	}
	return &container.Header{
		Width: 1 + int(w)%fuzzMaxDim, Height: 1 + int(h)%fuzzMaxDim,
		Color: fuzzColors[int(color)%len(fuzzColors)], Depth: d,
	}
}

// fuzzArgs returns the fuzz arguments that give back img's header.
func fuzzArgs(img *imageio.Image) (w, h uint16, color, depth uint8) {
	for i, c := range fuzzColors {
		if c == img.Color {
			color = uint8(i)
		}
	}
	if img.Depth == 16 {
		depth = 1
	}
	return uint16(img.Width - 1), uint16(img.Height - 1), color, depth
}

// deepImage is a 16-bit RGB image (coded by the fallback coder inside the payload).
func deepImage(w, h int) *imageio.Image {
	img := smoothImage(w, h, imageio.RGB, 8)
	deep := imageio.New(w, h, imageio.RGB, 16)
	for c := range img.Planes {
		for i, v := range img.Planes[c] {
			deep.Planes[c][i] = v<<8 | uint16(i)
		}
	}
	return deep
}

// editVAEHeader returns a copy of a VAE-mode payload with its header (as bbcore.Inspect
// reads it) changed by edit, or nil for a payload of the other mode.
func editVAEHeader(payload []byte, patches int, edit func(in *bbcore.Info)) []byte {
	in, err := bbcore.Inspect(payload, patches)
	if err != nil || !in.VAE {
		return nil
	}
	rest := payload[len(in.Append(nil)):]
	edit(&in)
	return append(in.Append(nil), rest...)
}

func heapAllocBytes(s []metrics.Sample) uint64 {
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// FuzzDecode feeds the bits-back payload decoder hostile payloads and headers: it must
// return an error or an image of the header's shape, and never panic, hang or allocate
// without bound. The corpus starts with real payloads of both schemes.
func FuzzDecode(f *testing.F) {
	m := fullModel(f)
	seeds := []*imageio.Image{
		smoothImage(33, 17, imageio.RGB, 1),
		smoothImage(64, 40, imageio.RGB, 2),
		smoothImage(64, 40, imageio.RGBA, 3),
		smoothImage(33, 17, imageio.RGBA, 4),
		smoothImage(64, 40, imageio.Gray, 5),
		smoothImage(100, 75, imageio.RGB, 6),
		smoothImage(7*32, 7*32-5, imageio.RGB, 7), // 49 patches: several chains
		deepImage(40, 33),
	}
	for _, img := range []*imageio.Image{jpegImage(f, smoothImage(64, 40, imageio.RGB, 2)), jpegImage(f, smoothImage(33, 17, imageio.RGBA, 4)), decodedImage(smoothImage(40, 24, imageio.RGB, 8), ycc.LibJPEG), decodedImage(smoothImage(40, 24, imageio.RGB, 9), ycc.LibWebP),
		libraryImage(f, "cups-61x45.420.djpeg.png"), libraryImage(f, "cups-61x45.dwebp.png")} {
		payload, err := (&bbcore.Coder{Model: m, Scheme: fuzzSchemes[0]}).Encode(img, nil)
		if err != nil || payload[1] < 2 || payload[1] > 6 {
			f.Fatalf("Y'CbCr seed: mode %d, %v", payload[1], err)
		}
		w, h, color, depth := fuzzArgs(img)
		f.Add(uint8(0), w, h, color, depth, payload)
	}
	for si, sc := range fuzzSchemes {
		cd := &bbcore.Coder{Model: m, Scheme: sc, AllVAE: true}
		for _, img := range seeds {
			payload, err := cd.Encode(img, nil)
			if err != nil {
				f.Fatalf("encode %dx%d %v: %v", img.Width, img.Height, img.Color, err)
			}
			w, h, color, depth := fuzzArgs(img)
			f.Add(uint8(si), w, h, color, depth, payload)
			if img.Width*img.Height < 64*64 {
				continue
			}
			patches := imageio.NewGrid(img.Width, img.Height).Len()
			if p := editVAEHeader(payload, patches, func(*bbcore.Info) {}); p != nil && !bytes.Equal(p, payload) {
				f.Fatal("editVAEHeader does not reproduce the payload header: update it to the payload format")
			}
			// The same data under other schedules: a chain that starts late (steps in which
			// no chain is active), all chains at once, more chains, other fallback patches.
			for _, edit := range []func(in *bbcore.Info){
				func(in *bbcore.Info) { in.Starts[len(in.Starts)-1] += 40 },
				func(in *bbcore.Info) { clear(in.Starts) },
				func(in *bbcore.Info) {
					in.Chains *= 2
					in.Starts = append(in.Starts, in.Starts...)
				},
				func(in *bbcore.Info) {
					for i := range in.Bitmap {
						in.Bitmap[i] ^= 0x55
					}
				},
			} {
				if p := editVAEHeader(payload, patches, edit); p != nil {
					f.Add(uint8(si), w, h, color, depth, p)
				}
			}
		}
	}
	coders := make([]*bbcore.Coder, len(fuzzSchemes))
	for i, sc := range fuzzSchemes {
		coders[i] = &bbcore.Coder{Model: m, Scheme: sc}
	}
	alloc := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	f.Fuzz(func(t *testing.T, scheme uint8, w, h uint16, color, depth uint8, payload []byte) {
		hd := fuzzHeader(w, h, color, depth)
		cd := coders[int(scheme)%len(coders)]
		before := heapAllocBytes(alloc)
		img, err := cd.Decode(hd, payload, nil)
		if n := heapAllocBytes(alloc) - before; n > fuzzAllocLimit {
			t.Errorf("%dx%d %v/%d, %d payload bytes: decoding allocated %d MiB", hd.Width, hd.Height, hd.Color, hd.Depth, len(payload), n>>20)
		}
		if err != nil {
			return
		}
		if img.Width != hd.Width || img.Height != hd.Height || img.Color != hd.Color || img.Depth != hd.Depth {
			t.Fatalf("decoded a %dx%d %v/%d image for a %dx%d %v/%d header",
				img.Width, img.Height, img.Color, img.Depth, hd.Width, hd.Height, hd.Color, hd.Depth)
		}
		if err := img.Validate(); err != nil {
			t.Fatalf("decoded an invalid image: %v", err)
		}
	})
}
