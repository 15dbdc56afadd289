package vae

import (
	"math"

	"github.com/bitswap-codec/bitswap/vae/nn"
)

// Calib is a per-image calibration of the pixel distributions, per pixel stage s: Scale[s]
// (in units of 1/ScaleUnit) is added to every base log-scale of the stage (both logistics of
// a mixture), and Anchor[s] (in units of 1/AnchorUnit) to every anchor logit (how readily a
// pixel copies a known neighbour). The encoder chooses it for the image (Model.Calibrate) and
// sends it as side information, so it may depend on anything; it is the kind of adaptation
// that is the fallback coder's strength (how noisy is this image, at which scale, how often
// do neighbours repeat exactly). The zero Calib, or missing stages, change nothing.
type Calib struct {
	Scale, Anchor []int8
}

// Units of Calib: 1/16 in log-scale (a 6% step in scale) and 1/4 in logit.
const (
	ScaleUnit  = 16
	AnchorUnit = 4
	// MaxCalib bounds |Scale[s]| and |Anchor[s]|: a factor e^{±2} on the scales, ±8 in logit.
	MaxCalib = 32
)

func (c Calib) at(v []int8, s int, unit float32) float32 {
	if s >= len(v) {
		return 0
	}
	return float32(v[s]) / unit
}

// Valid tells whether every value is within ±MaxCalib.
func (c Calib) Valid() bool {
	for _, v := range append(append([]int8(nil), c.Scale...), c.Anchor...) {
		if v < -MaxCalib || v > MaxCalib {
			return false
		}
	}
	return true
}

// apply calibrates stage s's parameters P (in place).
func (c Calib) apply(P *nn.Tensor, s int) {
	shiftParams(P, c.at(c.Scale, s, ScaleUnit), c.at(c.Anchor, s, AnchorUnit))
}

// shiftParams adds ds to the base log-scale channels and da to the anchor logits of a
// stage's parameters P (in place). Float32 additions of exact binary fractions: the same bits
// on every machine.
func shiftParams(P *nn.Tensor, ds, da float32) {
	gp := paramsPerGroup(P)
	n := P.B * P.H * P.W
	add := func(c int, d float32) {
		row := P.Data[c*n : (c+1)*n]
		for i := range row {
			row[i] += d
		}
	}
	for g := 0; g+gp <= P.C; g += gp {
		for c := 0; c < 3 && ds != 0; c++ {
			add(g+3+c, ds)
			if gp > GroupParams {
				add(g+GroupParams+c, ds)
			}
		}
		if gp == GroupParams+MixParams+AnchorParams && da != 0 {
			for i := 0; i < AnchorTaps; i++ {
				add(g+anchorLogits+i, da)
			}
		}
	}
}

// CalibPatches is how many patches the encoder calibrates on.
const CalibPatches = 32

// CalibResult is what Calibrate found for a set of patches.
type CalibResult struct {
	Calib
	Before, After float64   // -ELBO in bits per subpixel without and with Calib
	PatchBits     []float64 // each patch's -ELBO in bits per subpixel without Calib
}

// Calibrate returns the Calib that lowers the model's -ELBO on the n patches x (planar
// [3][n][32][32], context c or nil) the most it can find, in one pass of the networks over
// one batch (n up to a few dozen: the search evaluates each stage's loss about ten times).
// The stages' losses are independent given the real pixels, so each stage is searched on
// its own: its scale, then its anchor logits, each by a parabola through three points.
func (m *Model) Calibrate(x []uint8, c *Context, n int) CalibResult {
	S := m.Cfg.PixelStages
	cs := m.shareNets()
	t := cs.newTrainer()
	t.search = &calibSearch{cal: Calib{Scale: make([]int8, S), Anchor: make([]int8, S)}, gain: make([]float64, S)}
	res := CalibResult{PatchBits: make([]float64, n)}
	t.perPatch = res.PatchBits
	bt := NewBatch(n)
	copy(bt.X, x)
	if c != nil {
		copy(bt.Ctx.Pix, c.Pix[:n*CtxLen])
		copy(bt.Ctx.Has, c.Has[:n])
	}
	st := cs.Loss(t, bt, evalRNG(7), false)
	for i := range res.PatchBits {
		res.PatchBits[i] /= Subpixels * math.Ln2
	}
	gain := 0.0
	for _, g := range t.search.gain {
		gain += g
	}
	res.Calib = t.search.cal
	res.Before = st.BPD
	res.After = st.BPD - gain/(float64(n)*Subpixels*math.Ln2)
	return res
}

// calibSearch is Calibrate's state inside the loss: the values found per stage and what
// they gained (nats).
type calibSearch struct {
	cal  Calib
	gain []float64
}

// stage searches stage s's calibration; loss(ds, da) is its -log p in nats with the
// parameters shifted by ds and da.
func (cs *calibSearch) stage(s int, anchors bool, loss func(ds, da float32) float64) {
	cache := map[[2]int8]float64{}
	eval := func(k, a int8) float64 {
		key := [2]int8{k, a}
		if v, ok := cache[key]; ok {
			return v
		}
		v := loss(float32(k)/ScaleUnit, float32(a)/AnchorUnit)
		cache[key] = v
		return v
	}
	zero := eval(0, 0)
	k := parabolaMin(func(v int8) float64 { return eval(v, 0) }, 0, 6)
	a := int8(0)
	if anchors {
		a = parabolaMin(func(v int8) float64 { return eval(k, v) }, 0, 4)
	}
	if best := eval(k, a); best < zero {
		cs.cal.Scale[s], cs.cal.Anchor[s], cs.gain[s] = k, a, zero-best
	}
}

// parabolaMin returns the integer in [-MaxCalib, MaxCalib] near the minimum of f that it
// finds from f at v-h, v, v+h (the vertex of the parabola through them, checked), or the best
// of those three.
func parabolaMin(f func(int8) float64, v, h int8) int8 {
	l, c, r := f(v-h), f(v), f(v+h)
	best, bl := v, c
	if l < bl {
		best, bl = v-h, l
	}
	if r < bl {
		best, bl = v+h, r
	}
	if curv := l - 2*c + r; curv > 0 {
		x := float64(v) + float64(h)*(l-r)/(2*curv)
		x = math.Max(-MaxCalib, math.Min(MaxCalib, math.Round(x)))
		if k := int8(x); k != best && f(k) < bl {
			best = k
		}
	}
	return best
}

// calibrate runs the search of stage s over the batch (in pixelTerm, with the stage's
// parameters in t.sp[s]).
func (t *trainer) calibrate(s int, anc []float32, groups []int, parity, B int) {
	P := &t.sp[s]
	t.search.stage(s, anc != nil, func(ds, da float32) float64 {
		t.calibP.Resize(P.C, P.B, P.H, P.W)
		copy(t.calibP.Data, P.Data)
		shiftParams(&t.calibP, ds, da)
		return t.parallelSum(B, func(lo, hi int) float64 {
			acc := 0.0
			for b := lo; b < hi; b++ {
				acc += stageLoss(&t.calibP, nil, t.xq, anc, groups, parity, B, b, false, 0)
			}
			return acc
		})
	})
}

// BatchOf returns the aligned patches refs of im as a batch, each with its context (for
// measurements).
func BatchOf(im *RGB, refs []PatchRef) *Batch {
	bt := NewBatch(len(refs))
	for j, r := range refs {
		bt.put(j, im, r.X0, r.Y0, false, CtxUp|CtxLeft)
	}
	return bt
}
