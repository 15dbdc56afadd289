package bitswap_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/bitswap-codec/bitswap/bbans"
	"github.com/bitswap-codec/bitswap/bitswap"
	"github.com/bitswap-codec/bitswap/codec"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/bbcore"
	"github.com/bitswap-codec/bitswap/weights"
)

func load(t testing.TB, name string) *imageio.Image {
	t.Helper()
	img, _, err := imageio.DecodeFile(filepath.Join("..", "testdata", name), nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// crop returns the w x h top-left part of img (w, h at most its size).
func crop(img *imageio.Image, w, h int) *imageio.Image {
	out := imageio.New(w, h, img.Color, img.Depth)
	for c := range out.Planes {
		for y := 0; y < h; y++ {
			copy(out.Planes[c][y*w:(y+1)*w], img.Planes[c][y*img.Width:y*img.Width+w])
		}
	}
	return out
}

func roundTrip(t *testing.T, img *imageio.Image, coder string) []byte {
	t.Helper()
	data, err := codec.Encode(img, coder, nil)
	if err != nil {
		t.Fatalf("%s encode %dx%d: %v", coder, img.Width, img.Height, err)
	}
	got, h, err := codec.Decode(data, nil)
	if err != nil {
		t.Fatalf("%s decode %dx%d: %v", coder, img.Width, img.Height, err)
	}
	if h.Coder.String() != coder {
		t.Fatalf("header says coder %v, want %s", h.Coder, coder)
	}
	if !imageio.Equal(img, got) {
		t.Fatalf("%s %dx%d: decoded image differs", coder, img.Width, img.Height)
	}
	return data
}

// modelPatches returns how many of img's patches a bits-back payload codes with the model: 0
// when the whole image went through the fallback coder, else the patches its bitmap leaves
// to the model. A VAE payload must leave at least one patch to each side: the first chain
// pops the clean bits of fallback-coded patches.
func modelPatches(t *testing.T, payload []byte, img *imageio.Image) int {
	t.Helper()
	P := imageio.NewGrid(img.Width, img.Height).Len()
	in, err := bbcore.Inspect(payload, P)
	if err != nil {
		t.Fatalf("%dx%d: inspect: %v", img.Width, img.Height, err)
	}
	if !in.VAE {
		return 0
	}
	if in.Clean < 1 || in.Clean >= P {
		t.Fatalf("%dx%d: a VAE payload with %d of its %d patches on the fallback side", img.Width, img.Height, in.Clean, P)
	}
	return P - in.Clean
}

// fileModelPatches is modelPatches for a whole .bsw file.
func fileModelPatches(t *testing.T, data []byte, img *imageio.Image) int {
	t.Helper()
	_, payload, err := container.Split(data, container.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return modelPatches(t, payload, img)
}

// TestRoundTripAwkwardSizes: exact round trips of photo crops of awkward sizes, RGBA and gray
// with the embedded model, through both bits-back coders; with the model forced on every
// patch it can, it must code most patches of the large crop (Bit-Swap needing fewer clean
// patches than BB-ANS), and it never codes gray or 16-bit images.
func TestRoundTripAwkwardSizes(t *testing.T) {
	photo := load(t, "picos-512x384.png")
	// min: the fewest patches the model may code, with AllVAE, in the bitswap and bbans
	// coders. 1x1: one patch cannot seed itself; 100x75 (12 patches): Bit-Swap starts on the
	// clean bits of some of them (8 with the embedded model as of this writing), BB-ANS pops
	// every latent layer first and needs more than there are; 512x384 (192 patches): only the
	// first chain needs clean bits (8 and 24 patches as of this writing).
	sizes := []struct{ w, h, min, minBBANS int }{{1, 1, 0, 0}, {33, 17, 0, 0}, {100, 75, 1, 0}, {512, 384, 144, 96}}
	m, err := weights.Default()
	if err != nil {
		t.Fatal(err)
	}
	clean := map[[2]int]int{} // Bit-Swap's clean patches per crop
	for _, coder := range []string{"bitswap", "bbans"} {
		var scheme bbcore.Scheme = bitswap.Scheme{}
		if coder == "bbans" {
			scheme = bbans.Scheme{}
		}
		allVAE := &bbcore.Coder{Model: m, Scheme: scheme, AllVAE: true}
		for _, sz := range sizes {
			if coder == "bbans" && sz.w == 512 && testing.Short() {
				continue
			}
			img := crop(photo, sz.w, sz.h)
			P := imageio.NewGrid(sz.w, sz.h).Len()
			// As registered: per-patch choice. How many patches the model wins depends on
			// the model (none of these as of this writing, see docs/bench.md).
			chosen := fileModelPatches(t, roundTrip(t, img, coder), img)
			// The model on every patch it can.
			n := modelPatches(t, allVAERoundTrip(t, allVAE, img), img)
			t.Logf("%s %dx%d: the model codes %d of %d patches by choice, %d with AllVAE", coder, sz.w, sz.h, chosen, P, n)
			want := sz.min
			if coder == "bbans" {
				want = sz.minBBANS
			}
			if n < want {
				t.Errorf("%s %dx%d, AllVAE: the model coded %d of %d patches, want at least %d", coder, sz.w, sz.h, n, P, want)
			}
			key := [2]int{sz.w, sz.h}
			if coder == "bitswap" {
				clean[key] = P - n
			} else if c, ok := clean[key]; ok && n > 0 && P-n < c {
				t.Errorf("%dx%d, AllVAE: BB-ANS started on %d clean patches, Bit-Swap needed %d", sz.w, sz.h, P-n, c)
			}
		}
		waves := load(t, "waves-rgba-64x48.png")
		n := modelPatches(t, allVAERoundTrip(t, allVAE, waves), waves)
		chosen := fileModelPatches(t, roundTrip(t, waves, coder), waves)
		t.Logf("%s waves-rgba-64x48: the model codes %d of 4 patches by choice, %d with AllVAE", coder, chosen, n)
		// Gray: the fallback path inside the coder.
		gray := imageio.New(45, 38, imageio.Gray, 8)
		copy(gray.Planes[0], crop(photo, 45, 38).Planes[1])
		if n := fileModelPatches(t, roundTrip(t, gray, coder), gray); n != 0 {
			t.Errorf("%s: the model coded %d patches of a gray image", coder, n)
		}
		// 16-bit RGB.
		deep := imageio.New(40, 33, imageio.RGB, 16)
		rng := rand.New(rand.NewPCG(1, 1))
		for c := range deep.Planes {
			for i := range deep.Planes[c] {
				deep.Planes[c][i] = uint16(rng.IntN(65536))
			}
		}
		if n := fileModelPatches(t, roundTrip(t, deep, coder), deep); n != 0 {
			t.Errorf("%s: the model coded %d patches of a 16-bit image", coder, n)
		}
	}
}

// TestRateNearNegELBO: on a photo whose size is a multiple of 32 (no padding), the bits the
// VAE patches cost are close to the model's -ELBO. The clean patches that seed the stack go
// through the fallback coder and are accounted separately.
func TestRateNearNegELBO(t *testing.T) {
	img := load(t, "picos-512x384.png")
	m, err := weights.Default()
	if err != nil {
		t.Fatal(err)
	}
	// The model codes every patch it can: the VAE-coded part must cost what -ELBO says.
	cd := &bbcore.Coder{Model: m, Scheme: bitswap.Scheme{}, AllVAE: true}
	payload := allVAERoundTrip(t, cd, img)
	P := imageio.NewGrid(img.Width, img.Height).Len()
	in, err := bbcore.Inspect(payload, P)
	if err != nil || !in.VAE {
		t.Fatalf("inspect: %+v, %v", in, err)
	}
	first := in.Clean // the seeding patches are the first ones
	vaeRate := float64((in.MessageBytes-in.CleanBytes)*8) / float64((P-first)*3*32*32)
	negELBO := bbcore.PatchNegELBO(m, img, in.Fallback(P), in.Calib)
	t.Logf("VAE part %.4f bits/subpixel, its -ELBO %.4f (%d clean patches)", vaeRate, negELBO, first)
	// -ELBO is a one-sample estimate; discretization and the flushed lanes add a little.
	if math.Abs(vaeRate/negELBO-1) > 0.02 {
		t.Fatalf("VAE part %.4f bits/subpixel is not within 2%% of -ELBO %.4f", vaeRate, negELBO)
	}
}

// TestNeverWorseThanFallback: the registered coder's file is never larger than the fallback
// coder's on the same image but for its 2-byte payload header (it gives each patch to
// whichever codes it better, and the whole image to the fallback coder when that wins).
func TestNeverWorseThanFallback(t *testing.T) {
	for _, f := range []string{"picos-100x75.png", "path-256x192.png", "waves-rgba-64x48.png"} {
		img := load(t, f)
		vaeFile := roundTrip(t, img, "bitswap")
		fbFile := roundTrip(t, img, "fallback")
		if len(vaeFile) > len(fbFile)+2 {
			t.Fatalf("%s: bitswap %d bytes, fallback %d", f, len(vaeFile), len(fbFile))
		}
	}
}

// TestSameBytesAnyWorkers: the encoder's output and the decoder's result do not depend on the
// number of workers the networks run on, for the registered coder (whose choice of patches
// runs the model) and with the model coding every patch it can (several chains: batches of
// patches through the networks), with the coders used from several goroutines at once.
func TestSameBytesAnyWorkers(t *testing.T) {
	img := crop(load(t, "picos-512x384.png"), 200, 130)
	m, err := weights.Default()
	if err != nil {
		t.Fatal(err)
	}
	// The registered coder and a bbcore.Coder value, each used from three goroutines at once.
	workers := []int{1, 2, 3}
	files, payloads := make([][]byte, len(workers)), make([][]byte, len(workers))
	errs := make(chan error, 2*len(workers))
	for i, w := range workers {
		go func() {
			var err error
			files[i], err = codec.Encode(img, "bitswap", &codec.Options{Workers: w})
			errs <- err
		}()
		go func() {
			allVAE := &bbcore.Coder{Model: m, Scheme: bitswap.Scheme{}, AllVAE: true, Workers: w}
			var err error
			payloads[i], err = allVAE.Encode(img, nil)
			errs <- err
		}()
	}
	for range 2 * len(workers) {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i < len(files); i++ {
		if !bytes.Equal(files[0], files[i]) {
			t.Fatalf("workers %d gives other bytes than 1 worker", i+1)
		}
		if !bytes.Equal(payloads[0], payloads[i]) {
			t.Fatalf("AllVAE: workers %d gives other bytes than 1 worker", i+1)
		}
	}
	// 35 patches: with the model on every patch, all but the first chain's clean patches.
	if n := modelPatches(t, payloads[0], img); n < 17 {
		t.Fatalf("AllVAE: the model coded %d of 35 patches, want at least 17", n)
	}
	got, _, err := codec.Decode(files[1], &codec.Options{Workers: 1})
	if err != nil || !imageio.Equal(got, img) {
		t.Fatalf("decoding with 1 worker a file made with 2: %v", err)
	}
	h := &container.Header{Width: img.Width, Height: img.Height, Color: img.Color, Depth: img.Depth}
	allVAE := &bbcore.Coder{Model: m, Scheme: bitswap.Scheme{}, AllVAE: true, Workers: 1}
	got, err = allVAE.Decode(h, payloads[1], nil)
	if err != nil || !imageio.Equal(got, img) {
		t.Fatalf("AllVAE: decoding with 1 worker a payload made with 2: %v", err)
	}
}

// TestOtherModelRefused: a file whose header names other weights is refused with
// ErrModelMismatch, not decoded into wrong pixels.
func TestOtherModelRefused(t *testing.T) {
	img := load(t, "cups-64x48.png")
	data, err := codec.Encode(img, "bitswap", nil)
	if err != nil {
		t.Fatal(err)
	}
	h, payload, err := container.Split(data, container.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	h.ModelID[0] ^= 0xff
	forged, err := h.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	forged = append(forged, payload...)
	if _, _, err := codec.Decode(forged, nil); !errors.Is(err, container.ErrModelMismatch) {
		t.Fatalf("decoding with another model id: err = %v, want ErrModelMismatch", err)
	}
}

// TestCorruptPayload: flipped bits and truncations of a bitswap file give errors, never a
// panic or a wrong image.
func TestCorruptPayload(t *testing.T) {
	img := load(t, "cups-64x48.png")
	data, err := codec.Encode(img, "bitswap", nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	for i := 0; i < 200; i++ {
		bad := append([]byte(nil), data...)
		pos := container.HeaderSize + rng.IntN(len(data)-container.HeaderSize)
		bad[pos] ^= byte(1 << rng.IntN(8))
		if got, _, err := codec.Decode(bad, nil); err == nil && !imageio.Equal(got, img) {
			t.Fatalf("flipping a bit at %d gave a wrong image without error", pos)
		}
	}
	for _, n := range []int{container.HeaderSize, container.HeaderSize + 1, len(data) / 2, len(data) - 1} {
		if _, _, err := codec.Decode(data[:n], nil); err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
	}
}

// allVAERoundTrip codes img with the model on every patch it can and checks the decode.
func allVAERoundTrip(t *testing.T, cd *bbcore.Coder, img *imageio.Image) []byte {
	t.Helper()
	payload, err := cd.Encode(img, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &container.Header{Width: img.Width, Height: img.Height, Color: img.Color, Depth: img.Depth}
	got, err := cd.Decode(h, payload, nil)
	if err != nil {
		t.Fatalf("%dx%d: decode: %v", img.Width, img.Height, err)
	}
	if !imageio.Equal(got, img) {
		t.Fatalf("%dx%d: decoded image differs", img.Width, img.Height)
	}
	return payload
}
