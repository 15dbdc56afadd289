package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitswap-codec/bitswap/bsw"
	"github.com/bitswap-codec/bitswap/imageio"
)

// TestInfoModelCoded: info says how many patches the model coded, as bsw.Inspect counts
// them, or why it coded none.
func TestInfoModelCoded(t *testing.T) {
	golden := filepath.Join("..", "..", "testdata", "golden")
	for _, c := range []struct{ file, want string }{
		{"rgb-jpeg-bitswap.bsw", "model-coded patches: 0 of 4 (0%): the fallback coder coded the Y'CbCr planes behind the pixels (a decoded JPEG or WebP)"},
		{"rgb-fallback.bsw", ""},
	} {
		out := mustOK(t, runCLI(t, nil, "info", filepath.Join(golden, c.file))).stdout
		if got := modelCodedLine(out); got != c.want {
			t.Errorf("%s: %q, want %q", c.file, got, c.want)
		}
	}
	// The count comes from Inspect (whose tests check it against the payload).
	path := filepath.Join(golden, "rgb-bitswap.bsw")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, err := bsw.Inspect(f, nil)
	if err != nil || in.Mode != bsw.ModeModel || in.ModelPatches == 0 {
		t.Fatalf("Inspect: %+v, %v", in, err)
	}
	out := mustOK(t, runCLI(t, nil, "info", path)).stdout
	if got, want := modelCodedLine(out), modelCoded(in); got != want || !strings.Contains(want, " of 9 (") {
		t.Errorf("info says %q, want %q", got, want)
	}
	// A flat image: the model codes no patch.
	var flat bytes.Buffer
	if err := bsw.EncodeImage(&flat, imageio.New(64, 64, imageio.RGB, 8), &bsw.Options{Coder: "bitswap"}); err != nil {
		t.Fatal(err)
	}
	out = mustOK(t, runCLI(t, flat.Bytes(), "info", "-")).stdout
	if got := modelCodedLine(out); got != "model-coded patches: 0 of 4 (0%): the fallback coder coded the whole image" {
		t.Errorf("a flat image: %q", got)
	}
}

// modelCodedLine returns the "model-coded patches" line of info's output, or "".
func modelCodedLine(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "model-coded patches:") {
			return line
		}
	}
	return ""
}
