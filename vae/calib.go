package vae

import (
	"math"
	"slices"

	"github.com/bitswap-codec/bitswap/vae/nn"
)

// Calib is a per-image calibration of the pixel distributions, per pixel stage s: Scale[s] +
// Colour[s][c] (in units of 1/ScaleUnit) is added to every base log-scale of colour c in the
// stage (both logistics of a mixture), Anchor[s] (in units of 1/AnchorUnit) to every anchor
// logit (how readily a pixel copies a known neighbour), Mix[s] (1/AnchorUnit) to the logits
// of the mixture's second component (how often a pixel is its predicted value, nearly
// exactly) and AnchorScale[s] (1/ScaleUnit) to the anchor components' log-scales (how
// exactly a copy copies). The encoder chooses it for the image (Model.Calibrate) and sends
// it as side information, so it may depend on anything; it is the kind of adaptation that is
// the fallback coder's strength (how noisy is this image, at which scale, how often do
// neighbours repeat exactly). The zero Calib, or missing stages, change nothing.
type Calib struct {
	Scale, Anchor []int8
	// Colour refines Scale per colour (R, G, B): images differ in which colour is noisy
	// (the model sees G through R's residue, B through both). Nil: zeros.
	Colour [][3]int8
	// Mix and AnchorScale (payload version 5; nil: zeros) took the calibrated -ELBO of 8
	// downscaled photographs from 1.8841 to 1.8743 bits per subpixel (mean over images).
	Mix, AnchorScale []int8
}

// Units of Calib: 1/16 in log-scale (a 6% step in scale) and 1/4 in logit.
const (
	ScaleUnit  = 16
	AnchorUnit = 4
	// MaxCalib bounds every value: a factor e^{±2} on the scales, ±8 in logit.
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
	vs := append(append(append(append([]int8(nil), c.Scale...), c.Anchor...), c.Mix...), c.AnchorScale...)
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
	shiftParams(P, shifts{
		scale: c.scales(s), anchor: c.at(c.Anchor, s, AnchorUnit),
		mix: c.at(c.Mix, s, AnchorUnit), anchorScale: c.at(c.AnchorScale, s, ScaleUnit),
	})
}

// shifts are the offsets of one stage's calibration, in the parameters' own units.
type shifts struct {
	scale                    [3]float32 // base log-scales per colour (both mixture components)
	anchor, mix, anchorScale float32    // anchor logits, second component's logits, anchor log-scales
}

// shiftParams adds d's offsets to a stage's parameters P (in place): the base log-scale
// channels of each colour, the anchor logits, the mixture's weight logits and the anchor
// log-scales. Float32 additions of exact binary fractions: the same bits on every machine.
func shiftParams(P *nn.Tensor, d shifts) {
	gp := paramsPerGroup(P)
	n := P.B * P.H * P.W
	add := func(c int, v float32) {
		if v == 0 {
			return
		}
		row := P.Data[c*n : (c+1)*n]
		for i := range row {
			row[i] += v
		}
	}
	for g := 0; g+gp <= P.C; g += gp {
		for c := 0; c < 3; c++ {
			add(g+3+c, d.scale[c])
			if gp > GroupParams {
				add(g+GroupParams+c, d.scale[c])
				add(g+GroupParams+3+c, d.mix)
			}
		}
		if gp == GroupParams+MixParams+AnchorParams {
			for i := 0; i < AnchorTaps; i++ {
				add(g+anchorLogits+i, d.anchor)
			}
			for c := 0; c < 3; c++ {
				add(g+anchorLogScales+c, d.anchorScale)
			}
		}
	}
}

// CalibPatches is how many patches the encoder calibrates on in an image of up to 32 times
// as many; CalibPatchesFor gives the count for larger images.
const CalibPatches = 32

// CalibPatchesFor returns how many patches the encoder calibrates on in an image of P
// patches: one in 32, within [CalibPatches, 2*CalibPatches]. A large image varies more than
// 32 patches show: 64 took the calibrated -ELBO of 8 downscaled photographs (1,000-2,000
// patches) from 1.8743 to 1.8707, appleflower's from 0.644 to 0.626, for about 0.5 s more;
// one in 32 (46 patches) took appleflower d2's file from -6.7% to -7.5% against the fallback
// coder, its time before coding from 22% to 23% of the encode.
func CalibPatchesFor(P int) int { return min(2*CalibPatches, max(CalibPatches, P/32)) }

// SpreadPatches returns n distinct patch indices (raster order over a grid of rows x cols
// patches; all of them if n >= rows*cols), in increasing order, spread evenly over both the
// rows and the columns: sample i lies in row (i+1/2)·rows/n, at the column that the golden
// ratio's multiples give (a Kronecker lattice). Indices spread evenly in raster order alias
// with the grid's width: one patch in 6 of a 12-column grid is two columns only, and one
// in 4 of a 60-column grid a quarter of the columns, the same ones in every row.
func SpreadPatches(rows, cols, n int) []int {
	P := rows * cols
	n = max(0, min(n, P))
	used := make([]bool, P)
	out := make([]int, 0, n)
	const phi = 0.6180339887498949
	for i := range n {
		t := (float64(i) + 0.5) / float64(n)
		f := (float64(i) + 0.5) * phi
		p := int(t*float64(rows))*cols + int((f-math.Floor(f))*float64(cols))
		for used[p] { // taken: the next free index (only when n is close to P)
			p = (p + 1) % P
		}
		used[p] = true
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// CalibResult is what Calibrate found for a set of patches.
type CalibResult struct {
	Calib
	Before, After float64   // -ELBO in bits per subpixel without and with Calib
	PatchBits     []float64 // each patch's -ELBO in bits per subpixel without Calib
}

// Calibrate returns the Calib that lowers the model's -ELBO on the n patches x (planar
// [3][n][32][32], context c or nil) the most it can find, in one pass of the networks over
// one batch (n up to a few dozen: the search evaluates each stage's loss and its derivatives
// four times). The stages' losses are independent given the real pixels, so each stage is
// searched on its own, all its offsets at once by Newton steps (calibSearch.stage).
func (m *Model) Calibrate(x []uint8, c *Context, n int) CalibResult {
	S := m.Cfg.PixelStages
	cs := m.shareNets(true)
	t := cs.newTrainer()
	t.search = &calibSearch{cal: Calib{Scale: make([]int8, S), Anchor: make([]int8, S), Colour: make([][3]int8, S)}, gain: make([]float64, S)}
	t.search.cal.Mix, t.search.cal.AnchorScale = make([]int8, S), make([]int8, S)
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

// The offsets of one stage's search, in the units of Calib: the three colours' log-scales,
// the anchor logit, the mixture's logit and the anchor log-scale.
type offsets [6]int8

// stage searches stage s's calibration by Newton steps: eval(x) returns the stage's -log p
// (nats) with the offsets x and its derivatives by them. A step of calibProbe from 0
// downhill gives each offset's curvature (the change of its derivative: the offsets barely
// interact), and up to three Newton steps from there land within a unit of the minimum of
// these smooth, nearly quadratic losses: about five passes over the stage's pixels, where
// the parabola search of the first four offsets took about fourteen. The best point seen is
// kept if it beats 0, the colours as Scale (their mean) and Colour (the rest).
func (cs *calibSearch) stage(s int, eval func(x offsets) (float64, [6]float64)) {
	var x0, x1 offsets
	l0, g0 := eval(x0)
	best, bl := x0, l0
	for i := range x1 {
		if g0[i] > 0 {
			x1[i] = -calibProbe[i]
		} else if g0[i] < 0 {
			x1[i] = calibProbe[i]
		}
	}
	if x1 == x0 {
		return
	}
	la, ga := eval(x1)
	if la < bl {
		best, bl = x1, la
	}
	xp, gp, xa := x0, g0, x1 // the last two points, for the curvature
	for iter := 0; iter < 3; iter++ {
		var xn offsets
		for i := range xn {
			xn[i] = newtonStep(xp[i], gp[i], xa[i], ga[i])
		}
		if xn == xa {
			break
		}
		ln, gn := eval(xn)
		if ln < bl {
			best, bl = xn, ln
		}
		xp, gp, xa, ga = xa, ga, xn, gn
	}
	if bl < l0 {
		k := int8(math.Round(float64(int(best[0])+int(best[1])+int(best[2])) / 3))
		cs.cal.Scale[s], cs.cal.Colour[s] = k, [3]int8{best[0] - k, best[1] - k, best[2] - k}
		cs.cal.Anchor[s], cs.cal.Mix[s], cs.cal.AnchorScale[s] = best[3], best[4], best[5]
		cs.gain[s] = l0 - bl
	}
}

// calibProbe is the first step of the calibration search per offset: a quarter in
// log-scale, half in logit.
var calibProbe = offsets{4, 4, 4, 2, 2, 4}

// newtonStep returns the Newton step from b (derivative gb) for a function whose derivative
// was ga at a, within ±MaxCalib: the zero of the secant of the derivative, or another step
// as far in the downhill direction where the secant shows no curvature.
func newtonStep(a int8, ga float64, b int8, gb float64) int8 {
	if a == b {
		return b
	}
	curv := (gb - ga) / float64(int(b)-int(a))
	var x float64
	if curv > 0 {
		x = float64(b) - gb/curv
	} else {
		x = float64(b) + math.Copysign(math.Abs(float64(int(b)-int(a))), -gb)
	}
	return int8(math.Max(-MaxCalib, math.Min(MaxCalib, math.Round(x))))
}

// calibrate runs the search of stage s over the batch (in pixelTerm, with the stage's
// parameters in t.sp[s]).
func (t *trainer) calibrate(s int, anc []float32, groups []int, parity, B int) {
	P := &t.sp[s]
	t.calibP.Resize(P.C, P.B, P.H, P.W)
	t.calibD.Resize(P.C, P.B, P.H, P.W)
	t.calibD.Zero()
	gp := paramsPerGroup(P)
	n := B * hw
	nw := t.ctx.Workers()
	parts := make([][7]float64, B) // per patch, added in order: the same for any worker count
	if cap(t.calib0) < B {
		t.calib0 = make([]float64, B)
	}
	t.calib0 = t.calib0[:B]
	first := true
	t.search.stage(s, func(x offsets) (float64, [6]float64) {
		copy(t.calibP.Data, P.Data)
		c := Calib{Scale: []int8{0}, Colour: [][3]int8{{x[0], x[1], x[2]}}, Anchor: []int8{x[3]}, Mix: []int8{x[4]}, AnchorScale: []int8{x[5]}}
		c.apply(&t.calibP, 0)
		clear(parts)
		t.ctx.Parallel(B, max(1, B/(4*nw)), func(_, lo, hi int) {
			for b := lo; b < hi; b++ {
				acc := &parts[b]
				acc[0] += stageLoss(&t.calibP, &t.calibD, t.xq, anc, groups, parity, B, b, t.flagsOf(b), true, 1)
				// d(-log p)/d(offset): the sums of the gradients of the channels it shifts
				// (see shiftParams), in the offset's unit.
				sum := func(i, ch int, unit float64) { acc[1+i] += sumPatch(t.calibD.Data, ch*n+b*hw) / unit }
				for g := 0; g+gp <= P.C; g += gp {
					for c := 0; c < 3; c++ {
						sum(c, g+3+c, ScaleUnit)
						if gp > GroupParams {
							sum(c, g+GroupParams+c, ScaleUnit)
							sum(4, g+GroupParams+3+c, AnchorUnit)
						}
					}
					if gp == GroupParams+MixParams+AnchorParams && anc != nil {
						for i := 0; i < AnchorTaps; i++ {
							sum(3, g+anchorLogits+i, AnchorUnit)
						}
						for c := 0; c < 3; c++ {
							sum(5, g+anchorLogScales+c, ScaleUnit)
						}
					}
				}
			}
		})
		var tot [7]float64
		for b, p := range parts {
			for i := range tot {
				tot[i] += p[i]
			}
			if first {
				t.calib0[b] = p[0] // the stage's loss as it is: stageTerm's, not computed twice
			}
		}
		first = false
		return tot[0], [6]float64(tot[1:])
	})
}

// sumPatch returns the sum of one patch's hw values of a channel starting at o.
func sumPatch(d []float32, o int) float64 {
	s := 0.0
	for _, v := range d[o : o+hw] {
		s += float64(v)
	}
	return s
}
