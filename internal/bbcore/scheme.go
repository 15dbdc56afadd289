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

// phase is one network pass of a step and the coding that uses its output.
type phase struct {
	net  func(s *Step) *nn.Tensor // nil: no network (or a nil result: the standard logistic)
	code func(s *Step, params *nn.Tensor) error
}

// phases lists the step's work: the encoder's operations of sc in order, or the decoder's
// inverses in reverse order. The pixels are one phase per stage: the decoder's stage
// networks need the stages before decoded, and the encoder pushes the last stage first.
func (s *Step) phases(sc Scheme) []phase {
	ops := sc.Ops(len(s.Z))
	S := s.model.Cfg.PixelStages
	var out []phase
	add := func(o Op, pop bool) {
		switch {
		case o.layer == pixels && pop:
			out = append(out, pixelPops(S)...)
		case o.layer == pixels:
			out = append(out, pixelPushes(S)...)
		case pop:
			out = append(out, phase{o.params, func(s *Step, p *nn.Tensor) error { return s.popLatent(o.layer, p) }})
		default:
			out = append(out, phase{o.params, func(s *Step, p *nn.Tensor) error { s.pushLatent(o.layer, p); return nil }})
		}
	}
	if s.Decode {
		for i := len(ops) - 1; i >= 0; i-- {
			add(ops[i], !ops[i].pop)
		}
	} else {
		for _, o := range ops {
			add(o, o.pop)
		}
	}
	return out
}

// pixelPops are the decoder's pixel phases: stage by stage, each network on the stages
// before, then the padding.
func pixelPops(S int) []phase {
	var out []phase
	for st := 0; st < S; st++ {
		out = append(out, phase{
			func(s *Step) *nn.Tensor { return s.stageParams(st) },
			func(s *Step, P *nn.Tensor) error { return s.popStage(st, P) }})
	}
	return append(out, phase{code: func(s *Step, _ *nn.Tensor) error { s.padPatches(); return nil }})
}

// pixelPushes are the encoder's pixel phases: the last stage first. The first also runs
// the pixel network (stage 0's parameters), whose features the stage networks read.
func pixelPushes(S int) []phase {
	var out []phase
	for st := S - 1; st >= 0; st-- {
		out = append(out, phase{
			func(s *Step) *nn.Tensor {
				if st == S-1 {
					s.pix0 = s.stageParams(0)
				}
				if st == 0 {
					return s.pix0
				}
				return s.stageParams(st)
			},
			func(s *Step, P *nn.Tensor) error { s.pushStage(st, P); return nil }})
	}
	return out
}

// run codes the step: the encoder's operations of sc onto s.Msg from the patches in s.X, or
// the decoder's, which exactly undo them, writing the patches into s.X.
func (s *Step) run(sc Scheme) error {
	ph := s.phases(sc)
	if s.halves[0] != nil && s.B() >= 2 {
		return s.runPipelined(ph)
	}
	for _, p := range ph {
		var params *nn.Tensor
		if p.net != nil {
			params = p.net(s)
		}
		if err := p.code(s, params); err != nil {
			return err
		}
	}
	return nil
}
