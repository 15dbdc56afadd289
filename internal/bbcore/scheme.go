package bbcore

import "github.com/bitswap-codec/bitswap/vae/nn"

// Scheme is a bits-back coding order, written once as data: the encoder's operations on one
// step for a model with the given number of latent layers. The decoder runs the inverse of
// each operation in the reverse order, so a scheme cannot have a decoder that disagrees with
// its encoder.
type Scheme interface {
	Ops(layers int) []Op
}

// pixels is the Op.layer of the pixels.
const pixels = -1

// Op is one operation of a scheme as the encoder runs it: a pop (bits-back sampling) or a
// push of one variable, a latent layer or the pixels, under one distribution. Its inverse
// is the opposite operation on the same variable under the same distribution; the scheme's
// order guarantees that the decoder knows that distribution's conditioning variables when
// it gets there.
type Op struct {
	pop   bool
	layer int // latent layer (0 is z_1), or pixels
	// params gives the latent layer's distribution (network outputs); nil means the standard
	// logistic, the prior of the top layer.
	params func(s *Step) *nn.Tensor
}

// PopPosterior pops latent layer l under the posterior: q(z_1 | x) for l = 0, otherwise
// q(z_{l+1} | z_l).
func PopPosterior(l int) Op {
	return Op{pop: true, layer: l, params: func(s *Step) *nn.Tensor {
		if l == 0 {
			return s.Inf.Posterior0(s.X, s.B())
		}
		return s.Inf.Posterior(l, s.Z[l-1])
	}}
}

// PushPrior pushes latent layer l under the prior: p(z_{l+1} | z_{l+2}), or the standard
// logistic for the top layer.
func PushPrior(l int) Op {
	return Op{layer: l, params: func(s *Step) *nn.Tensor {
		if l == len(s.Z)-1 {
			return nil
		}
		return s.Inf.Prior(l+1, s.Z[l+1])
	}}
}

// PushPixels pushes the pixels under p(x | z_1).
func PushPixels() Op { return Op{layer: pixels} }

// run pops (pop) or pushes the operation's variable.
func (o Op) run(s *Step, pop bool) error {
	switch {
	case o.layer == pixels && pop:
		return s.popPixels()
	case o.layer == pixels:
		s.pushPixels()
	case pop:
		return s.popLatent(o.layer, o.params(s))
	default:
		s.pushLatent(o.layer, o.params(s))
	}
	return nil
}

// encode codes the step's patches in s.X onto s.Msg: the scheme's operations in order.
func (s *Step) encode(sc Scheme) error {
	for _, o := range sc.Ops(len(s.Z)) {
		if err := o.run(s, o.pop); err != nil {
			return err
		}
	}
	return nil
}

// decode exactly undoes encode, writing the patches into s.X: the inverse operations in
// reverse order.
func (s *Step) decode(sc Scheme) error {
	ops := sc.Ops(len(s.Z))
	for i := len(ops) - 1; i >= 0; i-- {
		if err := ops[i].run(s, !ops[i].pop); err != nil {
			return err
		}
	}
	return nil
}
