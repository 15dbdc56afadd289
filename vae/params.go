package vae

import (
	"fmt"
	"math/rand/v2"
)

// The API of this file is for the trainer (package vae/train), which lives outside this
// package so that the model and the coders do not carry the training loop, its checkpoints
// and its data: the trainer needs the parameters and their gradients in a fixed order (the
// layout of its checkpoints), a model built from such parameters, and loss passes over
// batches with and without gradients. Everything else it uses (Refresh, Convs, Skip, Stats)
// the model exports for its own reasons.

// Params returns every trainable parameter array of the model with its gradient array: each
// conv's V, G and Bias (nn.Conv.Params) in Convs() order. The trainer's optimizer updates
// params in place (then Refresh) from grads (Pass.Gradients); the order is the layout of
// training checkpoints and of ModelFromParams.
func (m *Model) Params() (params, grads [][]float32) {
	for _, c := range m.Convs() {
		p, g := c.Params()
		params = append(params, p...)
		grads = append(grads, g...)
	}
	return params, grads
}

// ModelFromParams builds a model of cfg with copies of the given parameter arrays (Params
// order) and latent bins (kept at the defaults when bins does not have one per latent
// channel). The trainer makes its models from checkpoints with it.
func ModelFromParams(cfg Config, params [][]float32, bins []BinRef) (*Model, error) {
	m, err := New(cfg, 0)
	if err != nil {
		return nil, err
	}
	ps, _ := m.Params()
	if len(ps) != len(params) {
		return nil, fmt.Errorf("vae: checkpoint has %d parameter arrays, config needs %d", len(params), len(ps))
	}
	for i := range ps {
		if len(ps[i]) != len(params[i]) {
			return nil, fmt.Errorf("vae: parameter array %d has %d values, config needs %d", i, len(params[i]), len(ps[i]))
		}
		copy(ps[i], params[i])
	}
	if len(bins) == len(m.Bins) {
		copy(m.Bins, bins)
	}
	m.Refresh()
	return m, nil
}

// Pass runs the loss of a model over batches (one sample of every latent) with buffers of its
// own: the trainer's steps, validations and bin fits. It runs the model's own networks, so a
// model's passes must not run concurrently (the evaluations of infer.go share the weights
// instead and are safe for concurrent use).
type Pass struct {
	m *Model
	t *trainer
}

// NewPass returns a pass of m.
func (m *Model) NewPass() *Pass { return &Pass{m: m, t: m.newTrainer()} }

// Loss returns the -ELBO of bt with the latent noise drawn from rng, without gradients.
func (p *Pass) Loss(bt *Batch, rng *rand.Rand) Stats { return p.m.Loss(p.t, bt, rng, false) }

// Gradients is Loss that also sets the model's gradients (the grads of Params) to those of the
// batch's mean -ELBO in bits per subpixel with respect to its parameters: the backward pass of
// a training step.
func (p *Pass) Gradients(bt *Batch, rng *rand.Rand) Stats {
	cs := p.m.Convs()
	for _, c := range cs {
		c.ZeroGrad()
	}
	st := p.m.Loss(p.t, bt, rng, true)
	for _, c := range cs {
		c.FinishGrad() // dW of the effective weights -> dV, dG of weight normalization
	}
	return st
}

// Latent returns the sample of z_{i+1} of the last pass, planar [ZC][B][16][16] (valid until
// the next pass): the trainer fits the latent bins to these samples.
func (p *Pass) Latent(i int) []float32 { return p.t.z[i].Data }
