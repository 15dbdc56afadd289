package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitswap-codec/bitswap/bsw"
	"github.com/bitswap-codec/bitswap/imageio"
)

// fakeTerm is an 80x24 terminal that records what mpb draws.
type fakeTerm struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *fakeTerm) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.Write(p)
}

func (t *fakeTerm) ReadFrom(r io.Reader) (int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.ReadFrom(r)
}

func (t *fakeTerm) IsTerminal() bool               { return true }
func (t *fakeTerm) GetTermSize() (int, int, error) { return 80, 24, nil }
func (t *fakeTerm) Flush(int) error                { return nil }

func (t *fakeTerm) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// lastLine returns the bar as last drawn: mpb ends each frame with a newline and moves
// the cursor up before the next.
func (t *fakeTerm) lastLine() string {
	lines := strings.Split(strings.TrimSpace(t.String()), "\n")
	return lines[len(lines)-1]
}

type fakeClock struct{ t time.Time }

func newFakeClock() *fakeClock               { return &fakeClock{t: time.Unix(1e9, 0)} }
func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func testBar(term *fakeTerm, clk *fakeClock) *codingBar {
	return newCodingBarOn(context.Background(), term, "encode", clk.now)
}

func TestCodingBarNotTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, w := range []io.Writer{&bytes.Buffer{}, f, nil} {
		cb := newCodingBar(context.Background(), w, "encode")
		if cb != nil || cb.callback() != nil {
			t.Fatalf("%T: a bar on a non-terminal", w)
		}
		cb.close(true) // a nil bar does nothing
	}
}

func TestCodingBarThresholds(t *testing.T) {
	t.Run("small and fast", func(t *testing.T) {
		term, clk := &fakeTerm{}, newFakeClock()
		cb := testBar(term, clk)
		for i := 1; i <= barMinPatches; i++ {
			clk.advance(barDelay / (2 * barMinPatches))
			cb.callback()(i, barMinPatches)
		}
		cb.close(true)
		if term.String() != "" {
			t.Fatalf("drew %q for a small, fast image", term.String())
		}
	})
	t.Run("one call at the end", func(t *testing.T) {
		// The fallback coder reports (1, 1) once, however long it took: nothing to show.
		term, clk := &fakeTerm{}, newFakeClock()
		cb := testBar(term, clk)
		clk.advance(10 * barDelay)
		cb.update(1, 1)
		cb.close(true)
		if term.String() != "" {
			t.Fatalf("drew %q for a finished coding", term.String())
		}
	})
	t.Run("many patches", func(t *testing.T) {
		term, clk := &fakeTerm{}, newFakeClock()
		cb := testBar(term, clk)
		const total = barMinPatches + 1
		for i := 1; i < total; i++ {
			cb.update(i, total) // no time passes: the patch count alone shows the bar
		}
		cb.close(true)
		if got := term.lastLine(); !strings.Contains(got, "encode") || !strings.Contains(got, "65/65") || !strings.Contains(got, "100%") {
			t.Fatalf("last line %q, want a complete encode bar", got)
		}
	})
	t.Run("slow", func(t *testing.T) {
		term, clk := &fakeTerm{}, newFakeClock()
		cb := testBar(term, clk)
		cb.update(1, 10)
		clk.advance(barDelay)
		cb.update(3, 10)
		cb.close(false) // failed: the bar stays where it stopped
		if got := term.lastLine(); !strings.Contains(got, "3/10") {
			t.Fatalf("last line %q, want an encode bar at 3/10", got)
		}
	})
}

// picosCrop writes the top left w x h of testdata/picos-512x384.png as a PNG.
func picosCrop(t *testing.T, w, h int) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "picos-512x384.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	sub := m.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(0, 0, w, h))
	var b bytes.Buffer
	if err := png.Encode(&b, sub); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "crop.png")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// An image of more than barMinPatches patches would get a bar on a terminal; on a file or a
// pipe the commands write nothing to stderr, and stdout carries only the data.
func TestEncodeDecodeQuietOffTerminal(t *testing.T) {
	if bsw.DefaultCoder() == "fallback" {
		t.Skip("no patch coder built in")
	}
	in := picosCrop(t, 9*imageio.PatchSize, 8*imageio.PatchSize) // 72 patches
	errFile, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()
	runTo := func(stdin []byte, stderr io.Writer, args ...string) (int, []byte) {
		var out bytes.Buffer
		code := run(append([]string{"bitswap"}, args...), bytes.NewReader(stdin), &out, stderr)
		return code, out.Bytes()
	}
	var errBuf bytes.Buffer
	code, bswFile := runTo(nil, &errBuf, "encode", in, "-o", "-")
	if code != 0 || !bytes.HasPrefix(bswFile, []byte("\x89BSW")) {
		t.Fatalf("encode: exit %d, stderr %q", code, errBuf.String())
	}
	code, pngData := runTo(bswFile, errFile, "decode", "-", "-o", "-")
	if code != 0 {
		t.Fatalf("decode: exit %d", code)
	}
	if errBuf.Len() != 0 {
		t.Errorf("encode wrote %q to stderr", errBuf.String())
	}
	if st, err := errFile.Stat(); err != nil {
		t.Error(err)
	} else if st.Size() != 0 {
		t.Errorf("decode wrote %d bytes to a stderr file", st.Size())
	}
	got, _, err := imageio.Decode(bytes.NewReader(pngData), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !imageio.Equal(got, decodeImage(t, in)) {
		t.Fatal("round trip differs")
	}
}
