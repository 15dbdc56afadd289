package bitswap_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/bitswap-codec/bitswap/bbans"
	"github.com/bitswap-codec/bitswap/bitswap"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/bbcore"
	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/weights"
)

// TestMeasure prints the measurements of docs/coding.md: achieved rates against -ELBO for both
// coders, the seeding (clean-bit) overhead, and the latent discretization choices. It is a
// measurement, not a check: run it with BITSWAP_MEASURE=1 go test ./bitswap -run Measure -v
// (optionally BITSWAP_MEASURE_IMAGES=a.png,b.png).
func TestMeasure(t *testing.T) {
	if os.Getenv("BITSWAP_MEASURE") == "" {
		t.Skip("set BITSWAP_MEASURE=1 to run the measurements")
	}
	files := []string{"../testdata/picos-512x384.png", "../testdata/path-256x192.png"}
	if s := os.Getenv("BITSWAP_MEASURE_IMAGES"); s != "" {
		files = splitComma(s)
	}
	base, err := weights.Default()
	if err != nil {
		t.Fatal(err)
	}
	if w := os.Getenv("BITSWAP_MEASURE_MODEL"); w != "" { // another weights file
		data, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		if base, err = vae.UnmarshalWeights(data); err != nil {
			t.Fatal(err)
		}
		if err := bitswap.Coder.UseWeights(data); err != nil {
			t.Fatal(err)
		}
		defer bitswap.Coder.UseWeights(nil)
	}
	for _, f := range files {
		img, _, err := imageio.DecodeFile(f, nil)
		if err != nil {
			t.Fatal(err)
		}
		img = rgbOnly(img)
		dims := float64(img.Width * img.Height * 3)
		neg, err := bitswap.Coder.NegELBO(img)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("\n%s (%dx%d): model -ELBO %.4f bits/subpixel\n", f, img.Width, img.Height, neg)
		fmt.Printf("%-34s %9s %9s %6s %7s %11s %11s %9s\n", "coder / setting", "bytes", "bits/dim", "clean", "chains", "VAE part", "its -ELBO", "overhead")
		run := func(name string, cd *bbcore.Coder) {
			t0 := time.Now()
			p, err := cd.Encode(img, nil)
			if err != nil {
				t.Fatal(err)
			}
			h := &container.Header{Width: img.Width, Height: img.Height, Color: img.Color, Depth: 8}
			t1 := time.Now()
			got, err := cd.Decode(h, p, nil)
			t2 := time.Now()
			defer fmt.Printf("%-34s encode %.2f s, decode %.2f s\n", "", t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds())
			if err != nil || !imageio.Equal(got, img) {
				t.Fatalf("%s: round trip failed: %v", name, err)
			}
			in, _ := bbcore.Inspect(p, imageio.NewGrid(img.Width, img.Height).Len())
			if !in.VAE {
				fmt.Printf("%-34s %9d %9.4f  (whole image through the fallback coder)\n", name, len(p)+container.HeaderSize, float64((len(p)+container.HeaderSize)*8)/dims)
				return
			}
			total := len(p) + container.HeaderSize
			// The VAE-coded patches: the message minus the clean bits at its bottom, against
			// the -ELBO of those patches (same model, same bins).
			grid := imageio.NewGrid(img.Width, img.Height)
			vaeDims := float64((grid.Len() - in.Clean) * 3 * 32 * 32)
			vaeRate := float64((in.MessageBytes-in.CleanBytes)*8) / vaeDims
			vaeELBO := bbcore.PatchNegELBO(cd.Model, img, in.Fallback(grid.Len()))
			fmt.Printf("%-34s %9d %9.4f %6d %7d %11.4f %11.4f %8.2f%%\n", name, total, float64(total*8)/dims,
				in.Clean, in.Chains, vaeRate, vaeELBO, 100*(vaeRate/vaeELBO-1))
		}
		run("bitswap (per-patch choice)", &bbcore.Coder{Model: base, Scheme: bitswap.Scheme{}})
		run("bitswap (fitted bins, k=10)", &bbcore.Coder{Model: base, Scheme: bitswap.Scheme{}, AllVAE: true})
		run("bbans   (fitted bins, k=10)", &bbcore.Coder{Model: base, Scheme: bbans.Scheme{}, AllVAE: true})
		for _, k := range []uint{8, 12} {
			run(fmt.Sprintf("bitswap (fitted bins, k=%d)", k), &bbcore.Coder{Model: base, Scheme: bitswap.Scheme{}, Bits: k, AllVAE: true})
		}
		std := *base
		std.Bins = make([]vae.BinRef, len(base.Bins))
		for i := range std.Bins {
			std.Bins[i] = vae.BinRef{M: 0, S: 1}
		}
		run("bitswap (standard logistic, k=10)", &bbcore.Coder{Model: &std, Scheme: bitswap.Scheme{}, AllVAE: true})
	}
}

func rgbOnly(img *imageio.Image) *imageio.Image {
	if img.Color == imageio.RGB {
		return img
	}
	out := imageio.New(img.Width, img.Height, imageio.RGB, img.Depth)
	copy(out.Planes, img.Planes[:3])
	return out
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
