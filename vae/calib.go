package vae

import (
	"math"

	"github.com/bitswap-codec/bitswap/vae/nn"
)

// Calib is a per-image calibration of the pixel distributions, per pixel stage s: Scale[s] +
// Colour[s][c] (in units of 1/ScaleUnit) is added to every base log-scale of colour c in the
// stage (both logistics of a mixture), and Anchor[s] (in units of 1/AnchorUnit) to every
// anchor logit (how readily a pixel copies a known neighbour). The encoder chooses it for the image (Model.Calibrate) and
// sends it as side information, so it may depend on anything; it is the kind of adaptation
// that is the fallback coder's strength (how noisy is this image, at which scale, how often
// do neighbours repeat exactly). The zero Calib, or missing stages, change nothing.
type Calib struct {
	Scale, Anchor []int8
	// Colour refines Scale per colour (R, G, B): images differ in which colour is noisy
	// (the model sees G through R's residue, B through both). Nil: zeros.
	Colour [][3]int8
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
	vs := append(append([]int8(nil), c.Scale...), c.Anchor...)
	for _, col := range c.Colour {
		vs = append(vs, col[:]...)
	}
	for _, v := range vs {
		if v < -MaxCalib || v > MaxCalib {
			return false
		}
	}
	return true
}

// scales returns stage s's log-scale offset per colour.
func (c Calib) scales(s int) [3]float32 {
	k := c.at(c.Scale, s, ScaleUnit)
	ds := [3]float32{k, k, k}
	if s < len(c.Colour) {
		for i, v := range c.Colour[s] {
			ds[i] += float32(v) / ScaleUnit
		}
	}
	return ds
}

// apply calibrates stage s's parameters P (in place).
func (c Calib) apply(P *nn.Tensor, s int) {
	shiftParams(P, c.scales(s), c.at(c.Anchor, s, AnchorUnit))
}

// shiftParams adds ds[c] to the base log-scale channels of colour c and da to the anchor
// logits of a stage's parameters P (in place). Float32 additions of exact binary fractions:
// the same bits on every machine.
func shiftParams(P *nn.Tensor, ds [3]float32, da float32) {
	gp := paramsPerGroup(P)
	n := P.B * P.H * P.W
	add := func(c int, d float32) {
		row := P.Data[c*n : (c+1)*n]
		for i := range row {
			row[i] += d
		}
	}
	for g := 0; g+gp <= P.C; g += gp {
		for c := 0; c < 3; c++ {
			if ds[c] != 0 {
				add(g+3+c, ds[c])
				if gp > GroupParams {
					add(g+GroupParams+c, ds[c])
				}
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
// its own: its scale, then its anchor logits, then each colour's scale, each by a parabola
// through three points.
func (m *Model) Calibrate(x []uint8, c *Context, n int) CalibResult {
	S := m.Cfg.PixelStages
	cs := m.shareNets(true)
	t := cs.newTrainer()
	t.search = &calibSearch{cal: Calib{Scale: make([]int8, S), Anchor: make([]int8, S), Colour: make([][3]int8, S)}, gain: make([]float64, S)}
	res := CalibResult{PatchBits: make([]float64, n)}
	t.perPatch = res.PatchBits
	bt := NewBatch(n)
	copy(bt.X, x)
	if c != nil {
		copy(bt.Ctx.Pix, c.Pix[:n*CtxLen])
		copy(bt.Ctx.Has, c.Has[:n])
	}
	t.noise = evalNoise(7, 0, n) // as NegELBO's
	st := cs.Loss(t, bt, nil, false)
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

// stage searches stage s's calibration; loss(c) is its -log p in nats with the parameters
// shifted by c's stage s.
func (cs *calibSearch) stage(s int, anchors bool, loss func(c Calib) float64) {
	type key struct {
		k, a int8
		col  [3]int8
	}
	cache := map[key]float64{}
	eval := func(k, a int8, col [3]int8) float64 {
		if v, ok := cache[key{k, a, col}]; ok {
			return v
		}
		v := loss(Calib{Scale: []int8{k}, Anchor: []int8{a}, Colour: [][3]int8{col}})
		cache[key{k, a, col}] = v
		return v
	}
	var col [3]int8
	zero := eval(0, 0, col)
	k := parabolaMin(func(v int8) float64 { return eval(v, 0, col) }, 0, 6)
	a := int8(0)
	if anchors {
		a = parabolaMin(func(v int8) float64 { return eval(k, v, col) }, 0, 4)
	}
	for c := range col {
		col[c] = parabolaMin(func(v int8) float64 {
			try := col
			try[c] = v
			return eval(k, a, try)
		}, 0, 3)
	}
	if best := eval(k, a, col); best < zero {
		cs.cal.Scale[s], cs.cal.Anchor[s], cs.cal.Colour[s], cs.gain[s] = k, a, col, zero-best
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
	t.search.stage(s, anc != nil, func(c Calib) float64 {
		t.calibP.Resize(P.C, P.B, P.H, P.W)
		copy(t.calibP.Data, P.Data)
		c.apply(&t.calibP, 0)
		return t.parallelSum(B, func(lo, hi int) float64 {
			acc := 0.0
			for b := lo; b < hi; b++ {
				acc += stageLoss(&t.calibP, nil, t.xq, anc, groups, parity, B, b, false, 0)
			}
			return acc
		})
	})
}
