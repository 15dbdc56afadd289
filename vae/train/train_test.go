package train

import (
	"bytes"
	"context"
	"encoding/gob"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/vae/data"
)

// TestCheckpointFromOtherType: gob matches a checkpoint's fields by name, whatever the type
// (and package) that wrote it, so the checkpoints written by vae.Checkpoint before the
// trainer moved here still load.
func TestCheckpointFromOtherType(t *testing.T) {
	type oldCheckpoint struct { // vae.Checkpoint as it was
		Config                    vae.Config
		Params, EMA, AdamM, AdamV [][]float32
		Step                      int
		Seconds                   float64
		RNG                       []byte
		BestVal                   float64
		BestEMA                   [][]float32
		ValSet                    string
		Bins                      []vae.BinRef
		Notes                     []string
	}
	old := oldCheckpoint{Config: contextConfig(), Params: [][]float32{{1, 2}}, EMA: [][]float32{{3}}, AdamM: [][]float32{{4}},
		AdamV: [][]float32{{5}}, Step: 6, Seconds: 7, RNG: []byte{8}, BestVal: 9, BestEMA: [][]float32{{10}}, ValSet: "v",
		Bins: []vae.BinRef{{M: 11, S: 12}}, Notes: []string{"n"}}
	path := filepath.Join(t.TempDir(), "old.gob")
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(old); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ck, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := oldCheckpoint(*ck); !reflect.DeepEqual(got, old) {
		t.Fatalf("loaded %+v, wrote %+v", got, old)
	}
}

// TestRunResumeExport: a short run writes a checkpoint and its loss curve, a resumed run
// continues it to the step limit, and the export of its checkpoint is a weights file with
// fitted bins.
func TestRunResumeExport(t *testing.T) {
	dir := t.TempDir()
	writeImages(t, filepath.Join(dir, "train"), 3)
	writeImages(t, filepath.Join(dir, "val"), 1)
	o := DefaultOptions()
	o.Config = contextConfig()
	o.Config.Mixture, o.Config.Anchors = true, true
	o.DataDir, o.Out = dir, filepath.Join(dir, "ck.gob")
	o.Batch, o.Steps, o.ValEvery, o.ValPatches = 4, 3, 2, 4
	ck, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Step != 3 || math.IsInf(ck.BestVal, 1) || ck.BestEMA == nil || ck.ValSet == "" {
		t.Fatalf("step %d, best val %v, best weights %v, val set %q", ck.Step, ck.BestVal, ck.BestEMA != nil, ck.ValSet)
	}
	o.Resume, o.Steps = o.Out, 5
	if ck, err = Run(context.Background(), o); err != nil || ck.Step != 5 {
		t.Fatalf("resumed to step %d: %v", ck.Step, err)
	}
	saved, err := LoadCheckpoint(o.Out)
	if err != nil || saved.Step != 5 || !reflect.DeepEqual(saved.Params, ck.Params) {
		t.Fatalf("saved checkpoint: %v", err)
	}
	if curve, err := os.ReadFile(o.Out + ".csv"); err != nil || strings.Count(string(curve), "step,") != 1 || !strings.Contains(string(curve), "\n4,") {
		t.Fatalf("loss curve %q: %v", curve, err)
	}
	imgs, err := data.LoadDir(filepath.Join(dir, "train"), 1)
	if err != nil {
		t.Fatal(err)
	}
	s := data.NewSampler(imgs, 1)
	s.Align = vae.PosAlign
	m, err := Export(saved, s, 64, BestEMA)
	if err != nil {
		t.Fatal(err)
	}
	// Each kind of weights comes from its own parameters: make the best ones differ from
	// the latest averaged ones (which they equal when the last validation was the best).
	alt := *saved
	alt.BestEMA = make([][]float32, len(saved.EMA))
	for i, p := range saved.EMA {
		alt.BestEMA[i] = slices.Clone(p)
	}
	alt.BestEMA[0][0] += 0.5
	ids := map[[8]byte]bool{}
	for _, w := range []Which{BestEMA, LatestEMA, Raw} {
		o, err := Export(&alt, s, 64, w)
		if err != nil {
			t.Fatal(err)
		}
		ids[vae.ModelID(o.MarshalWeights())] = true
	}
	if len(ids) != 3 {
		t.Errorf("best, latest and raw weights: %d distinct models", len(ids))
	}
	if m.Bins[0] == (vae.BinRef{M: 0, S: 1}) {
		t.Fatal("bins not fitted")
	}
	if _, err := vae.UnmarshalWeights(m.MarshalWeights()); err != nil {
		t.Fatal(err)
	}
}

// writeImages writes n noisy gradient PNGs of 96x64 pixels into dir.
func writeImages(t *testing.T, dir string, n int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	for i := 0; i < n; i++ {
		im := image.NewNRGBA(image.Rect(0, 0, 96, 64))
		for y := 0; y < 64; y++ {
			for x := 0; x < 96; x++ {
				v := uint8(2*x + y + rng.IntN(8))
				im.SetNRGBA(x, y, color.NRGBA{v, v / 2, 255 - v, 255})
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, im); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, string(rune('a'+i))+".png"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The learning-rate factors land on the right parameters: skip on the skips' weights and
// biases, fine on those of the fine stages' extra blocks, 1 on every other.
func TestLRScales(t *testing.T) {
	cfg := vae.DefaultConfig()
	cfg.Width, cfg.FineBlocks = 8, 1
	m, err := vae.New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[float64]int{} // parameter arrays per factor
	for _, c := range m.Skip {
		p, _ := c.Params()
		want[0.5] += len(p)
	}
	fine := m.FineBlockConvs()
	if len(fine) != 2*4 {
		t.Fatalf("%d fine-block convolutions, want 2 in each of 4 stage networks", len(fine))
	}
	for _, c := range fine {
		p, _ := c.Params()
		want[7] += len(p)
	}
	params, _ := m.Params()
	want[1] = len(params) - want[0.5] - want[7]
	got := map[float64]int{}
	scales, elem := lrScales(m, 0.5, 7)
	for _, f := range scales {
		got[f]++
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("factors %v, want %v", got, want)
	}
	// Per element: 7 on the stage networks' input weights on the context-scale channels
	// (the last 3 inputs), 1 on the rest of those arrays; no other array has factors.
	ins, from := m.CtxScaleInputs()
	if len(ins) != cfg.PixelStages-1 || from != ins[0].Shape.Cin-3 {
		t.Fatalf("%d context-scale inputs from channel %d", len(ins), from)
	}
	seven, arrays := 0, 0
	for _, e := range elem {
		if e == nil {
			continue
		}
		arrays++
		for _, f := range e {
			if f == 7 {
				seven++
			} else if f != 1 {
				t.Fatalf("element factor %v", f)
			}
		}
	}
	sh := ins[0].Shape
	if arrays != len(ins) || seven != len(ins)*sh.Cout*3*sh.KH*sh.KW {
		t.Fatalf("%d arrays with element factors, %d elements at 7", arrays, seven)
	}
}

// TestValidationMeanOverImages: the validation score is the mean over images of each image's
// mean over its patches, so an image with few patches counts as much as a large one.
func TestValidationMeanOverImages(t *testing.T) {
	dir := t.TempDir()
	writeImages(t, dir, 2)
	imgs, err := data.LoadDir(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	imgs[1].W, imgs[1].H = 32, 32 // one patch of the second image
	imgs[1].Pix = imgs[1].Pix[:3*32*32]
	m, err := vae.New(contextConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	refs := data.BalancedPatches(imgs, 12)
	if len(refs) != 7 {
		t.Fatalf("%d validation patches, want 6 + 1", len(refs))
	}
	v, err := newValidation(m, imgs, refs)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := m.Params()
	got := v.run(p).BPD
	a := Evaluate(v.m, imgs, refs[:6], 64, 12345).BPD
	b := Evaluate(v.m, imgs, refs[6:], 64, 12345).BPD
	if math.Abs(got-(a+b)/2) > 1e-9 || math.Abs(a-b) < 1e-3 {
		t.Fatalf("validation %.6f, image means %.6f and %.6f", got, a, b)
	}
}
