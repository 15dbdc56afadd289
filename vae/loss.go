package vae

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/bitswap-codec/bitswap/vae/nn"
)

// Batch is a batch of patches, planar: X[(c*B+b)*1024 + y*32 + x] for channel c of patch b,
// and their context (Config.Context; nil or nothing there: none).
type Batch struct {
	B   int
	X   []uint8
	Ctx *Context
}

// NewBatch allocates a batch of b patches (with room for their context, none there).
func NewBatch(b int) *Batch { return &Batch{B: b, X: make([]uint8, b*Subpixels), Ctx: NewContext(b)} }

// slice returns patches [lo, hi) of bt in dst (reused when it has room; nil: a new batch).
func (bt *Batch) slice(dst *Batch, lo, hi int) *Batch {
	n := hi - lo
	if dst == nil || cap(dst.X) < n*Subpixels || cap(dst.Ctx.Has) < n {
		dst = NewBatch(n)
	}
	dst.B, dst.X = n, dst.X[:n*Subpixels]
	for c := 0; c < 3; c++ {
		for b := lo; b < hi; b++ {
			copy(dst.Plane(c, b-lo), bt.Plane(c, b))
		}
	}
	cx := dst.Ctx
	cx.Pix, cx.Has = cx.Pix[:n*CtxLen], cx.Has[:n]
	if bt.Ctx == nil {
		clear(cx.Has)
		return dst
	}
	copy(cx.Pix, bt.Ctx.Pix[lo*CtxLen:hi*CtxLen])
	copy(cx.Has, bt.Ctx.Has[lo:hi])
	return dst
}

// Patch returns the three channel planes of patch b (each 1024 bytes) for filling.
func (bt *Batch) Plane(c, b int) []uint8 {
	o := (c*bt.B + b) * PatchSize * PatchSize
	return bt.X[o : o+PatchSize*PatchSize]
}

// Stats are the terms of -ELBO for a batch, in bits per subpixel, averaged over the batch.
type Stats struct {
	BPD float64 // -ELBO
	Rec float64 // -log p(x|z_1)
	// RecStages splits Rec by pixel stage (each in bits per subpixel of the whole patch, so
	// they add up to Rec).
	RecStages []float64
	KL        []float64 // log q(z_i|.) - log p(z_i|.) per layer (single-sample estimate)
}

// Add accumulates w*o into s, and Scale multiplies every term of s by f: averages of Stats
// over batches (here and in the trainer's logs and validations).
func (s *Stats) Add(o Stats, w float64) {
	s.BPD += o.BPD * w
	s.Rec += o.Rec * w
	if len(s.KL) < len(o.KL) {
		s.KL = append(s.KL, make([]float64, len(o.KL)-len(s.KL))...)
	}
	if len(s.RecStages) < len(o.RecStages) {
		s.RecStages = append(s.RecStages, make([]float64, len(o.RecStages)-len(s.RecStages))...)
	}
	for i, v := range o.KL {
		s.KL[i] += v * w
	}
	for i, v := range o.RecStages {
		s.RecStages[i] += v * w
	}
}

// Scale multiplies every term of s by f (see Add).
func (s *Stats) Scale(f float64) {
	s.BPD *= f
	s.Rec *= f
	for i := range s.KL {
		s.KL[i] *= f
	}
	for i := range s.RecStages {
		s.RecStages[i] *= f
	}
}

// String formats the terms in bits per subpixel, as the trainer logs them.
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%.4f bpd (rec %.4f =", s.BPD, s.Rec)
	for _, r := range s.RecStages {
		fmt.Fprintf(&b, " %.3f", r)
	}
	b.WriteString(", kl")
	for _, k := range s.KL {
		fmt.Fprintf(&b, " %.4f", k)
	}
	b.WriteString(")")
	return b.String()
}

// trainer holds the buffers of a training or evaluation pass.
type trainer struct {
	ctx nn.Ctx
	ip  *inputPar // stage inputs on ctx's workers
	xt  nn.Tensor // x scaled to [-1, 1], [3][B][32][32]
	xs  nn.Tensor // squeezed, [12][B][16][16]
	z   []nn.Tensor
	eps []nn.Tensor // logistic noise per layer
	qo  []nn.Tensor // saved copies of the inference outputs
	dz  []nn.Tensor
	dq  nn.Tensor
	dp  nn.Tensor
	u   []float64 // uniform noise of one layer
	blk []float64 // per-block partial sums
	// perPatch, when set (len B), receives every patch's -ELBO in nats (evaluation only).
	perPatch []float64
	xq       []uint8     // the batch squeezed: [12][B][256] 8-bit values
	has      []uint8     // the batch's context flags (nil: none), for RepX, RepY and ChromaKnown
	sin      []nn.Tensor // input of each stage net
	sp       []nn.Tensor // saved parameters of each pixel stage
	dsp      nn.Tensor
	skipOut  nn.Tensor
	dsin     nn.Tensor
	dfeat    nn.Tensor
	known    nn.Tensor // view of a stage input
	cx       sqCtx     // the batch's context, squeezed
	anc      []float32 // anchor values of one stage (Config.Anchors)
	// cal calibrates the pixel stages (evaluation only); search, when set, searches a
	// calibration instead (Model.Calibrate).
	cal    Calib
	search *calibSearch
	calib0 []float64 // the per-patch loss of the stage being calibrated, without offsets
	calibP nn.Tensor
	calibD nn.Tensor // the gradients of calibP (the search's Newton steps)
	// noise, when set (len B), draws each patch's latent noise from a generator of its own
	// instead of the Loss's rng (evaluation only): a patch's -ELBO then does not depend on
	// which patches share its batch (see evalNoise).
	noise []*rand.Rand
}

func (m *Model) newTrainer() *trainer {
	L := m.Cfg.Layers
	t := &trainer{
		z: make([]nn.Tensor, L), eps: make([]nn.Tensor, L), qo: make([]nn.Tensor, L),
		dz: make([]nn.Tensor, L),
	}
	t.ctx.Configure(m.engine)
	t.ip = newInputPar(t.ctx.Parallel)
	return t
}

const (
	scaleMin   = 0.1
	logScaleLo = -7.0 // lower clamp of the pixel log-scale (PixelCNN++)
)

// latentScale maps the raw output h to the scale 0.1 + 0.9*sigmoid(h+2) and its derivative.
func latentScale(h float32) (s, ds float64) {
	g := 1 / (1 + math.Exp(-(float64(h) + 2)))
	return scaleMin + (1-scaleMin)*g, (1 - scaleMin) * g * (1 - g)
}

// logLogistic returns log f(u) = -u - 2 softplus(-u) of the standard logistic density and its
// derivative -tanh(u/2), from one exponential: with t = e^-|u|, log f = -|u| - 2 log1p(t) and
// tanh(|u|/2) = (1-t)/(1+t).
func logLogistic(u float64) (lf, dlf float64) {
	a := math.Abs(u)
	t := math.Exp(-a)
	th := (1 - t) / (1 + t)
	if u > 0 {
		th = -th
	}
	return -a - 2*math.Log1p(t), th
}

func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	if x < -30 {
		return math.Exp(x)
	}
	return math.Log1p(math.Exp(x))
}

// uniform draws from (0, 1).
func uniform(rng *rand.Rand) float64 {
	u := rng.Float64()
	for u == 0 {
		u = rng.Float64()
	}
	return u
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// Loss computes -ELBO for the batch with one sample of every latent, and, when grad is true,
// accumulates the gradients of the mean -ELBO in bits/dim into the model's parameter
// gradients. rng draws the latent noise. Outside this package, Pass runs it.
func (m *Model) Loss(t *trainer, bt *Batch, rng *rand.Rand, grad bool) Stats {
	L, ZC := m.Cfg.Layers, m.Cfg.ZC
	B := bt.B
	const HW = LatentHW * LatentHW
	norm := 1 / (float64(B) * Subpixels * math.Ln2) // nats per batch -> bits per subpixel
	st := Stats{KL: make([]float64, L)}

	// Input.
	t.xt.Resize(3, B, PatchSize, PatchSize)
	for i, v := range bt.X {
		t.xt.Data[i] = float32(v)/127.5 - 1
	}
	t.xs.Resize(12, B, LatentHW, LatentHW)
	nn.Squeeze(&t.xt, &t.xs)

	// Inference chain: z_i = mu + s*eps.
	in := &t.xs
	for i := 0; i < L; i++ {
		out := m.Inf[i].Forward(&t.ctx, in)
		t.qo[i].Resize(out.C, out.B, out.H, out.W)
		copy(t.qo[i].Data, out.Data)
		t.z[i].Resize(ZC, B, LatentHW, LatentHW)
		t.eps[i].Resize(ZC, B, LatentHW, LatentHW)
		n := ZC * B * HW
		mu, h := out.Data[:n], out.Data[n:2*n]
		eps, zi := t.eps[i].Data, t.z[i].Data
		if len(t.u) < n {
			t.u = make([]float64, n)
		}
		us := t.u
		if t.noise != nil {
			for j := 0; j < n; j++ {
				us[j] = uniform(t.noise[j/HW%B]) // patch by patch, channel by channel
			}
		} else {
			for j := 0; j < n; j++ {
				us[j] = uniform(rng) // logit taken below, in parallel
			}
		}
		st.KL[i] += t.blockSums(n, B, +1, func(lo, hi int) float64 {
			acc := 0.0
			for j := lo; j < hi; j++ {
				// e = logit(u) and log f(e) = log u + log(1-u) for the standard logistic.
				u := us[j]
				lu, l1u := math.Log(u), math.Log1p(-u)
				e := lu - l1u
				s, _ := latentScale(h[j])
				eps[j] = float32(e)
				zi[j] = float32(float64(mu[j]) + s*e)
				acc += lu + l1u - math.Log(s) // log q
			}
			return acc
		})
		in = &t.z[i]
	}

	if grad {
		for i := 0; i < L; i++ {
			t.dz[i].Resize(ZC, B, LatentHW, LatentHW)
			t.dz[i].Zero()
		}
	}

	// Top prior: standard logistic.
	{
		zt := t.z[L-1].Data
		st.KL[L-1] -= t.blockSums(len(zt), B, -1, func(lo, hi int) float64 {
			acc := 0.0
			for j := lo; j < hi; j++ {
				lf, dlf := logLogistic(float64(zt[j]))
				acc += lf
				if grad {
					t.dz[L-1].Data[j] += float32(-dlf * norm)
				}
			}
			return acc
		})
	}

	// Generative priors p(z_i | z_{i+1}).
	for i := 1; i < L; i++ {
		out := m.Gen[i].Forward(&t.ctx, &t.z[i])
		n := ZC * B * HW
		mu, h := out.Data[:n], out.Data[n:2*n]
		if grad {
			t.dp.Resize(out.C, out.B, out.H, out.W)
		}
		zi := t.z[i-1].Data
		st.KL[i-1] -= t.blockSums(n, B, -1, func(lo, hi int) float64 {
			acc := 0.0
			for j := lo; j < hi; j++ {
				s, ds := latentScale(h[j])
				u := (float64(zi[j]) - float64(mu[j])) / s
				lf, dlf := logLogistic(u)
				acc += lf - math.Log(s)
				if grad {
					// loss term -log p = -(lf - log s)
					dzv := -dlf / s
					t.dz[i-1].Data[j] += float32(dzv * norm)
					t.dp.Data[j] = float32(dlf / s * norm)                // d/dmu
					t.dp.Data[n+j] = float32((dlf*u/s + 1/s) * ds * norm) // d/ds * ds/dh
				}
			}
			return acc
		})
		if grad {
			m.Gen[i].Backward(&t.ctx, &t.dp, &t.dz[i])
		}
	}

	// Pixels p(x | z_1), in stages.
	st.RecStages = make([]float64, m.Cfg.PixelStages)
	st.Rec = m.pixelTerm(t, bt, grad, norm, st.RecStages)

	// Back through the inference chain, top-down: z_i = mu + s*eps, and +log q = lf(eps) - log s.
	if grad {
		for i := L - 1; i >= 0; i-- {
			q := &t.qo[i]
			n := ZC * B * HW
			h := q.Data[n : 2*n]
			t.dq.Resize(q.C, q.B, q.H, q.W)
			t.ctx.Parallel(n, 4096, func(_, lo, hi int) {
				for j := lo; j < hi; j++ {
					s, ds := latentScale(h[j])
					dzj := float64(t.dz[i].Data[j])
					t.dq.Data[j] = float32(dzj)
					t.dq.Data[n+j] = float32((dzj*float64(t.eps[i].Data[j]) - norm/s) * ds)
				}
			})
			var dx *nn.Tensor
			if i > 0 {
				dx = &t.dz[i-1]
			}
			// Net i's saved activations are from the inference pass: it ran once per step.
			m.Inf[i].Backward(&t.ctx, &t.dq, dx)
		}
	}

	st.Rec *= norm
	for i := range st.RecStages {
		st.RecStages[i] *= norm
	}
	st.BPD = st.Rec
	for i := range st.KL {
		st.KL[i] *= norm
		st.BPD += st.KL[i]
	}
	return st
}

// blockSums runs fn over the blocks [k*256, (k+1)*256) of n elements of a [C][B][16][16]
// tensor on the workers and returns the total; when t.perPatch is set it also adds
// sign * (block k's sum) to the patch the block belongs to, perPatch[k % B].
func (t *trainer) blockSums(n, B int, sign float64, fn func(lo, hi int) float64) float64 {
	const hw = LatentHW * LatentHW
	nb := n / hw
	if cap(t.blk) < nb {
		t.blk = make([]float64, nb)
	}
	blk := t.blk[:nb]
	t.ctx.Parallel(nb, 1, func(_, lo, hi int) {
		for k := lo; k < hi; k++ {
			blk[k] = fn(k*hw, (k+1)*hw)
		}
	})
	tot := 0.0
	for k, v := range blk {
		tot += v
		if t.perPatch != nil {
			t.perPatch[k%B] += sign * v
		}
	}
	return tot
}

// parallelSum runs fn over [0, n) split across the workers of t's passes and adds up the
// results (in worker order, so the sum does not depend on scheduling).
func (t *trainer) parallelSum(n int, fn func(lo, hi int) float64) float64 {
	nw := t.ctx.Workers()
	parts := make([]float64, nw)
	grain := max(1, n/(4*nw))
	t.ctx.Parallel(n, grain, func(w, lo, hi int) { parts[w] = fn(lo, hi) })
	s := 0.0
	for _, v := range parts {
		s += v
	}
	return s
}

// discLogistic returns log P(x) of the 8-bit value xi (xv its [-1,1] value) under a logistic
// with mean mu and log-scale ls discretized to bins of width 2/255 (open bins at 0 and 255),
// and the derivatives of log P with respect to mu and ls.
func discLogistic(xi int, xv, mu, ls float64) (lp, dmu, dls float64) {
	return discLogisticInv(xi, xv, mu, ls, math.Exp(-ls))
}

// discLogisticInv is discLogistic given inv = exp(-ls), for components that share a scale.
func discLogisticInv(xi int, xv, mu, ls, inv float64) (lp, dmu, dls float64) {
	c := xv - mu
	a := inv * (c + 1.0/255) // upper edge
	b := inv * (c - 1.0/255) // lower edge
	var ga, gb float64       // d log P / da, d log P / db
	switch {
	case xi == 0:
		lp = -softplus(-a) // log sigmoid(a)
		ga = sigmoid(-a)
	case xi == 255:
		lp = -softplus(b) // log(1 - sigmoid(b))
		gb = -sigmoid(b)
	default:
		// P = sigmoid(a) - sigmoid(b), computed on the side where it does not cancel.
		var p, da, db float64 // da = sigmoid'(a) = sigmoid(a) sigmoid(-a)
		if b > 0 {
			na, nb := sigmoid(-a), sigmoid(-b) // both below 1/2: 1 - them is exact enough
			p = nb - na
			da, db = na*(1-na), nb*(1-nb)
		} else {
			sa, sb := sigmoid(a), sigmoid(b)
			p = sa - sb
			da, db = sa*(1-sa), sb*(1-sb)
		}
		if p > 1e-12 {
			lp = math.Log(p)
			ga = da / p
			gb = -db / p
		} else {
			// Far in a tail: log of density at the centre times the bin width.
			mid := inv * c
			lf, dlf := logLogistic(mid)
			lp = lf - ls + math.Log(2.0/255)
			// d/dmu = dlf * (-inv); d/dls = dlf * (-mid) - 1
			return lp, -dlf * inv, -dlf*mid - 1
		}
	}
	// a = inv*(c + d), da/dmu = -inv, da/dls = -a; same for b.
	dmu = -inv * (ga + gb)
	dls = -(a*ga + b*gb)
	return lp, dmu, dls
}
