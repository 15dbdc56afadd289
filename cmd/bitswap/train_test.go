package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEvalLumaOnly: `train --eval` scores every validation image next to the fallback coder,
// and with --luma-only says it measures Y' given the chroma, which costs less than the whole.
func TestEvalLumaOnly(t *testing.T) {
	dir := t.TempDir()
	val := filepath.Join(dir, "val")
	if err := os.MkdirAll(val, 0o755); err != nil {
		t.Fatal(err)
	}
	im := image.NewNRGBA(image.Rect(0, 0, 64, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 64; x++ {
			im.Set(x, y, color.NRGBA{uint8(x*3 + y*y%7), uint8(120 + x/2%3), uint8(130 + y/2%5), 255}) // 4:2:0 planes
		}
	}
	f, err := os.Create(filepath.Join(val, "p.ycc.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, im); err != nil {
		t.Fatal(err)
	}
	f.Close()
	model := filepath.Join("..", "..", "weights", "default.bsm")
	score := func(args ...string) (head string, bpd float64) {
		r := mustOK(t, runCLI(t, nil, append([]string{"train", "--eval", model, "--data", dir}, args...)...))
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[2], "p.ycc.png") || !strings.Contains(lines[3], "the fallback coder") {
			t.Fatalf("output:\n%s", r.stdout)
		}
		v, err := strconv.ParseFloat(strings.Fields(lines[2])[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		return lines[0], v
	}
	head, all := score()
	headY, luma := score("--luma-only")
	if strings.Contains(head, "Y'") || !strings.Contains(headY, "Y' given the chroma") {
		t.Fatalf("headers %q, %q", head, headY)
	}
	if !(luma < all) {
		t.Fatalf("-ELBO %v of Y' alone, %v of the whole", luma, all)
	}
}
