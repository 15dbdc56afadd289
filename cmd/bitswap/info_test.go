package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/bitswap-codec/bitswap/bitswap"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/bbcore"
	"github.com/bitswap-codec/bitswap/weights"
)

// TestInfoModelCoded: info counts the patches the model coded, from the payload's bitmap.
func TestInfoModelCoded(t *testing.T) {
	img, _, err := imageio.DecodeFile(filepath.Join("..", "..", "testdata", "picos-512x384.png"), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := weights.Default()
	if err != nil {
		t.Fatal(err)
	}
	h := &container.Header{Coder: container.BitSwap, Width: img.Width, Height: img.Height}
	P := imageio.NewGrid(img.Width, img.Height).Len()
	cd := &bbcore.Coder{Model: m, Scheme: bitswap.Scheme{}, AllVAE: true}
	payload, err := cd.Encode(img, nil)
	if err != nil {
		t.Fatal(err)
	}
	info, err := bbcore.Inspect(payload, P)
	if err != nil || !info.VAE {
		t.Fatalf("Inspect: %+v, %v", info, err)
	}
	got := modelCoded(payload, h)
	match := regexp.MustCompile(`^model-coded patches: (\d+) of (\d+) \(\d+%\)$`).FindStringSubmatch(got)
	if match == nil {
		t.Fatalf("modelCoded says %q", got)
	}
	n, _ := strconv.Atoi(match[1])
	total, _ := strconv.Atoi(match[2])
	if total != P || n != P-info.Clean || n == 0 {
		t.Fatalf("modelCoded says %q; the payload has %d of %d patches on the fallback side", got, info.Clean, P)
	}
	whole, err := (&bbcore.Coder{Model: m, Scheme: bitswap.Scheme{}}).Encode(imageio.New(64, 64, imageio.RGB, 8), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := modelCoded(whole, &container.Header{Width: 64, Height: 64}); got != "model-coded patches: 0 of 4 (0%): the fallback coder coded the whole image" {
		t.Fatalf("a flat image: %q", got)
	}
}
