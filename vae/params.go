package vae

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/bitswap-codec/bitswap/vae/nn"
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
	// parts, when set, is a data-parallel pass: Gradients splits the batch between them.
	parts []*part
}

// part is one core's share of a data-parallel pass: a replica of the model (its weights,
// networks of its own) on one worker, and its share of the batch.
type part struct {
	p     *Pass
	convs []*nn.Conv // the replica's convolutions, in the model's Convs order
	bt    *Batch
	st    Stats
}

// NewPass returns a pass of m.
func (m *Model) NewPass() *Pass { return &Pass{m: m, t: m.newTrainer()} }

// NewParallelPass returns a pass of m whose Gradients split every batch into n parts run at
// once, each by a replica of m on one worker (n <= 1: NewPass). A training step's work is
// mostly small operations that two workers share badly (a 3x3 width-64 convolution runs 1.3x
// faster on two cores than on one, two convolutions on one core each 2x), so whole
// half-batches per core train faster. Loss and everything but Gradients run as NewPass's.
func (m *Model) NewParallelPass(n int) *Pass {
	p := m.NewPass()
	for i := 0; i < n && n > 1; i++ {
		r := m.replica()
		p.parts = append(p.parts, &part{p: r.NewPass(), convs: r.Convs()})
	}
	return p
}

// replica returns a model with m's parameters and weights (shared, see nn.Conv.Replica) and
// networks, activations and gradients of its own, whose passes run on one worker.
func (m *Model) replica() *Model {
	c := &Model{Cfg: m.Cfg, Bins: m.Bins, engine: nn.Config{Workers: 1, Kernel: m.engine.Kernel}}
	for _, n := range m.Inf {
		c.Inf = append(c.Inf, n.replica())
	}
	for _, n := range m.Gen {
		c.Gen = append(c.Gen, n.replica())
	}
	for _, n := range m.Stage {
		c.Stage = append(c.Stage, n.replica())
	}
	for _, s := range m.Skip {
		c.Skip = append(c.Skip, s.Replica())
	}
	return c
}

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
	var st Stats
	if len(p.parts) > 0 && bt.B >= len(p.parts) {
		st = p.parallelGradients(bt, rng, cs)
	} else {
		st = p.m.Loss(p.t, bt, rng, true)
	}
	for _, c := range cs {
		c.FinishGrad() // dW of the effective weights -> dV, dG of weight normalization
	}
	return st
}

// parallelGradients runs the parts of a data-parallel pass on their shares of bt at once and
// adds their effective-weight gradients into cs (the model's convolutions), each weighted by
// its share of the batch: the gradient of the whole batch's mean.
func (p *Pass) parallelGradients(bt *Batch, rng *rand.Rand, cs []*nn.Conv) Stats {
	n := len(p.parts)
	var wg sync.WaitGroup
	lo := 0
	for i, pt := range p.parts {
		hi := bt.B * (i + 1) / n
		pt.bt = bt.slice(pt.bt, lo, hi)
		lo = hi
		// Each part draws its noise from a generator of its own, seeded from rng.
		prng := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		for j, c := range pt.convs {
			c.Share(cs[j])
			c.ZeroGrad()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pt.st = pt.p.m.Loss(pt.p.t, pt.bt, prng, true)
		}()
	}
	wg.Wait()
	var st Stats
	for _, pt := range p.parts {
		w := float64(pt.bt.B) / float64(bt.B)
		st.Add(pt.st, w)
		for j, c := range pt.convs {
			cs[j].AddGrad(c, float32(w))
		}
	}
	return st
}

// Latent returns the sample of z_{i+1} of the last pass, planar [ZC][B][16][16] (valid until
// the next pass): the trainer fits the latent bins to these samples.
func (p *Pass) Latent(i int) []float32 { return p.t.z[i].Data }
