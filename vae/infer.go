package vae

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/bitswap-codec/bitswap/internal/dmath"
	"github.com/bitswap-codec/bitswap/vae/nn"
)

// Inference runs the model's networks for the coders. Its outputs are bit-for-bit the same on
// every machine and for any batch composition, worker count and GOAMD64 level (the engine's
// forward passes are deterministic and the float64 conversions below use only dmath).
//
// An Inference has its own activation buffers and may run concurrently with other Inferences
// of the same Model (the weights are shared read-only).
type Inference struct {
	m       *Model
	inf     []*Net
	gen     []*Net
	stage   []*Net
	ctx     nn.Ctx
	xt      nn.Tensor
	xs      nn.Tensor
	sin     nn.Tensor
	skipOut nn.Tensor
	known   nn.Tensor // view of sin
	cx      sqCtx
	anc     [][]float32 // per stage, its anchor values (Config.Anchors; see Model.anchors)
	cal     Calib
}

// SetCalib calibrates the pixel stages that follow (the zero Calib: none); see Calib.
func (r *Inference) SetCalib(c Calib) { r.cal = c }

// NewInference makes an inference runner for m.
func (m *Model) NewInference() *Inference {
	c := m.shareNets(false) // the coders hold one net's output while others run
	r := &Inference{m: m, inf: c.Inf, gen: c.Gen, stage: c.Stage}
	r.ctx.Configure(m.engine)
	return r
}

// shareWeights returns a Net with the same convolutions whose Forward puts its activations
// in a (nil: buffers of its own).
func (n *Net) shareWeights(a *acts) *Net {
	c := &Net{In: n.In, Out: n.Out, acts: a}
	for _, b := range n.Blocks {
		c.Blocks = append(c.Blocks, &resBlock{c1: b.c1, c2: b.c2})
	}
	return c
}

// replica returns a net with n's shape that uses its weights and has activations and
// gradients of its own (see Model.replica).
func (n *Net) replica() *Net {
	c := &Net{In: n.In.Replica(), Out: n.Out.Replica()}
	for _, b := range n.Blocks {
		c.Blocks = append(c.Blocks, &resBlock{c1: b.c1.Replica(), c2: b.c2.Replica()})
	}
	return c
}

// Model returns the model.
func (r *Inference) Model() *Model { return r.m }

// LatentTensor returns a tensor shaped for b patches of one latent layer.
func (r *Inference) LatentTensor(b int) *nn.Tensor {
	return nn.NewTensor(r.m.Cfg.ZC, b, LatentHW, LatentHW)
}

// Posterior0 runs q(z_1 | x) for b patches given planar as [3][b][32][32] 8-bit values. The
// result holds the raw means (channels [0, ZC)) and raw scales (channels [ZC, 2ZC)); see
// LatentScale. It is valid until the next call of the same network.
func (r *Inference) Posterior0(x []uint8, b int) *nn.Tensor {
	r.xt.Resize(3, b, PatchSize, PatchSize)
	if len(x) != len(r.xt.Data) {
		panic(fmt.Sprintf("vae: %d pixel values for %d patches", len(x), b))
	}
	for i, v := range x {
		r.xt.Data[i] = float32(v)/127.5 - 1
	}
	r.xs.Resize(12, b, LatentHW, LatentHW)
	nn.Squeeze(&r.xt, &r.xs)
	return r.inf[0].Forward(&r.ctx, &r.xs)
}

// Posterior runs q(z_{i+1} | z_i) for i >= 1 (z holds z_i).
func (r *Inference) Posterior(i int, z *nn.Tensor) *nn.Tensor {
	return r.inf[i].Forward(&r.ctx, z)
}

// Prior runs p(z_i | z_{i+1}) for i >= 1 (z holds z_{i+1}).
func (r *Inference) Prior(i int, z *nn.Tensor) *nn.Tensor {
	return r.gen[i].Forward(&r.ctx, z)
}

// PixelStage0 runs the pixel network on z_1 and returns the parameters of pixel stage 0,
// [9G][b][16][16] in squeezed space (see GroupParams and PixelAt). It also keeps the
// network's features for PixelStage.
func (r *Inference) PixelStage0(z1 *nn.Tensor) *nn.Tensor {
	out := r.gen[0].Forward(&r.ctx, z1)
	r.cal.apply(out, 0)
	return out
}

// PixelStage runs the network of pixel stage s >= 1 after PixelStage0, given the patches x
// ([3][b][32][32]) whose pixels of the earlier stages are known. Samples outside each patch's
// valid part (padding) are fed as 0, so the encoder and the decoder see the same input. c is
// the patches' context (Config.Context; nil: none), whose samples outside each patch's valid
// rows or columns are fed as 0 too.
func (r *Inference) PixelStage(s int, x []uint8, valid [][2]int, c *Context) *nn.Tensor {
	feat := r.gen[0].Features()
	b := feat.B
	r.xs.Resize(12, b, LatentHW, LatentHW)
	for c := 0; c < 3; c++ {
		for bb := 0; bb < b; bb++ {
			src := x[(c*b+bb)*PatchSize*PatchSize:]
			vw, vh := valid[bb][0], valid[bb][1]
			for k := 0; k < 4; k++ {
				i, j := k/2, k%2
				d := r.xs.Data[((4*c+k)*b+bb)*hw:]
				for y := 0; y < LatentHW; y++ {
					for xx := 0; xx < LatentHW; xx++ {
						v := float32(0)
						if py, px := 2*y+i, 2*xx+j; py < vh && px < vw {
							v = float32(src[py*PatchSize+px])/127.5 - 1
						}
						d[y*LatentHW+xx] = v
					}
				}
			}
		}
	}
	if r.m.Cfg.Context {
		r.cx.squeeze(c, b, valid)
	}
	r.m.stageInput(s, feat, &r.xs, &r.sin, &r.cx)
	if r.m.Cfg.Anchors {
		if len(r.anc) != r.m.Cfg.PixelStages {
			r.anc = make([][]float32, r.m.Cfg.PixelStages)
		}
		r.m.stageAnchors(s, &r.sin, feat.C, &r.cx, &r.anc[s])
	}
	out := r.stage[s-1].Forward(&r.ctx, &r.sin)
	if r.m.Skip != nil {
		r.skipOut.Resize(out.C, out.B, out.H, out.W)
		r.m.Skip[s-1].Forward(&r.ctx, knownView(&r.sin, feat.C, &r.known), &r.skipOut)
		nn.AddTo(r.skipOut.Data, out.Data) // out = net + skip, elementwise: deterministic
	}
	r.cal.apply(out, s)
	return out
}

// PixelAt returns the raw parameters (means, log-scales, coefficients of R, G, B) of the
// pixel at squeezed position pos of group gi (the gi-th sub-position of its stage) of batch
// entry b, from a stage's parameters P; see PixelLogistic. A stage of a Mixture model has one
// group of GroupParams+MixParams channels; see PixelMixAt for the rest.
func PixelAt(P *nn.Tensor, gi, b, pos int) (mean, logScale, coef [3]float32) {
	n := P.B * hw
	o := b*hw + pos
	gp := paramsPerGroup(P)
	for c := 0; c < 3; c++ {
		mean[c] = P.Data[(gp*gi+c)*n+o]
		logScale[c] = P.Data[(gp*gi+3+c)*n+o]
		coef[c] = P.Data[(gp*gi+6+c)*n+o]
	}
	return
}

// paramsPerGroup is the number of channels per group of a stage's parameters P: a stage of
// a Mixture model has a single group of GroupParams+MixParams channels, plus AnchorParams
// for the stages s >= 1 of an Anchors model (and no other stage has that many), any other
// stage GroupParams per group.
func paramsPerGroup(P *nn.Tensor) int {
	switch P.C {
	case GroupParams + MixParams, GroupParams + MixParams + AnchorParams:
		return P.C
	}
	return GroupParams
}

// PixelMixAt returns the second component's raw log-scales and weight logits of the pixel
// at squeezed position pos of batch entry b from the parameters P of a stage of a Mixture
// model, and false for a model without mixture.
func PixelMixAt(P *nn.Tensor, b, pos int) (logScale2, logit [3]float32, ok bool) {
	if paramsPerGroup(P) == GroupParams {
		return logScale2, logit, false
	}
	n := P.B * hw
	o := b*hw + pos
	for c := 0; c < 3; c++ {
		logScale2[c] = P.Data[(GroupParams+c)*n+o]
		logit[c] = P.Data[(GroupParams+3+c)*n+o]
	}
	return logScale2, logit, true
}

// PixelMix returns the second mixture component of channel c of a pixel: its scale in pixel
// units (the mean is PixelLogistic's) and its weight (the first component has 1 - w2).
// Deterministic.
func PixelMix(c int, logScale2, logit [3]float32) (s2, w2 float64) {
	ls := float64(logScale2[c])
	if ls < logScaleLo {
		ls = logScaleLo
	}
	return float64(dmath.Exp(ls) * 127.5), dmath.Sigmoid(float64(logit[c]))
}

// Components are the mixture components of one subpixel's distribution, in pixel units
// (weights, means and scales of rans.NewMixture; K of them).
type Components struct {
	W, Mu, S [2 + AnchorTaps]float64
	K        int
}

// PixelComponents writes into out the distribution of colour c of the pixel at squeezed
// position pos of group gi of batch entry b, given its colours before c (x), under the
// parameters P of pixel stage s (from PixelStage0, or PixelStage(s, ...), the last call for
// that stage): one logistic (K = 1), the two-component mixture (Config.Mixture), or with
// anchors (stages s >= 1 of an Anchors model) those two plus one component per known tap,
// weighted by the posterior of the whole-pixel mixture given the colours before c (the
// colours of the pixel are coded in turn under these conditionals, whose product is the
// model's p(x)). Deterministic: float64 with dmath, products rounded before they are added.
func (r *Inference) PixelComponents(s int, P *nn.Tensor, gi, b, pos, c int, x [3]uint8, out *Components) {
	r.PixelComponentsFrom(s, P, gi, b, pos, c, x, out, nil)
}

// PixelState carries what PixelComponents computes for a pixel's anchor components from the
// call for one colour to the call for the next: the anchor scales, the prior weights and
// their product with the likelihoods of the colours before. The zero value is empty.
type PixelState struct {
	p             *nn.Tensor
	s, gi, b, pos int
	k             int // colours folded into e
	x             [3]uint8
	nt            int
	tap           [AnchorTaps]int
	prior, e      [1 + AnchorTaps]float64
	sa            [3]float64 // sa[:k+1] set
}

// reusable reports whether st holds the state of this pixel after its colours before c.
func (st *PixelState) reusable(s int, P *nn.Tensor, gi, b, pos, c int, x [3]uint8) bool {
	if st == nil || st.p != P || st.s != s || st.gi != gi || st.b != b || st.pos != pos || st.k != c-1 || c < 1 {
		return false
	}
	for k := 0; k < c-1; k++ {
		if st.x[k] != x[k] {
			return false
		}
	}
	return true
}

// PixelComponentsFrom is PixelComponents with a state st (nil: none) that carries work from
// the call for colour c-1 of the same pixel (the same parameters P) to the call for colour c:
// the same results, bit for bit, for less work when the colours of a pixel are asked for in
// turn, each with its own st.
func (r *Inference) PixelComponentsFrom(s int, P *nn.Tensor, gi, b, pos, c int, x [3]uint8, out *Components, st *PixelState) {
	mm, ll, cc := PixelAt(P, gi, b, pos)
	mu, sc := PixelLogistic(c, mm, ll, cc, x)
	l2, lg2, ok := PixelMixAt(P, b, pos)
	if !ok {
		out.W[0], out.Mu[0], out.S[0], out.K = 1, mu, sc, 1
		return
	}
	s2, w2 := PixelMix(c, l2, lg2)
	out.W[0], out.Mu[0], out.S[0] = 1-w2, mu, sc
	out.W[1], out.Mu[1], out.S[1] = w2, mu, s2
	out.K = 2
	if s == 0 || P.C != GroupParams+MixParams+AnchorParams || len(r.anc) <= s || r.anc[s] == nil {
		return
	}
	n := P.B * hw
	o := b*hw + pos
	anc := r.anc[s]
	var (
		tap      [AnchorTaps]int
		nt       int
		sa       [3]float64
		prior, e [1 + AnchorTaps]float64
		k0       int // the colours already folded into e
	)
	if st.reusable(s, P, gi, b, pos, c, x) {
		tap, nt, sa, prior, e, k0 = st.tap, st.nt, st.sa, st.prior, st.e, c-1
	} else {
		// the known taps and their logits (the base component's is 0)
		var lg [1 + AnchorTaps]float64
		hi := 0.0
		for i := 0; i < AnchorTaps; i++ {
			if anc[(i*3)*n+o] < 0 {
				continue
			}
			tap[nt] = i
			lg[1+nt] = float64(P.Data[(anchorLogits+i)*n+o])
			hi = math.Max(hi, lg[1+nt])
			nt++
		}
		// the prior weights (unnormalized); e: times the likelihood of the colours before c
		// under each component
		for j := 0; j <= nt; j++ {
			prior[j] = dmath.ExpFast(lg[j] - hi)
		}
		e = prior
		for k := 0; k < c; k++ {
			sa[k] = anchorScale(P, k, n, o)
		}
	}
	sa[c] = anchorScale(P, c, n, o)
	for k := k0; k < c; k++ {
		xk := int(x[k])
		bm, bs := PixelLogistic(k, mm, ll, cc, x)
		bs2, bw2 := PixelMix(k, l2, lg2)
		p0 := float64((1-bw2)*discProb(xk, bm, bs)) + float64(bw2*discProb(xk, bm, bs2))
		e[0] = float64(e[0] * p0)
		for j := 1; j <= nt; j++ {
			a := float64(anc[(tap[j-1]*3+k)*n+o])
			e[j] = float64(e[j] * discProb(xk, a, sa[k]))
		}
	}
	if st != nil {
		*st = PixelState{p: P, s: s, gi: gi, b: b, pos: pos, k: c, x: x, nt: nt, tap: tap, prior: prior, e: e, sa: sa}
	}
	sum := 0.0
	for j := 0; j <= nt; j++ {
		sum += e[j]
	}
	if !(sum > 0) || sum > math.MaxFloat64 {
		// every component gives the colours so far (nearly) no mass: the prior weights
		e = prior
		sum = 0
		for j := 0; j <= nt; j++ {
			sum += e[j]
		}
	}
	w0 := e[0] / sum
	out.W[0], out.W[1] = float64(w0*(1-w2)), float64(w0*w2)
	// The anchor components, fewer where that changes nothing a coder can see: taps of the
	// same value are one component (the weights added in tap order), and a weight below
	// minAnchorWeight is dropped (at the coders' 24-bit precision it moves the CDF by less
	// than 2^-16 of one frequency unit). Both sides drop and merge alike.
	K := 2
	for j := 1; j <= nt; j++ {
		w := e[j] / sum
		if !(w >= minAnchorWeight) {
			continue
		}
		mu := float64(anc[(tap[j-1]*3+c)*n+o])
		i := 2
		for i < K && out.Mu[i] != mu {
			i++
		}
		if i < K {
			out.W[i] += w
			continue
		}
		out.W[K], out.Mu[K], out.S[K] = w, mu, sa[c]
		K++
	}
	out.K = K
}

// anchorScale is the scale in pixel units of colour k's anchor components at offset o.
func anchorScale(P *nn.Tensor, k, n, o int) float64 {
	ls := float64(P.Data[(anchorLogScales+k)*n+o])
	if ls < anchorLogScaleLo {
		ls = anchorLogScaleLo
	}
	return float64(dmath.Exp(ls) * 127.5)
}

// minAnchorWeight is the least weight of an anchor component the coders keep (2^-40).
const minAnchorWeight = 0x1p-40

// discProb is the probability of level x (0..255) under the logistic (mu, s) discretized to
// the pixel levels (the end levels take the tails), with the coders' fast sigmoid (relative
// error below 4e-11, plenty for mixture weights). Deterministic.
func discProb(x int, mu, s float64) float64 {
	a, b := (float64(x)+0.5-mu)/s, (float64(x)-0.5-mu)/s
	switch {
	case x <= 0:
		return dmath.SigmoidFast(a)
	case x >= 255:
		return dmath.SigmoidFast(-b)
	case b > 0: // both edges above the mean: 1 - sigmoid does not cancel
		nb, na := dmath.SigmoidFast2(-b, -a)
		return nb - na
	}
	sa, sb := dmath.SigmoidFast2(a, b)
	return sa - sb
}

// LatentScale is the scale of a latent logistic from the raw network output h:
// 0.1 + 0.9*sigmoid(h+2), computed deterministically.
func LatentScale(h float32) float64 {
	return scaleMin + float64((1-scaleMin)*dmath.Sigmoid(float64(h)+2))
}

// PixelLogistic returns the logistic (mean and scale in pixel units, 0..255) of channel c of a
// pixel, given its raw parameters (means, log-scales and coefficients of the three channels)
// and the already known values of the channels before c (R for G; R and G for B).
// Deterministic.
func PixelLogistic(c int, mean, logScale, coef [3]float32, x [3]uint8) (mu, s float64) {
	m := float64(mean[c])
	xr := float64(x[0])/127.5 - 1
	switch c {
	case 1:
		m += float64(tanh(coef[0]) * xr)
	case 2:
		xg := float64(x[1])/127.5 - 1
		m += float64(tanh(coef[1])*xr) + float64(tanh(coef[2])*xg)
	}
	ls := float64(logScale[c])
	if ls < logScaleLo {
		ls = logScaleLo
	}
	return float64((m + 1) * 127.5), float64(dmath.Exp(ls) * 127.5)
}

func tanh(a float32) float64 {
	return float64(2*dmath.Sigmoid(2*float64(a))) - 1
}

// shareNets returns a model with the same weights and its own activation buffers, safe to
// run concurrently with m. With shareActs, all its nets but the pixel network (whose
// features every stage reads) share one set of activations: right for the evaluations,
// which run the nets one after another and use each output before the next net runs. A
// pass over a batch then touches a few megabytes instead of one set per net (fresh memory
// is slow to fault in, and the encoder's probe and calibration are short).
func (m *Model) shareNets(shareActs bool) *Model {
	c := &Model{Cfg: m.Cfg, Bins: m.Bins, engine: m.engine}
	var shared *acts
	if shareActs {
		shared = new(acts)
	}
	for _, n := range m.Inf {
		c.Inf = append(c.Inf, n.shareWeights(shared))
	}
	for i, n := range m.Gen {
		if i == 0 {
			c.Gen = append(c.Gen, n.shareWeights(nil))
		} else {
			c.Gen = append(c.Gen, n.shareWeights(shared))
		}
	}
	for _, n := range m.Stage {
		c.Stage = append(c.Stage, n.shareWeights(shared))
	}
	c.Skip = m.Skip // a Conv keeps no activations
	return c
}

// NegELBO returns the model's -ELBO in bits per subpixel averaged over the given patches
// (planar [3][n][32][32]) with their context c (nil: none), with one sample of every latent
// drawn from a fixed seed. Safe for concurrent use.
func (m *Model) NegELBO(x []uint8, c *Context, n int) Stats {
	return m.NegELBOCalibrated(x, c, n, Calib{})
}

// NegELBOCalibrated is NegELBO with the pixel stages calibrated by cal.
func (m *Model) NegELBOCalibrated(x []uint8, c *Context, n int, cal Calib) Stats {
	return m.evalParallel(x, c, n, 7, cal, nil)
}

// PatchCosts returns the model's -ELBO of each of n patches (planar [3][n][32][32], context c
// or nil) in bits per subpixel (a single latent sample each, fixed seed). The coders use it
// to decide which patches the model should code.
func (m *Model) PatchCosts(x []uint8, c *Context, n int, cal Calib) []float64 {
	out := make([]float64, n)
	m.evalParallel(x, c, n, 8, cal, out)
	for i := range out {
		out[i] /= Subpixels * math.Ln2
	}
	return out
}

// evalBatch is the largest batch of the evaluations.
const evalBatch = 32

// evalParallel returns the loss (no gradients, calibrated by cal) of the n patches x (planar
// [3][n][32][32], context cx or nil), averaged over them, and adds each patch's -ELBO in nats
// to perPatch (len n) when it is not nil. The patches go in batches of at most evalBatch, and
// at least two when there are two patches (one per core), each patch with latent noise of
// its own (evalNoise(seed, ...)): the results depend only on the patches, never on the batches
// or the worker count.
// The batches are spread over the engine's workers, each running whole batches on one
// worker with nets of its own: two cores share one operation badly (see
// Model.NewParallelPass).
func (m *Model) evalParallel(x []uint8, cx *Context, n int, seed uint64, cal Calib, perPatch []float64) Stats {
	total := Stats{KL: make([]float64, m.Cfg.Layers)}
	if n <= 0 {
		return total
	}
	nb := max(min(n, 2), (n+evalBatch-1)/evalBatch)
	stats := make([]Stats, nb)
	workers := m.engine.Workers
	if workers <= 0 {
		workers = nn.DefaultWorkers()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(workers, nb); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs := m.WithEngine(nn.Config{Workers: 1, Kernel: m.engine.Kernel, Float32: m.engine.Float32}).shareNets(true)
			t := cs.newTrainer()
			t.cal = cal
			for i := int(next.Add(1)) - 1; i < nb; i = int(next.Add(1)) - 1 {
				lo, hi := n*i/nb, n*(i+1)/nb
				if perPatch != nil {
					t.perPatch = perPatch[lo:hi]
				}
				t.noise = evalNoise(seed, lo, hi)
				stats[i] = cs.Loss(t, (&Batch{B: n, X: x, Ctx: cx}).slice(nil, lo, hi), nil, false)
			}
		}()
	}
	wg.Wait()
	for i, st := range stats {
		total.Add(st, float64(n*(i+1)/nb-n*i/nb))
	}
	total.Scale(1 / float64(n))
	return total
}

// evalNoise returns the latent noise generators of patches [lo, hi) of an evaluation: fixed,
// so that evaluations are repeatable, and one per patch, so that a patch's -ELBO does not
// depend on how the patches are batched (Calibrate's Before is NegELBO's).
func evalNoise(seed uint64, lo, hi int) []*rand.Rand {
	g := make([]*rand.Rand, hi-lo)
	for i := range g {
		g[i] = rand.New(rand.NewPCG(2019+seed, uint64(lo+i)))
	}
	return g
}
