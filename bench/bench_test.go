package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/bitswap-codec/bitswap/imageio"
)

// testImage makes a w x h image with c channels: smooth gradients plus a little noise, so
// that the compressors have something to find but the data is not trivial. For four
// channels, some pixels are fully transparent with non-zero color (which only an exact
// coder keeps).
func testImage(w, h, c int, seed int64) *Image {
	rng := rand.New(rand.NewSource(seed))
	m := &Image{Width: w, Height: h, Channels: c, Pix: make([]byte, w*h*c)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for k := 0; k < c; k++ {
				v := (x*5 + y*3 + k*40 + rng.Intn(9)) & 0xff
				if c == 4 && k == 3 {
					v = 255
					if (x+y)%7 == 0 {
						v = 0
					} else if (x*y)%5 == 1 {
						v = 128
					}
				}
				m.Pix[(y*w+x)*c+k] = byte(v)
			}
		}
	}
	return m
}

func memInput(name string, m *Image) Input {
	return Input{Name: name, Load: func() (*Image, error) { return m, nil }}
}

func run(t *testing.T, inputs []Input, opt Options) *Report {
	t.Helper()
	rep, err := Run(context.Background(), inputs, opt)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// testBaselines returns the baselines, without JPEG XL under -short: compiling its WASM
// module takes seconds.
func testBaselines(t *testing.T) []Codec {
	var out []Codec
	for _, c := range Baselines(Settings{}) {
		if c.Key() == "jxl" && testing.Short() {
			t.Log("-short: JPEG XL left out")
			continue
		}
		out = append(out, c)
	}
	return out
}

func TestBaselinesRoundTrip(t *testing.T) {
	cs := testBaselines(t)
	keys := map[string]bool{}
	for _, c := range cs {
		keys[c.Key()] = true
	}
	for _, k := range []string{"gzip", "bzip2", "lzma", "png"} {
		if !keys[k] {
			t.Errorf("baseline %s missing", k)
		}
	}
	for _, ch := range []int{1, 2, 3, 4} {
		img := testImage(40, 24, ch, int64(ch))
		rep := run(t, []Input{memInput("t.png", img)}, Options{Codecs: cs, Uncropped: true})
		if len(rep.Results) != len(cs) {
			t.Fatalf("%d channels: %d results for %d codecs", ch, len(rep.Results), len(cs))
		}
		for _, r := range rep.Results {
			if !r.OK() {
				t.Errorf("%d channels: %s: %s", ch, r.Codec, r.Err)
				continue
			}
			dims := 40 * 24 * ch
			if r.Width != 40 || r.Height != 24 || r.Channels != ch {
				t.Errorf("%s: geometry %dx%dx%d", r.Codec, r.Width, r.Height, r.Channels)
			}
			if want := 8 * float64(r.Bytes) / float64(dims); math.Abs(r.BitsPerDim-want) > 1e-12 {
				t.Errorf("%s: bits/dim %v, want %v", r.Codec, r.BitsPerDim, want)
			}
			if want := float64(dims) / float64(r.Bytes); math.Abs(r.Ratio-want) > 1e-12 {
				t.Errorf("%s: ratio %v, want %v", r.Codec, r.Ratio, want)
			}
			if r.EncodeSeconds <= 0 || r.DecodeSeconds <= 0 {
				t.Errorf("%s: times %v %v", r.Codec, r.EncodeSeconds, r.DecodeSeconds)
			}
		}
	}
}

func TestBaselinesRejectWrongShape(t *testing.T) {
	img := testImage(40, 24, 3, 9)
	for _, c := range testBaselines(t) {
		data, err := c.Encode(img)
		if err != nil {
			t.Fatalf("%s: %v", c.Key(), err)
		}
		// A decoder told the wrong geometry must fail or return a different image, and a
		// truncated stream must fail: never panic, never pass silently.
		if m, err := c.Decode(data, Shape{40, 23, 3}); err == nil && Equal(img, m) == nil {
			t.Errorf("%s: wrong shape accepted", c.Key())
		}
		if _, err := c.Decode(data[:len(data)/2], img.Shape()); err == nil {
			t.Errorf("%s: truncated stream accepted", c.Key())
		}
		if _, err := c.Decode(nil, img.Shape()); err == nil {
			t.Errorf("%s: empty stream accepted", c.Key())
		}
	}
}

func TestCropTo32(t *testing.T) {
	img := testImage(70, 45, 3, 1)
	c, err := CropTo32(img)
	if err != nil {
		t.Fatal(err)
	}
	if c.Width != 64 || c.Height != 32 || c.Channels != 3 || len(c.Pix) != 64*32*3 {
		t.Fatalf("cropped to %dx%dx%d (%d bytes)", c.Width, c.Height, c.Channels, len(c.Pix))
	}
	for y := 0; y < 32; y++ {
		for x := 0; x < 64; x++ {
			for k := 0; k < 3; k++ {
				if got, want := c.Pix[(y*64+x)*3+k], img.Pix[(y*70+x)*3+k]; got != want {
					t.Fatalf("pixel %d,%d,%d = %d, want %d (top-left crop)", x, y, k, got, want)
				}
			}
		}
	}
	c.Pix[0] ^= 1
	if img.Pix[0] == c.Pix[0] {
		t.Error("crop shares memory with the original")
	}
	// Exact multiples are kept whole.
	if c, err := CropTo32(testImage(64, 96, 1, 2)); err != nil || c.Width != 64 || c.Height != 96 {
		t.Errorf("64x96: %v %v", c, err)
	}
	for _, s := range [][2]int{{31, 64}, {64, 31}, {1, 1}} {
		if _, err := CropTo32(testImage(s[0], s[1], 3, 3)); err == nil {
			t.Errorf("%dx%d: no error", s[0], s[1])
		}
	}
	if _, err := CropTo32(&Image{Width: 64, Height: 64, Channels: 3, Pix: make([]byte, 10)}); err == nil {
		t.Error("inconsistent image accepted")
	}
}

func TestRunCropsUnlessUncropped(t *testing.T) {
	img := testImage(70, 45, 3, 4)
	cs := []Codec{gzipCodec{}}
	rep := run(t, []Input{memInput("a", img)}, Options{Codecs: cs})
	if r := rep.Results[0]; r.Width != 64 || r.Height != 32 || !rep.Cropped {
		t.Errorf("default: %dx%d cropped=%v", r.Width, r.Height, rep.Cropped)
	}
	if im := rep.Images[0]; im.OrigWidth != 70 || im.OrigHeight != 45 {
		t.Errorf("original size %dx%d", im.OrigWidth, im.OrigHeight)
	}
	rep = run(t, []Input{memInput("a", img)}, Options{Codecs: cs, Uncropped: true})
	if r := rep.Results[0]; r.Width != 70 || r.Height != 45 || rep.Cropped {
		t.Errorf("uncropped: %dx%d cropped=%v", r.Width, r.Height, rep.Cropped)
	}
	// Too small to crop: an image error, the other image still runs.
	rep = run(t, []Input{memInput("small", testImage(20, 40, 3, 5)), memInput("b", img)}, Options{Codecs: cs})
	if len(rep.Results) != 2 || rep.Results[0].OK() || rep.Results[0].Codec != "" || !rep.Results[1].OK() {
		t.Fatalf("results %+v", rep.Results)
	}
	if !strings.Contains(rep.Images[0].Err, "smaller than 32x32") {
		t.Errorf("error %q", rep.Images[0].Err)
	}
}

// corruptCodec wraps a codec and flips one byte of the decoded pixels.
type corruptCodec struct{ Codec }

func (corruptCodec) Key() string   { return "corrupt" }
func (corruptCodec) Label() string { return "corrupting fake" }
func (c corruptCodec) Decode(data []byte, s Shape) (*Image, error) {
	m, err := c.Codec.Decode(data, s)
	if err == nil {
		m.Pix[len(m.Pix)/2] ^= 0x10
	}
	return m, err
}

type panicCodec struct{ gzipCodec }

func (panicCodec) Key() string                                 { return "panic" }
func (panicCodec) Label() string                               { return "panicking fake" }
func (panicCodec) Decode(data []byte, _ Shape) (*Image, error) { panic("boom") }

type failCodec struct{ gzipCodec }

func (failCodec) Key() string                   { return "fail" }
func (failCodec) Label() string                 { return "failing fake" }
func (failCodec) Encode(*Image) ([]byte, error) { return nil, errors.New("no can do") }

func TestMismatchIsReported(t *testing.T) {
	img := testImage(40, 24, 3, 6)
	cs := []Codec{gzipCodec{}, corruptCodec{gzipCodec{}}, panicCodec{}, failCodec{}}
	rep := run(t, []Input{memInput("x", img)}, Options{Codecs: cs, Uncropped: true})
	byKey := map[string]Result{}
	for _, r := range rep.Results {
		byKey[r.Key] = r
	}
	if !byKey["gzip"].OK() {
		t.Errorf("gzip: %s", byKey["gzip"].Err)
	}
	if r := byKey["corrupt"]; r.OK() || !strings.Contains(r.Err, "mismatch") || !strings.Contains(r.Err, "1 of 2880") {
		t.Errorf("corrupt: %q", r.Err)
	}
	if r := byKey["corrupt"]; r.Bytes == 0 || r.BitsPerDim == 0 {
		t.Errorf("corrupt row lost its size: %+v", r)
	}
	if r := byKey["panic"]; r.OK() || !strings.Contains(r.Err, "boom") {
		t.Errorf("panic: %q", r.Err)
	}
	if r := byKey["fail"]; r.OK() || !strings.Contains(r.Err, "no can do") {
		t.Errorf("fail: %q", r.Err)
	}
	sums := Summarize(rep)
	if sums[0].Images != 1 || sums[0].Failed != 0 || sums[1].Images != 0 || sums[1].Failed != 1 {
		t.Errorf("summary %+v", sums)
	}
	var tab bytes.Buffer
	if err := WriteTable(&tab, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tab.String(), "ERROR pixel mismatch") || !strings.Contains(tab.String(), "0 (1 failed)") {
		t.Errorf("table hides the mismatch:\n%s", tab.String())
	}
}

func TestEqual(t *testing.T) {
	a := testImage(5, 4, 3, 7)
	b := &Image{Width: 5, Height: 4, Channels: 3, Pix: append([]byte(nil), a.Pix...)}
	if err := Equal(a, b); err != nil {
		t.Fatal(err)
	}
	b.Pix[(2*5+3)*3+1]++
	err := Equal(a, b)
	if err == nil || !strings.Contains(err.Error(), "x=3 y=2 channel 1") {
		t.Errorf("got %v", err)
	}
	if Equal(a, &Image{Width: 4, Height: 5, Channels: 3, Pix: a.Pix}) == nil {
		t.Error("transposed shape accepted")
	}
	if Equal(a, nil) == nil {
		t.Error("nil accepted")
	}
}

// elboCodec is a fake model-based codec reporting a fixed −ELBO.
type elboCodec struct{ gzipCodec }

func (elboCodec) Key() string                                 { return "elbo" }
func (elboCodec) Label() string                               { return "fake vae" }
func (elboCodec) NegELBO(img *imageio.Image) (float64, error) { return 3.25, nil }

func sampleReport(t *testing.T) *Report {
	cs := []Codec{gzipCodec{}, elboCodec{}, corruptCodec{pngCodec{}}}
	in := []Input{
		memInput("short.png", testImage(40, 24, 3, 10)), // 24 rows: cannot be cropped to 32

		memInput("two,with comma.png", testImage(33, 32, 1, 11)),
		{Name: "broken.png", Load: func() (*Image, error) { return nil, errors.New("bad file") }},
	}
	return run(t, in, Options{Codecs: cs, Workers: 2})
}

func TestCSV(t *testing.T) {
	rep := sampleReport(t)
	var b bytes.Buffer
	if err := WriteCSV(&b, rep); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"image", "width", "height", "channels", "codec", "bytes", "bits_per_dim", "ratio",
		"cores", "encode_seconds", "decode_seconds", "neg_elbo_bpd", "ok", "error"}
	if !reflect.DeepEqual(recs[0], want) {
		t.Fatalf("header %v", recs[0])
	}
	// short.png and broken.png give one error row each, "two" (cropped to 32x32) one per codec.
	if len(recs) != 1+1+3+1 {
		t.Fatalf("%d records:\n%v", len(recs), recs)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, r := range recs[1:] {
		if len(r) != len(want) {
			t.Fatalf("record %v has %d fields", r, len(r))
		}
		switch r[col["codec"]] {
		case "":
			if r[col["ok"]] != "false" || r[col["error"]] == "" {
				t.Errorf("image error row %v", r)
			}
		case "gzip -9 (compress/gzip)":
			if r[col["image"]] != "two,with comma.png" || r[col["width"]] != "32" || r[col["height"]] != "32" ||
				r[col["channels"]] != "1" || r[col["ok"]] != "true" || r[col["error"]] != "" || r[col["neg_elbo_bpd"]] != "" ||
				r[col["cores"]] != "1" {
				t.Errorf("gzip row %v", r)
			}
			n, _ := strconv.Atoi(r[col["bytes"]])
			bpd, _ := strconv.ParseFloat(r[col["bits_per_dim"]], 64)
			ratio, _ := strconv.ParseFloat(r[col["ratio"]], 64)
			if n <= 0 || math.Abs(bpd-8*float64(n)/1024) > 1e-5 || math.Abs(ratio-1024/float64(n)) > 1e-5 {
				t.Errorf("gzip numbers %v", r)
			}
		case "fake vae":
			if r[col["neg_elbo_bpd"]] != "3.250000" {
				t.Errorf("elbo row %v", r)
			}
		case "corrupting fake":
			if r[col["ok"]] != "false" || !strings.Contains(r[col["error"]], "mismatch") {
				t.Errorf("corrupt row %v", r)
			}
		default:
			t.Errorf("unexpected row %v", r)
		}
	}
}

func TestJSON(t *testing.T) {
	rep := sampleReport(t)
	var b bytes.Buffer
	if err := WriteJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cropped bool             `json:"cropped_to_32"`
		Codecs  []map[string]any `json:"codecs"`
		Rows    []map[string]any `json:"rows"`
		Summary []map[string]any `json:"summary"`
	}
	dec := json.NewDecoder(&b)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if !doc.Cropped || len(doc.Codecs) != 3 || len(doc.Rows) != 5 || len(doc.Summary) != 3 {
		t.Fatalf("doc %+v", doc)
	}
	for _, r := range doc.Rows {
		var keys []string
		for k := range r {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		want := append([]string(nil), CSVColumns...)
		sort.Strings(want)
		if !reflect.DeepEqual(keys, want) {
			t.Fatalf("row keys %v, want %v", keys, want)
		}
		switch r["codec"] {
		case "fake vae":
			if r["neg_elbo_bpd"] != 3.25 {
				t.Errorf("elbo %v", r["neg_elbo_bpd"])
			}
		default:
			if r["neg_elbo_bpd"] != nil {
				t.Errorf("%v: neg_elbo_bpd %v, want null", r["codec"], r["neg_elbo_bpd"])
			}
		}
	}
	for _, s := range doc.Summary {
		if s["key"] == "elbo" && s["mean_neg_elbo_bpd"] != 3.25 {
			t.Errorf("summary %v", s)
		}
		if s["key"] == "gzip" && (s["images"] != 1.0 || s["failed"] != 0.0) {
			t.Errorf("summary %v", s)
		}
	}
}

// multiCodec is gzip claiming three cores.
type multiCodec struct{ gzipCodec }

func (multiCodec) Key() string   { return "multi" }
func (multiCodec) Label() string { return "gzip on three cores" }
func (multiCodec) Cores() int    { return 3 }

// TestCores: every row, summary and output says how many cores its codec ran on.
func TestCores(t *testing.T) {
	rep := run(t, []Input{memInput("p.png", testImage(64, 32, 3, 12))}, Options{Codecs: []Codec{gzipCodec{}, multiCodec{}}})
	want := map[string]int{"gzip": 1, "multi": 3}
	for _, c := range rep.Codecs {
		if c.Cores != want[c.Key] {
			t.Errorf("codec %s: %d cores", c.Key, c.Cores)
		}
	}
	for _, r := range rep.Results {
		if r.Cores != want[r.Key] {
			t.Errorf("result %s: %d cores", r.Key, r.Cores)
		}
	}
	for _, s := range Summarize(rep) {
		if s.Cores != want[s.Key] {
			t.Errorf("summary %s: %d cores", s.Key, s.Cores)
		}
	}
	var b bytes.Buffer
	if err := WriteTable(&b, rep); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if !strings.Contains(lines[0], " cores  enc s") {
		t.Fatalf("table header %q", lines[0])
	}
	rows := 0
	for _, l := range lines {
		// a row ends in cores, enc s, dec s, status (per image) or cores, enc s, dec s (summary)
		f := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, "  gzip on three cores"):
			rows++
			if f[len(f)-4] != "3" {
				t.Errorf("row %q", l)
			}
		case strings.HasPrefix(l, "gzip on three cores"):
			rows++
			if f[len(f)-3] != "3" {
				t.Errorf("summary row %q", l)
			}
		}
	}
	if rows != 2 {
		t.Errorf("%d rows of the three-core codec in\n%s", rows, b.String())
	}
	b.Reset()
	if err := WriteJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Codecs  []struct{ Cores int } `json:"codecs"`
		Rows    []struct{ Cores int } `json:"rows"`
		Summary []struct{ Cores int } `json:"summary"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Codecs[1].Cores != 3 || doc.Rows[1].Cores != 3 || doc.Summary[1].Cores != 3 || doc.Rows[0].Cores != 1 {
		t.Fatalf("JSON cores %+v", doc)
	}
}

func TestSummaryMeans(t *testing.T) {
	rep := &Report{Codecs: []CodecInfo{{Key: "a", Label: "A"}}, Results: []Result{
		{Image: "1", Key: "a", Codec: "A", Width: 10, Height: 10, Channels: 1, Bytes: 50, BitsPerDim: 4},
		{Image: "2", Key: "a", Codec: "A", Width: 30, Height: 10, Channels: 1, Bytes: 75, BitsPerDim: 2},
		{Image: "3", Key: "a", Codec: "A", Width: 30, Height: 10, Channels: 1, Bytes: 1, BitsPerDim: 0.01, Err: "x"},
	}}
	s := Summarize(rep)[0]
	if s.Images != 2 || s.Failed != 1 || s.MeanBitsPerDim != 3 || s.WeightedBitsPerDim != 8*125.0/400 || s.Ratio != 400.0/125 {
		t.Errorf("%+v", s)
	}
}

func TestTableHasELBOColumnOnlyWhenNeeded(t *testing.T) {
	img := testImage(64, 32, 3, 12)
	var b bytes.Buffer
	rep := run(t, []Input{memInput("p.png", img)}, Options{Codecs: []Codec{gzipCodec{}, elboCodec{}}})
	if err := WriteTable(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "-ELBO bpd") || !strings.Contains(out, "3.250") {
		t.Errorf("no -ELBO column:\n%s", out)
	}
	b.Reset()
	rep = run(t, []Input{memInput("p.png", img)}, Options{Codecs: []Codec{gzipCodec{}}})
	if err := WriteTable(&b, rep); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "ELBO") {
		t.Errorf("-ELBO column without a model:\n%s", b.String())
	}
	// Columns are aligned: every codec row of the per-image part has its bits/dim figure
	// ending at the same position as the header's.
	lines := strings.Split(b.String(), "\n")
	end := strings.Index(lines[0], "bits/dim") + len("bits/dim")
	for _, l := range lines[1:3] {
		if !strings.HasPrefix(l, "  ") {
			continue
		}
		f := strings.Fields(l)
		bpd := f[len(f)-6] // then ratio, cores, enc s, dec s, status
		if i := strings.Index(l, " "+bpd+" "); i+1+len(bpd) != end {
			t.Errorf("misaligned %q in\n%s", bpd, b.String())
		}
	}
}

func TestSelect(t *testing.T) {
	all := Baselines(Settings{})
	got, err := Select(all, []string{"png, GZIP"})
	if err != nil || len(got) != 2 || got[0].Key() != "gzip" || got[1].Key() != "png" {
		t.Fatalf("%v %v", got, err)
	}
	if got, err := Select(all, nil); err != nil || len(got) != len(all) {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := Select(all, []string{"gzip", "zstd"}); err == nil || !strings.Contains(err.Error(), "zstd") {
		t.Fatalf("unknown codec: %v", err)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	if _, err := Run(context.Background(), nil, Options{}); err == nil {
		t.Error("no codecs accepted")
	}
	if _, err := Run(context.Background(), nil, Options{Codecs: []Codec{gzipCodec{}, gzipCodec{}}}); err == nil {
		t.Error("duplicate codec accepted")
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := []Input{memInput("a", testImage(32, 32, 3, 1)), memInput("b", testImage(32, 32, 3, 2))}
	rep, err := Run(ctx, in, Options{Codecs: []Codec{gzipCodec{}}})
	if !errors.Is(err, context.Canceled) || rep == nil || len(rep.Results) > 2 {
		t.Fatalf("%v %+v", err, rep)
	}
}

func TestProgressEvents(t *testing.T) {
	in := []Input{memInput("a", testImage(32, 32, 3, 1)), memInput("b", testImage(32, 32, 3, 2))}
	var started, codecs, done int
	_ = run(t, in, Options{Codecs: []Codec{gzipCodec{}, pngCodec{}}, Workers: 2, Progress: func(e Event) {
		if e.Total != 2 || e.Steps != 2 {
			t.Errorf("event %+v", e)
		}
		switch e.Kind {
		case ImageStarted:
			started++
		case CodecDone:
			codecs++
		case ImageDone:
			done++
		}
	}})
	if started != 2 || codecs != 4 || done != 2 {
		t.Errorf("events %d %d %d", started, codecs, done)
	}
}

func TestPlot(t *testing.T) {
	rep := run(t, []Input{memInput("a", testImage(64, 32, 3, 1))}, Options{Codecs: []Codec{gzipCodec{}, pngCodec{}}})
	var b bytes.Buffer
	if err := WritePlot(&b, "png", rep); err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Bounds().Dx() < 200 || m.Bounds().Dy() < 100 {
		t.Errorf("plot is %v", m.Bounds())
	}
	if _, err := PlotFormat("x.gif"); err == nil {
		t.Error("gif accepted")
	}
	if f, err := PlotFormat("out.PNG"); err != nil || f != "png" {
		t.Errorf("%q %v", f, err)
	}
	empty := &Report{Codecs: rep.Codecs}
	if err := WritePlot(&b, "png", empty); err == nil {
		t.Error("empty plot accepted")
	}
}

func TestInputsAndLoad(t *testing.T) {
	dir := t.TempDir()
	// A 70x45 RGBA PNG with some transparency and an opaque gray PNG.
	rgba := image.NewNRGBA(image.Rect(0, 0, 70, 45))
	for i := range rgba.Pix {
		rgba.Pix[i] = byte(i * 13)
	}
	rgba.Pix[3] = 255
	gray := image.NewGray(image.Rect(0, 0, 40, 40))
	for i := range gray.Pix {
		gray.Pix[i] = byte(i)
	}
	write := func(name string, m image.Image) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, m); err != nil {
			t.Fatal(err)
		}
	}
	write("b.png", rgba)
	write("a.PNG", gray)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "c.jpg"), []byte("not a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A link to an image counts; a dangling link and a link to a directory do not.
	other := t.TempDir()
	linked := filepath.Join(other, "d.png")
	if err := os.WriteFile(linked, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"d.png": linked, "e.png": filepath.Join(other, "gone.png"), "f.png": other} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Skip("no symbolic links here:", err)
		}
	}
	in, err := Inputs([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range in {
		names = append(names, i.Name)
	}
	if !reflect.DeepEqual(names, []string{"a.PNG", "b.png", "c.jpg", "d.png"}) {
		t.Fatalf("inputs %v", names)
	}
	g, err := in[0].Load()
	if err != nil || g.Channels != 1 || g.Width != 40 || !bytes.Equal(g.Pix, gray.Pix) {
		t.Fatalf("gray: %v", err)
	}
	c, err := in[1].Load()
	if err != nil || c.Channels != 4 || c.Width != 70 || c.Height != 45 || !bytes.Equal(c.Pix, rgba.Pix) {
		t.Fatalf("rgba: %v", err)
	}
	if _, err := in[2].Load(); err == nil {
		t.Error("bad jpeg loaded")
	}
	if _, err := Inputs([]string{filepath.Join(dir, "missing.png")}); err == nil {
		t.Error("missing file accepted")
	}
	if _, err := Inputs([]string{t.TempDir()}); err == nil {
		t.Error("empty dir accepted")
	}
	if _, err := Inputs(nil); err == nil {
		t.Error("no args accepted")
	}
}

func TestFromDecodedIsStrict(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	copy(m.Pix, []byte{1, 2, 3, 255, 4, 5, 6, 254})
	if _, err := fromDecoded(m, Shape{2, 1, 3}); err == nil || !strings.Contains(err.Error(), "alpha 254") {
		t.Errorf("alpha not checked: %v", err)
	}
	if got, err := fromDecoded(m, Shape{2, 1, 4}); err != nil || !bytes.Equal(got.Pix, m.Pix) {
		t.Errorf("rgba: %v", err)
	}
	if _, err := fromDecoded(m, Shape{2, 1, 1}); err == nil || !strings.Contains(err.Error(), "not gray") {
		t.Errorf("gray not checked: %v", err)
	}
	if _, err := fromDecoded(m, Shape{3, 1, 4}); err == nil {
		t.Error("size not checked")
	}
	// An opaque RGBA (premultiplied) image converts exactly.
	r := image.NewRGBA(image.Rect(0, 0, 1, 1))
	r.Set(0, 0, color.RGBA{9, 8, 7, 255})
	if got, err := fromDecoded(r, Shape{1, 1, 3}); err != nil || !bytes.Equal(got.Pix, []byte{9, 8, 7}) {
		t.Errorf("rgba: %v %v", got, err)
	}
}

func TestImageioConversion(t *testing.T) {
	for ch := 1; ch <= 4; ch++ {
		img := testImage(7, 5, ch, int64(ch))
		m, err := ToImageio(img)
		if err != nil {
			t.Fatal(err)
		}
		if m.Color.Channels() != ch || m.Depth != 8 || m.Planes[ch-1][5*7-1] != uint16(img.Pix[len(img.Pix)-1]) ||
			m.Planes[0][1] != uint16(img.Pix[ch]) {
			t.Fatalf("%d channels: planes wrong", ch)
		}
		back, err := FromImageio(m)
		if err != nil || Equal(img, back) != nil {
			t.Fatalf("%d channels: %v %v", ch, err, Equal(img, back))
		}
	}
	deep := imageio.New(4, 4, imageio.RGB, 16)
	if _, err := FromImageio(deep); err == nil || !strings.Contains(err.Error(), "16-bit") {
		t.Errorf("16-bit: %v", err)
	}
	if _, err := ToImageio(&Image{Width: 2, Height: 2, Channels: 5, Pix: make([]byte, 20)}); err == nil {
		t.Error("5 channels accepted")
	}
}

func TestDuplicateNames(t *testing.T) {
	d1, d2 := t.TempDir(), t.TempDir()
	m := image.NewGray(image.Rect(0, 0, 32, 32))
	for _, d := range []string{d1, d2} {
		f, err := os.Create(filepath.Join(d, "x.png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, m); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	in, err := Inputs([]string{d1, filepath.Join(d2, "x.png")})
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 2 || in[0].Name != filepath.Join(d1, "x.png") || in[1].Name != filepath.Join(d2, "x.png") {
		t.Fatalf("names %q %q", in[0].Name, in[1].Name)
	}
	rep := run(t, in, Options{Codecs: []Codec{gzipCodec{}, pngCodec{}}})
	var b bytes.Buffer
	if err := WriteTable(&b, rep); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "gzip -9 (compress/gzip)"); n != 2+1 { // two images + summary
		t.Errorf("%d gzip rows:\n%s", n, b.String())
	}
	// Inputs with equal names (made by hand) still get one row per image and codec.
	img := testImage(32, 32, 3, 1)
	rep = run(t, []Input{memInput("same", img), memInput("same", img)}, Options{Codecs: []Codec{gzipCodec{}}})
	b.Reset()
	if err := WriteTable(&b, rep); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "gzip -9 (compress/gzip)"); n != 2+1 {
		t.Errorf("%d gzip rows:\n%s", n, b.String())
	}
}

func TestCenterCrop(t *testing.T) {
	img := testImage(100, 70, 3, 5)
	rep := run(t, []Input{memInput("a", img)}, Options{Codecs: []Codec{gzipCodec{}}, CenterCrop: 64})
	if r := rep.Results[0]; r.Width != 64 || r.Height != 64 {
		t.Fatalf("center crop 64 of 100x70: got %dx%d", r.Width, r.Height)
	}
	c, err := CropAt(img, 18, 3, 64, 64)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			for ch := 0; ch < 3; ch++ {
				if c.Pix[(y*64+x)*3+ch] != img.Pix[((y+3)*100+x+18)*3+ch] {
					t.Fatalf("CropAt pixel (%d,%d) differs", x, y)
				}
			}
		}
	}
	if _, err := CropAt(img, 50, 0, 64, 64); err == nil {
		t.Fatal("crop past the right edge accepted")
	}
}
