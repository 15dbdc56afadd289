package vae

import "github.com/bitswap-codec/bitswap/vae/nn"

// NewInferenceWith is NewInference with the engine configuration of its passes: how many
// workers they split their work over and which GEMM kernel they use (nn.Config). The outputs
// are the same bits for every configuration.
func (m *Model) NewInferenceWith(cfg nn.Config) *Inference {
	r := m.NewInference()
	r.ctx.Configure(cfg)
	return r
}

// WithEngine returns a copy of m (sharing its weights) whose evaluations (NegELBO, PatchCosts,
// Calibrate) and inferences run with the engine configuration cfg. Not for training.
func (m *Model) WithEngine(cfg nn.Config) *Model {
	c := *m
	c.engine = cfg
	return &c
}

// Engine returns the engine configuration of m's evaluations and inferences.
func (m *Model) Engine() nn.Config { return m.engine }

// Engine returns the engine configuration of r's passes.
func (r *Inference) Engine() nn.Config { return r.ctx.Config() }

// Parallel runs fn(w, lo, hi) over [0, n) on the workers of r's passes, in chunks rounded to
// multiples of grain (see nn.Ctx.Parallel): for the coders' work between passes. Not while a
// pass of r runs.
func (r *Inference) Parallel(n, grain int, fn func(w, lo, hi int)) { r.ctx.Parallel(n, grain, fn) }
