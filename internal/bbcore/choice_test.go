package bbcore

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bitswap-codec/bitswap/imageio"
)

// TestChoiceSample: one patch in choiceEvery (at most one per choiceEvery columns of a row), in order; every patch of a grid is next to (or
// is) a measured one, but for the grid's edges, and one within choiceReach steps; small
// grids are measured whole.
func TestChoiceSample(t *testing.T) {
	for rows := 1; rows <= 13; rows++ {
		for cols := 1; cols <= 13; cols++ {
			g := imageio.Grid{Cols: cols, Rows: rows}
			s := choiceSample(g)
			P := g.Len()
			in := make([]bool, P)
			for i, p := range s {
				if i > 0 && p <= s[i-1] {
					t.Fatalf("%dx%d: sample out of order", cols, rows)
				}
				in[p] = true
			}
			if P <= choiceSmall {
				if len(s) != P {
					t.Fatalf("%dx%d: %d of %d patches in a small grid's sample", cols, rows, len(s), P)
				}
				continue
			}
			if len(s) < P/choiceEvery-1 || len(s) > rows*((cols+choiceEvery-1)/choiceEvery) {
				t.Fatalf("%dx%d: %d of %d patches in the sample", cols, rows, len(s), P)
			}
			for p := range in {
				r0, c0 := p/cols, p%cols
				inner := r0 > 0 && r0 < rows-1 && c0 > 0 && c0 < cols-1
				near := map[int]bool{}
				for r := max(0, r0-choiceReach); r <= min(rows-1, r0+choiceReach); r++ {
					for c := max(0, c0-choiceReach); c <= min(cols-1, c0+choiceReach); c++ {
						if in[r*cols+c] {
							d := max(r-r0, r0-r, c-c0, c0-c)
							near[d] = true
						}
					}
				}
				if inner && !near[0] && !near[1] || len(near) == 0 {
					t.Fatalf("%dx%d: patch %d far from the sample", cols, rows, p)
				}
			}
		}
	}
}

// TestPredictCosts: measured patches keep their costs, and where the model wins on one half
// of the image and loses on the other, the prediction says so away from the border.
func TestPredictCosts(t *testing.T) {
	g := imageio.Grid{Cols: 12, Rows: 9}
	P := g.Len()
	rng := rand.New(rand.NewPCG(1, 2))
	fb := make([]float64, P)
	model := make([]float64, P)
	for p := range fb {
		fb[p] = 1500 + 1000*rng.Float64()
		ratio := 0.8
		if p%g.Cols >= g.Cols/2 {
			ratio = 1.2
		}
		model[p] = ratio * fb[p] * (0.95 + 0.1*rng.Float64())
	}
	s := choiceSample(g)
	costs := make([]float64, len(s))
	for i, p := range s {
		costs[i] = model[p]
	}
	pred := predictCosts(g, fb, s, costs)
	for _, p := range s {
		if pred[p] != model[p] {
			t.Fatalf("patch %d: measured %v, predicted %v", p, model[p], pred[p])
		}
	}
	// A flat patch (a tenth of its neighbours' price) in the model's half, not measured: no
	// measured patch is of its kind, so it stays with the fallback coder.
	flat := 4*g.Cols + 2
	if pred[flat] >= fb[flat] {
		t.Fatalf("setup: patch %d predicted %v against %v", flat, pred[flat], fb[flat])
	}
	fb[flat] /= 10
	if pred = predictCosts(g, fb, s, costs); !math.IsInf(pred[flat], 1) {
		t.Fatalf("flat patch among textured ones predicted %v", pred[flat])
	}
	for p := range pred {
		if p == flat {
			continue
		}
		c := p % g.Cols
		if c < g.Cols/2-choiceReach && pred[p] >= fb[p] || c >= g.Cols/2+choiceReach && pred[p] <= fb[p] {
			t.Fatalf("patch %d (column %d): fallback %v, model predicted %v", p, c, fb[p], pred[p])
		}
	}
}

// TestNetGain: the probe's estimate counts the patches where the model loses against those
// where it wins; the sum of the wins alone (gain) would see a saving in noise.
func TestNetGain(t *testing.T) {
	ps := []int{0, 1, 2, 3}
	fb := []float64{1000, 1000, 1000, 1000}
	model := []float64{960, 1100, 970, 1090} // 3% better on two, 9.5% worse on two
	if g := gain(ps, model, fb, 1); g != 70 {
		t.Fatalf("gain %v, want 70", g)
	}
	if g := netGain(ps, model, fb, 1); g != -120 {
		t.Fatalf("net gain %v, want -120", g)
	}
	if g := netGain(ps, model, fb, 0.5); g != 4000-2060 {
		t.Fatalf("net gain at factor 0.5: %v", g)
	}
}

// TestProbePasses: the probe sends on an image where the model promises a clear saving, not
// one where it loses or where its saving would be a close call around minGain.
func TestProbePasses(t *testing.T) {
	const P, n = 480, 10
	sample := make([]int, n)
	fbBits := make([]float64, P)
	for p := range fbBits {
		fbBits[p] = 1000
	}
	for i := range sample {
		sample[i] = i * P / n
	}
	whole := 1000.0 * P
	for _, c := range []struct {
		saving float64 // the calibrated model's saving on the sample
		want   bool
	}{{-0.05, false}, {0, false}, {minGain, false}, {minGain + probeMargin/2, false}, {minGain + 1.5*probeMargin, true}, {0.2, true}} {
		// uncalibrated costs such that (1-calibAllowance) times them saves c.saving
		model := make([]float64, n)
		for i := range model {
			model[i] = 1000 * (1 - c.saving) / (1 - calibAllowance)
		}
		if got := probePasses(sample, model, fbBits, P, whole); got != c.want {
			t.Errorf("saving %.3f: probe passes %v, want %v", c.saving, got, c.want)
		}
	}
}
