package bitswap_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/bitswap-codec/bitswap/bbans"
	"github.com/bitswap-codec/bitswap/bitswap"
	"github.com/bitswap-codec/bitswap/codec"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/bbcore"
	"github.com/bitswap-codec/bitswap/vae/nn"
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

// TestRoundTripAwkwardSizes: exact round trips of photo crops of awkward sizes, RGBA and gray
// with the embedded model, through both bits-back coders.
func TestRoundTripAwkwardSizes(t *testing.T) {
	photo := load(t, "picos-512x384.png")
	sizes := [][2]int{{1, 1}, {33, 17}, {100, 75}, {512, 384}}
	m, err := weights.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, coder := range []string{"bitswap", "bbans"} {
		var scheme bbcore.Scheme = bitswap.Scheme{}
		if coder == "bbans" {
			scheme = bbans.Scheme{}
		}
		allVAE := &bbcore.Coder{Model: m, Scheme: scheme, AllVAE: true}
		for _, sz := range sizes {
			if coder == "bbans" && sz[0] == 512 && testing.Short() {
				continue
			}
			img := crop(photo, sz[0], sz[1])
			roundTrip(t, img, coder)        // as registered: per-patch choice
			allVAERoundTrip(t, allVAE, img) // the model on every patch it can
		}
		allVAERoundTrip(t, allVAE, load(t, "waves-rgba-64x48.png"))
		roundTrip(t, load(t, "waves-rgba-64x48.png"), coder)
		// Gray: the fallback path inside the coder.
		gray := imageio.New(45, 38, imageio.Gray, 8)
		copy(gray.Planes[0], crop(photo, 45, 38).Planes[1])
		roundTrip(t, gray, coder)
		// 16-bit RGB.
		deep := imageio.New(40, 33, imageio.RGB, 16)
		rng := rand.New(rand.NewPCG(1, 1))
		for c := range deep.Planes {
			for i := range deep.Planes[c] {
				deep.Planes[c][i] = uint16(rng.IntN(65536))
			}
		}
		roundTrip(t, deep, coder)
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
	negELBO := bbcore.PatchNegELBO(m, img, in.Fallback(P))
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
// number of workers the networks run on.
func TestSameBytesAnyWorkers(t *testing.T) {
	img := crop(load(t, "picos-512x384.png"), 200, 130)
	prev := nn.Workers
	defer func() { nn.Workers = prev }()
	var files [][]byte
	for _, w := range []int{1, 2, 3} {
		nn.Workers = w
		data, err := codec.Encode(img, "bitswap", nil)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, data)
	}
	for i := 1; i < len(files); i++ {
		if !bytes.Equal(files[0], files[i]) {
			t.Fatalf("workers %d gives other bytes than 1 worker", i+1)
		}
	}
	nn.Workers = 1
	got, _, err := codec.Decode(files[1], nil)
	if err != nil || !imageio.Equal(got, img) {
		t.Fatalf("decoding with 1 worker a file made with 2: %v", err)
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

func TestMain(m *testing.M) {
	os.Exit(m.Run())
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
