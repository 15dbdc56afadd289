package nn

import (
	"math"
	"math/rand/v2"
	"sync"
)

// Conv is a convolution with weight normalization (Salimans & Kingma 2016): the effective
// weights of output channel o are G[o] * V[o] / ||V[o]||. Training updates V, G and Bias; the
// coder uses the effective weights W only.
type Conv struct {
	Shape      ConvShape
	V, G, Bias []float32 // parameters
	W          []float32 // effective weights, [Cout][Cin][KH][KW]

	DV, DG, DBias []float32 // gradients (training)
	dW            []float32
	norm          []float64 // ||V[o]||

	fwd, bwd PackedA
	q        *qweights  // the integer path's weights (Quantize), nil for float32
	fpack    *sync.Once // packs fwd on first use, for a conv set by SetQuantized
	keepQ    bool       // Refresh quantizes (SetInteger)
}

// NewConv makes a convolution with random V (Gaussian), G = gain and zero bias. With a nil
// rng it makes a conv for inference only: zero bias and nothing else until SetEffective (a
// model loaded from a weights file would otherwise allocate and randomize eight times its
// weights only to overwrite or never use them).
func NewConv(s ConvShape, gain float32, rng *rand.Rand) *Conv {
	c := &Conv{Shape: s}
	if rng == nil {
		c.Bias = make([]float32, s.Cout)
		return c
	}
	n := s.WeightLen()
	c.V = make([]float32, n)
	for i := range c.V {
		c.V[i] = float32(rng.NormFloat64() * 0.05)
	}
	c.G = make([]float32, s.Cout)
	for i := range c.G {
		c.G[i] = gain
	}
	c.Bias = make([]float32, s.Cout)
	c.alloc()
	return c
}

// InitBuffers allocates the derived arrays of a Conv whose Shape, V, G and Bias were set
// directly, and computes its effective weights.
func (c *Conv) InitBuffers() {
	c.alloc()
	c.Refresh()
}

func (c *Conv) alloc() {
	n := c.Shape.WeightLen()
	c.W = make([]float32, n)
	c.dW = make([]float32, n)
	c.DV = make([]float32, n)
	c.DG = make([]float32, c.Shape.Cout)
	c.DBias = make([]float32, c.Shape.Cout)
	c.norm = make([]float64, c.Shape.Cout)
}

// Params lists the parameter slices with their gradients, in a fixed order.
func (c *Conv) Params() (params, grads [][]float32) {
	return [][]float32{c.V, c.G, c.Bias}, [][]float32{c.DV, c.DG, c.DBias}
}

// Refresh recomputes the effective weights from V and G and packs them; call after every
// parameter update (training), or once after loading.
func (c *Conv) Refresh() {
	k := c.Shape.K()
	for o := 0; o < c.Shape.Cout; o++ {
		v := c.V[o*k : (o+1)*k]
		ss := 0.0
		for _, x := range v {
			ss += float64(float64(x) * float64(x)) // no FMA: W must not depend on GOAMD64
		}
		nrm := math.Sqrt(ss)
		if nrm < 1e-12 {
			nrm = 1e-12
		}
		c.norm[o] = nrm
		f := float32(float64(c.G[o]) / nrm)
		w := c.W[o*k : (o+1)*k]
		for i, x := range v {
			w[i] = x * f
		}
	}
	c.q, c.fpack = nil, nil
	if c.keepQ {
		c.q = quantizeWeights(c.Shape, c.W)
	}
	c.Pack()
}

// SetEffective sets the effective weights directly (a model loaded for inference has no V/G)
// and packs them for the forward pass.
// It keeps w and bias (the caller must not change them afterwards).
func (c *Conv) SetEffective(w, bias []float32) {
	if len(w) != c.Shape.WeightLen() || len(bias) != c.Shape.Cout {
		panic("nn: SetEffective: wrong sizes")
	}
	c.W, c.Bias = w, bias
	// Such a conv only runs forward: the backward-data packing would cost a model load
	// about a third of its time. Its W never changes, so the packing may keep it.
	c.fwd.Adopt(c.W, c.Shape.Cout, c.Shape.K())
}

// Pack packs the effective weights for the forward and backward-data passes.
func (c *Conv) Pack() {
	PackForward(c.Shape, c.W, &c.fwd)
	PackBackwardData(c.Shape, c.W, &c.bwd)
}

// SetQuantized is SetEffective followed by SetInteger(true), for a conv that will mostly run on the
// integer path: its float32 packing is made only if a pass asks for float32.
func (c *Conv) SetQuantized(w, bias []float32) {
	if len(w) != c.Shape.WeightLen() || len(bias) != c.Shape.Cout {
		panic("nn: SetQuantized: wrong sizes")
	}
	c.W, c.Bias = w, bias
	c.SetInteger(true)
	c.fpack = new(sync.Once)
}

// SetInteger sets whether c's forward passes run on the integer path (qconv.go) from now
// on, unless a pass's Config says Float32, its weights quantized again by every Refresh:
// for a model loaded for inference, and for training the networks with the arithmetic they
// will be coded with (the backward passes stay float32: the quantization's gradient is
// taken as the identity).
func (c *Conv) SetInteger(on bool) {
	c.keepQ = on
	c.q = nil
	if on {
		c.q = quantizeWeights(c.Shape, c.W)
	}
}

// Quantized reports whether c runs on the integer path.
func (c *Conv) Quantized() bool { return c.q != nil }

// Forward computes out = conv(in) + bias.
func (c *Conv) Forward(ctx *Ctx, in, out *Tensor) {
	if c.q != nil && !ctx.cfg.Float32 && qOK(in) {
		qconvForward(ctx, c.Shape, in, c.q, c.Bias, out)
		return
	}
	if c.fpack != nil {
		c.fpack.Do(func() { c.fwd.Adopt(c.W, c.Shape.Cout, c.Shape.K()) })
	}
	ConvForward(ctx, c.Shape, in, &c.fwd, c.Bias, out)
}

// Backward accumulates the parameter gradients (into dW and DBias; call FinishGrad once per
// step to map dW onto DV and DG) and, when din is not nil, adds the input gradient into din.
func (c *Conv) Backward(ctx *Ctx, in, dout, din *Tensor) {
	ConvBackwardWeights(ctx, c.Shape, in, dout, c.dW, c.DBias)
	if din != nil {
		ConvBackwardData(ctx, c.Shape, dout, &c.bwd, din)
	}
}

// Replica returns a convolution that uses c's parameters and effective weights (read-only
// while it runs) and accumulates gradients of its own: data-parallel training runs replicas
// on parts of a batch at once, one per core, and adds their gradients into c (AddGrad).
// A replica has no V and G gradients (FinishGrad is for c). Share again after c's weights
// change.
func (c *Conv) Replica() *Conv {
	r := &Conv{dW: make([]float32, c.Shape.WeightLen()), DBias: make([]float32, c.Shape.Cout)}
	r.Share(c)
	return r
}

// Share makes replica c use o's parameters and effective weights.
func (c *Conv) Share(o *Conv) {
	c.Shape, c.V, c.G, c.Bias, c.W, c.norm, c.fwd, c.bwd, c.q, c.fpack = o.Shape, o.V, o.G, o.Bias, o.W, o.norm, o.fwd, o.bwd, o.q, o.fpack
}

// AddGrad adds f times the effective-weight and bias gradients that o accumulated (a
// replica's, before any FinishGrad) to c's.
func (c *Conv) AddGrad(o *Conv, f float32) {
	for i, v := range o.dW {
		c.dW[i] += f * v
	}
	for i, v := range o.DBias {
		c.DBias[i] += f * v
	}
}

// ZeroGrad clears the gradients.
func (c *Conv) ZeroGrad() {
	clear(c.dW)
	clear(c.DV)
	clear(c.DG)
	clear(c.DBias)
}

// FinishGrad turns the accumulated effective-weight gradient into gradients for V and G:
// dG = <dW, V>/||V||, dV = G/||V|| (dW - dG V/||V||).
func (c *Conv) FinishGrad() {
	k := c.Shape.K()
	for o := 0; o < c.Shape.Cout; o++ {
		v := c.V[o*k : (o+1)*k]
		dw := c.dW[o*k : (o+1)*k]
		nrm := c.norm[o]
		dot := 0.0
		for i, x := range v {
			dot += float64(dw[i]) * float64(x)
		}
		dg := dot / nrm
		c.DG[o] += float32(dg)
		scale := float64(c.G[o]) / nrm
		dv := c.DV[o*k : (o+1)*k]
		for i, x := range v {
			dv[i] += float32(scale * (float64(dw[i]) - dg*float64(x)/nrm))
		}
	}
}
