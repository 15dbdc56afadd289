package bitswap_test

import (
	"os"
	"path/filepath"
	"strings"
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

// BenchmarkCodingRate gives the measurements of docs/coding.md: the rates both coders achieve
// against the model's -ELBO, the seeding (clean-bit) overhead, and the latent discretization
// choices. It has one sub-benchmark per image and coder setting
// (BenchmarkCodingRate/picos-512x384/bitswap-allvae-k10, ...); one op encodes and decodes the
// image (its RGB planes) and checks that the decode is exact. Its metrics:
//
//	bits/dim              the whole file (payload and container header), bits per subpixel
//	negelbo-bits/dim      the model's -ELBO of the whole image
//	vae-patches           the patches the model coded
//	clean-patches         the patches the fallback coder coded (their bits seed the stack)
//	chains                the bits-back chains
//	vae-bits/dim          the model's part of the message (the message minus its clean bits)
//	                      per subpixel of the patches the model coded
//	vae-negelbo-bits/dim  the -ELBO of those patches (same model, same bins, the context the
//	                      coder gives them)
//	rate/negelbo          vae-bits/dim over vae-negelbo-bits/dim (1.002: 0.2% above -ELBO)
//	encode-sec/op, decode-sec/op
//
// The vae-* metrics and rate/negelbo are left out when the model coded nothing (the whole
// image went through the fallback coder). Run it with
//
//	go test ./bitswap -run '^$' -bench CodingRate -benchtime 1x
//
// (-bench 'CodingRate/path' for one image, 'CodingRate/.*/bitswap-allvae-k10' for one
// setting). -short measures only the smaller image. BITSWAP_MEASURE_IMAGES=a.png,b.png
// measures other images, BITSWAP_MEASURE_MODEL=FILE another weights file (as written by
// `bitswap train --export`).
func BenchmarkCodingRate(b *testing.B) {
	files := []string{"../testdata/picos-512x384.png", "../testdata/path-256x192.png"}
	if testing.Short() {
		files = files[1:]
	}
	if s := os.Getenv("BITSWAP_MEASURE_IMAGES"); s != "" {
		files = splitComma(s)
	}
	base, err := weights.Default()
	if err != nil {
		b.Fatal(err)
	}
	registered := bitswap.Coder
	if w := os.Getenv("BITSWAP_MEASURE_MODEL"); w != "" { // another weights file
		data, err := os.ReadFile(w)
		if err != nil {
			b.Fatal(err)
		}
		if base, err = vae.UnmarshalWeights(data); err != nil {
			b.Fatal(err)
		}
		if registered, err = bitswap.WithWeights(data); err != nil { // for its NegELBO
			b.Fatal(err)
		}
	}
	std := *base // the same model with the standard logistic as every channel's bin reference
	std.Bins = make([]vae.BinRef, len(base.Bins))
	for i := range std.Bins {
		std.Bins[i] = vae.BinRef{M: 0, S: 1}
	}
	settings := []struct {
		name string
		cd   *bbcore.Coder
	}{
		{"bitswap-choice", &bbcore.Coder{Model: base, Scheme: bitswap.Scheme{}}}, // as registered: per-patch choice
		{"bitswap-allvae-k10", &bbcore.Coder{Model: base, Scheme: bitswap.Scheme{}, AllVAE: true}},
		{"bbans-allvae-k10", &bbcore.Coder{Model: base, Scheme: bbans.Scheme{}, AllVAE: true}},
		{"bitswap-allvae-k8", &bbcore.Coder{Model: base, Scheme: bitswap.Scheme{}, Bits: 8, AllVAE: true}},
		{"bitswap-allvae-k12", &bbcore.Coder{Model: base, Scheme: bitswap.Scheme{}, Bits: 12, AllVAE: true}},
		{"bitswap-allvae-stdbins-k10", &bbcore.Coder{Model: &std, Scheme: bitswap.Scheme{}, AllVAE: true}},
	}
	for _, f := range files {
		img, _, err := imageio.DecodeFile(f, nil)
		if err != nil {
			b.Fatal(err)
		}
		img = rgbOnly(img)
		neg, err := registered.NegELBO(img)
		if err != nil {
			b.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		for _, s := range settings {
			b.Run(name+"/"+s.name, func(b *testing.B) { benchCodingRate(b, s.cd, img, neg) })
		}
	}
}

// benchCodingRate is one sub-benchmark of BenchmarkCodingRate: cd on img, whose -ELBO is neg.
func benchCodingRate(b *testing.B, cd *bbcore.Coder, img *imageio.Image, neg float64) {
	h := &container.Header{Width: img.Width, Height: img.Height, Color: img.Color, Depth: img.Depth}
	var p []byte
	var enc, dec time.Duration
	for b.Loop() {
		t0 := time.Now()
		var err error
		if p, err = cd.Encode(img, nil); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		got, err := cd.Decode(h, p, nil)
		enc, dec = enc+t1.Sub(t0), dec+time.Since(t1)
		if err != nil || !imageio.Equal(got, img) {
			b.Fatalf("round trip failed: %v", err)
		}
	}
	dims := float64(img.Width * img.Height * 3)
	b.ReportMetric(float64((len(p)+container.HeaderSize)*8)/dims, "bits/dim")
	b.ReportMetric(neg, "negelbo-bits/dim")
	b.ReportMetric(enc.Seconds()/float64(b.N), "encode-sec/op")
	b.ReportMetric(dec.Seconds()/float64(b.N), "decode-sec/op")
	P := imageio.NewGrid(img.Width, img.Height).Len()
	in, err := bbcore.Inspect(p, P)
	if err != nil {
		b.Fatal(err)
	}
	if !in.VAE {
		b.ReportMetric(0, "vae-patches")
		return
	}
	// The VAE-coded patches: the message minus the clean bits at its bottom, against the
	// -ELBO of those patches.
	vaeRate := float64((in.MessageBytes-in.CleanBytes)*8) / float64((P-in.Clean)*3*32*32)
	vaeELBO := bbcore.PatchNegELBO(cd.Model, img, in.Fallback(P), in.Calib)
	b.ReportMetric(float64(P-in.Clean), "vae-patches")
	b.ReportMetric(float64(in.Clean), "clean-patches")
	b.ReportMetric(float64(in.Chains), "chains")
	b.ReportMetric(vaeRate, "vae-bits/dim")
	b.ReportMetric(vaeELBO, "vae-negelbo-bits/dim")
	b.ReportMetric(vaeRate/vaeELBO, "rate/negelbo")
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
	for _, f := range strings.Split(s, ",") {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}
