package main

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitswap-codec/bitswap/bsw"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/vae"
)

type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the app in-process.
func runCLI(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"bitswap"}, args...), bytes.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

func mustOK(t *testing.T, r result) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d, stderr: %s", r.code, r.stderr)
	}
	return r
}

func mustFail(t *testing.T, r result, code int, msg string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d (stderr: %s)", r.code, code, r.stderr)
	}
	if !strings.Contains(r.stderr, msg) {
		t.Fatalf("stderr %q does not mention %q", r.stderr, msg)
	}
}

// copyTestdata copies a file from testdata into a fresh directory.
func copyTestdata(t *testing.T, name string) (dir, path string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	path = filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

func decodeImage(t *testing.T, path string) *imageio.Image {
	t.Helper()
	img, _, err := imageio.DecodeFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// dirNames lists a directory, to check that no temporary files are left behind.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestEncodeDecodeDefaultNames(t *testing.T) {
	for _, name := range []string{"path-256x192.png", "waves-rgba-64x48.png", "cups-64x48.webp"} {
		t.Run(name, func(t *testing.T) {
			dir, in := copyTestdata(t, name)
			orig := decodeImage(t, in)
			mustOK(t, runCLI(t, nil, "encode", in))
			bswFile := strings.TrimSuffix(in, filepath.Ext(in)) + ".bsw"
			if _, err := os.Stat(bswFile); err != nil {
				t.Fatalf("default output: %v", err)
			}
			png := strings.TrimSuffix(in, filepath.Ext(in)) + ".png"
			if filepath.Ext(in) == ".png" {
				// x.bsw decodes to x.png, which exists: refused without -f.
				mustFail(t, runCLI(t, nil, "decode", bswFile), 1, "exists")
				mustOK(t, runCLI(t, nil, "decode", "-f", bswFile))
			} else {
				mustOK(t, runCLI(t, nil, "decode", bswFile))
			}
			if got := decodeImage(t, png); !imageio.Equal(got, orig) {
				t.Fatal("decoded PNG differs from the input")
			}
			if n := len(dirNames(t, dir)); n > 3 {
				t.Fatalf("files left behind: %v", dirNames(t, dir))
			}
		})
	}
}

func TestFlagsAfterArgsAndOverwrite(t *testing.T) {
	dir, in := copyTestdata(t, "picos-100x75.png")
	out := filepath.Join(dir, "out.bsw")
	mustOK(t, runCLI(t, nil, "encode", in, "-o", out, "--coder", "fallback"))
	before, _ := os.ReadFile(out)
	mustFail(t, runCLI(t, nil, "encode", "-o", out, in), 1, "already exists")
	after, _ := os.ReadFile(out)
	if !bytes.Equal(before, after) {
		t.Fatal("refused overwrite changed the file")
	}
	mustOK(t, runCLI(t, nil, "encode", "--output="+out, in, "-f"))
	dec := filepath.Join(dir, "dec.png")
	mustOK(t, runCLI(t, nil, "decode", out, "-o", dec))
	if !imageio.Equal(decodeImage(t, dec), decodeImage(t, in)) {
		t.Fatal("round trip differs")
	}
}

func TestStdinStdout(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "cups-64x48.png"))
	if err != nil {
		t.Fatal(err)
	}
	enc := mustOK(t, runCLI(t, b, "encode", "-"))
	if !strings.HasPrefix(enc.stdout, "\x89BSW") {
		t.Fatalf("stdout does not hold a .bsw file: %q", enc.stdout[:min(16, len(enc.stdout))])
	}
	dec := mustOK(t, runCLI(t, []byte(enc.stdout), "decode", "-", "-o", "-"))
	got, _, err := imageio.Decode(strings.NewReader(dec.stdout), nil)
	if err != nil {
		t.Fatal(err)
	}
	orig, _, _ := imageio.Decode(bytes.NewReader(b), nil)
	if !imageio.Equal(got, orig) {
		t.Fatal("stdin/stdout round trip differs")
	}
	info := mustOK(t, runCLI(t, []byte(enc.stdout), "info", "-"))
	for _, want := range []string{"coder:      " + bsw.DefaultCoder(), "64x48 RGB, 8 bits", "complete", "bits/subpixel"} {
		if !strings.Contains(info.stdout, want) {
			t.Errorf("info output lacks %q:\n%s", want, info.stdout)
		}
	}
}

func TestErrors(t *testing.T) {
	dir, in := copyTestdata(t, "cups-64x48.png")
	bswFile := filepath.Join(dir, "c.bsw")
	mustOK(t, runCLI(t, nil, "encode", in, "-o", bswFile))
	data, _ := os.ReadFile(bswFile)

	mustFail(t, runCLI(t, nil, "encode"), 2, "missing input image")
	mustFail(t, runCLI(t, nil, "encode", in, in), 2, "expected one")
	mustFail(t, runCLI(t, nil, "encode", filepath.Join(dir, "nope.png")), 1, "nope.png")
	mustFail(t, runCLI(t, nil, "encode", "--bogus", in), 2, "bogus")
	mustFail(t, runCLI(t, nil, "encode", "--max-pixels", "100", in, "-o", filepath.Join(dir, "x.bsw")), 1, "too large")
	if bsw.CheckCoder("bitswap") != nil {
		mustFail(t, runCLI(t, nil, "encode", "--coder", "bitswap", in, "-o", filepath.Join(dir, "y.bsw")), 1, "not available")
	}
	mustFail(t, runCLI(t, nil, "encode", "--coder", "zip", in, "-o", filepath.Join(dir, "y.bsw")), 1, "unknown coder")
	mustFail(t, runCLI(t, []byte("not an image at all"), "encode", "-"), 1, "unknown or unsupported image format")

	// Damaged .bsw files: an error, and no output file (not even a partial one).
	corrupt := append([]byte(nil), data...)
	corrupt[len(corrupt)-20] ^= 0x10
	damaged := map[string][]byte{
		"truncated": data[:len(data)-7],
		"flipped":   corrupt,
		"extended":  append(append([]byte(nil), data...), 0),
		"not bsw":   []byte("hello"),
	}
	for name, b := range damaged {
		p := filepath.Join(dir, "bad.bsw")
		os.WriteFile(p, b, 0o644)
		out := filepath.Join(dir, "bad.png")
		r := runCLI(t, nil, "decode", p, "-o", out)
		if r.code == 0 {
			t.Errorf("%s: decode succeeded", name)
		}
		if !strings.Contains(r.stderr, "bad.bsw") {
			t.Errorf("%s: stderr %q does not name the file", name, r.stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: output file written", name)
		}
	}
	for _, n := range dirNames(t, dir) {
		if strings.Contains(n, ".tmp") {
			t.Errorf("temporary file left behind: %s", n)
		}
	}
	p := filepath.Join(dir, "bad.bsw")
	os.WriteFile(p, data[:len(data)-7], 0o644)
	mustFail(t, runCLI(t, nil, "info", p), 1, "corrupt")
}

func TestVersionAndHelp(t *testing.T) {
	r := mustOK(t, runCLI(t, nil, "--version"))
	if !strings.Contains(r.stdout, version) {
		t.Errorf("--version printed %q", r.stdout)
	}
	r = mustOK(t, runCLI(t, nil, "--help"))
	for _, c := range []string{"encode", "decode", "info"} {
		if !strings.Contains(r.stdout, c) {
			t.Errorf("help lacks %s", c)
		}
	}
}

func TestInterspersed(t *testing.T) {
	app := newApp(nil, nil, nil)
	got := interspersed(app, []string{"bitswap", "encode", "in.png", "-o", "out", "-f", "--coder=fallback", "--", "-x"})
	want := []string{"bitswap", "encode", "-o", "out", "-f", "--coder=fallback", "in.png", "--", "-x"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q", got)
	}
	got = interspersed(app, []string{"bitswap", "decode", "-", "-o", "-"})
	if strings.Join(got, " ") != "bitswap decode -o - -" {
		t.Errorf("got %q", got)
	}
}

// TestModelFlag: --model codes with another weights file; the file records that model, so
// decoding needs the same --model, and bad weights files are refused.
func TestModelFlag(t *testing.T) {
	dir, in := copyTestdata(t, "picos-100x75.png")
	cfg := vae.Config{Layers: 2, ZC: 2, Width: 8, BlocksInf: []int{1, 0}, BlocksGen: []int{1, 0}, InKernel: 3, PixelStages: vae.PyramidStages, StageSkip: true, StageHints: true, EdgeHints: true}
	m, err := vae.New(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	wpath := filepath.Join(dir, "small.bsm")
	if err := os.WriteFile(wpath, m.MarshalWeights(), 0o644); err != nil {
		t.Fatal(err)
	}
	bswFile := filepath.Join(dir, "p.bsw")
	mustOK(t, runCLI(t, nil, "encode", "--model", wpath, in, "-o", bswFile))
	info := mustOK(t, runCLI(t, nil, "info", bswFile)).stdout
	id := vae.ModelID(m.MarshalWeights())
	if !strings.Contains(info, hex.EncodeToString(id[:])) {
		t.Fatalf("info does not show model %x:\n%s", id, info)
	}
	mustFail(t, runCLI(t, nil, "decode", bswFile, "-o", filepath.Join(dir, "x.png")), 1, "model mismatch")
	out := filepath.Join(dir, "p.png")
	mustOK(t, runCLI(t, nil, "decode", "--model", wpath, bswFile, "-o", out))
	want, got := decodeImage(t, in), decodeImage(t, out)
	for c := range want.Planes {
		for i := range want.Planes[c] {
			if got.Planes[c][i] != want.Planes[c][i] {
				t.Fatalf("plane %d sample %d differs", c, i)
			}
		}
	}
	bad := filepath.Join(dir, "bad.bsm")
	os.WriteFile(bad, []byte("not weights"), 0o644)
	mustFail(t, runCLI(t, nil, "encode", "--model", bad, in, "-o", filepath.Join(dir, "y.bsw")), 1, "bad weights")
	// Without the flag the embedded model is back.
	mustOK(t, runCLI(t, nil, "encode", in, "-o", filepath.Join(dir, "z.bsw")))
	if s := mustOK(t, runCLI(t, nil, "info", filepath.Join(dir, "z.bsw"))).stdout; strings.Contains(s, hex.EncodeToString(id[:])) {
		t.Fatalf("the --model weights stuck:\n%s", s)
	}
}
