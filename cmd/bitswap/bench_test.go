package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchCLI runs the app in-process with no stdin.
func benchCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(append([]string{"bitswap", "bench"}, args...), bytes.NewReader(nil), &out, &errb)
	return code, out.String(), errb.String()
}

// benchDir writes two small PNGs (70x40 RGB, 40x33 gray) into a new directory.
func benchDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	rgb := image.NewNRGBA(image.Rect(0, 0, 70, 40))
	gray := image.NewGray(image.Rect(0, 0, 40, 33))
	for y := 0; y < 40; y++ {
		for x := 0; x < 70; x++ {
			rgb.SetNRGBA(x, y, color.NRGBA{uint8(x * 3), uint8(y*5 + x%3), uint8(x ^ y), 255})
			if x < 40 && y < 33 {
				gray.SetGray(x, y, color.Gray{uint8(x*y + y)})
			}
		}
	}
	for name, m := range map[string]image.Image{"rgb.png": rgb, "gray.png": gray} {
		var b bytes.Buffer
		if err := png.Encode(&b, m); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBenchCommand(t *testing.T) {
	dir := benchDir(t)
	out := t.TempDir()
	csvPath, jsonPath, plotPath := filepath.Join(out, "r.csv"), filepath.Join(out, "r.json"), filepath.Join(out, "r.png")
	code, stdout, stderr := benchCLI(dir, "--codecs", "gzip,png,fallback", "--csv", csvPath, "--json", jsonPath, "--plot", plotPath)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"rgb.png (64x32x3, cropped from 70x40)", "gray.png (32x32x1, cropped from 40x33)",
		"gzip -9 (compress/gzip)", "png best (image/png)", "bitswap fallback (.bsw file)", "Summary over 2 image(s)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "[1/2]") || !strings.Contains(stderr, "[1/2] gray.png: gzip -9 (compress/gzip):") {
		t.Errorf("progress must go to stderr only\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 1+2*3 || recs[0][0] != "image" || recs[0][len(recs[0])-1] != "error" {
		t.Fatalf("csv: %v %v", err, recs)
	}
	js, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(js, &doc); err != nil || len(doc.Rows) != 6 {
		t.Fatalf("json: %v %d rows", err, len(doc.Rows))
	}
	pf, err := os.Open(plotPath)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if _, err := png.Decode(pf); err != nil {
		t.Fatalf("plot: %v", err)
	}

	// Flags after the arguments, uncropped, quiet.
	code, stdout, stderr = benchCLI(filepath.Join(dir, "rgb.png"), "--codecs", "gzip", "--uncropped", "-q", "-j", "2")
	if code != 0 || !strings.Contains(stdout, "rgb.png (70x40x3)") || stderr != "" {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

func TestBenchCommandErrors(t *testing.T) {
	dir := benchDir(t)
	if code, _, stderr := benchCLI(); code != 2 || !strings.Contains(stderr, "give image files") {
		t.Errorf("no args: %d %q", code, stderr)
	}
	if code, _, stderr := benchCLI("--codecs", "zstd", dir); code != 2 || !strings.Contains(stderr, "unknown codec zstd") {
		t.Errorf("unknown codec: %d %q", code, stderr)
	}
	if code, _, stderr := benchCLI("--plot", "x.gif", dir); code != 2 || !strings.Contains(stderr, "unknown format") {
		t.Errorf("plot format: %d %q", code, stderr)
	}
	if code, _, stderr := benchCLI("-j", "0", dir); code != 2 || !strings.Contains(stderr, "-j") {
		t.Errorf("-j 0: %d %q", code, stderr)
	}
	if code, _, _ := benchCLI(filepath.Join(dir, "missing.png")); code != 2 {
		t.Errorf("missing file: %d", code)
	}
	// A broken image is a failed row: the table is still printed, the exit status is 1.
	if err := os.WriteFile(filepath.Join(dir, "broken.png"), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := benchCLI("--codecs", "gzip", "-q", dir)
	if code != 1 || !strings.Contains(stdout, "broken.png: ERROR") || !strings.Contains(stdout, "rgb.png") ||
		!strings.Contains(stderr, "1 of 3 results failed") {
		t.Errorf("broken image: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}
