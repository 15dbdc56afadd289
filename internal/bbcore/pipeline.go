package bbcore

import (
	"sync"

	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/vae/nn"
)

// The pipeline. A step's symbols go through one rANS stack in a fixed order, so their
// coding is serial, and each phase's network needs the phase before coded (the latent it
// conditions on, the decoder's earlier pixel stages). But a patch's networks need only that
// patch's variables, so with the batch cut in two halves, the network of one half runs while
// the other half's symbols are coded: the symbols go in the same order under the same
// distributions (the networks give the same bits for any batch composition), and the
// networks' time hides behind the coding. Each half's networks run on a goroutine of their
// own with one worker, so that both halves' networks can run at once, one per core: two
// cores share one operation badly (a width-64 convolution of a few patches runs about 1.3x
// faster on two workers than on one), and this took the decode of a 768x512 photograph
// from 4.3 to 3.1 s (docs/coding.md).

// half returns the entries [lo, hi) of s as a step of their own on inf: same message,
// lanes and chains, a copy of their patches; the context and valid sizes are shared (read
// only).
func (s *Step) half(inf *vae.Inference, lo, hi int) *Step {
	n := hi - lo
	h := &Step{
		Inf: inf, Msg: s.Msg, Lanes: s.Lanes, Chains: s.Chains[lo:hi], Decode: s.Decode,
		X:     make([]uint8, 3*n*patchPix),
		Valid: s.Valid[lo:hi],
		Z:     make([]*nn.Tensor, len(s.Z)),
		idx:   make([][]int32, len(s.Z)),
		bins:  s.bins, model: s.model, par: s.Inf,
	}
	if s.Ctx != nil {
		h.Ctx = &vae.Context{Pix: s.Ctx.Pix[lo*vae.CtxLen : hi*vae.CtxLen], Has: s.Ctx.Has[lo:hi]}
	}
	h.copyX(s, lo, true)
	return h
}

// copyX copies the patches of entries [lo, lo+h.B()) of s into h (in) or back (!in).
func (h *Step) copyX(s *Step, lo int, in bool) {
	B, n := s.B(), h.B()
	for c := 0; c < 3; c++ {
		big := s.X[(c*B+lo)*patchPix : (c*B+lo+n)*patchPix]
		small := h.X[c*n*patchPix : (c+1)*n*patchPix]
		if in {
			copy(small, big)
		} else {
			copy(big, small)
		}
	}
}

// runPipelined runs the phases over the two halves of the batch, each phase on the half
// coded first (the encoder visits the chains in increasing order, the decoder in
// decreasing order), then on the other: a goroutine per half runs its networks, each as
// soon as its half has coded the phase before, while this one codes.
func (s *Step) runPipelined(ph []phase) error {
	B := s.B()
	spans := [2][2]int{{0, B / 2}, {B / 2, B}}
	if s.Decode {
		spans[0], spans[1] = spans[1], spans[0]
	}
	var hs [2]*Step
	for h, sp := range spans {
		hs[h] = s.half(s.halves[h], sp[0], sp[1])
	}
	var ready [2]chan *nn.Tensor
	var coded [2]chan struct{}
	for h := range hs {
		ready[h], coded[h] = make(chan *nn.Tensor, 1), make(chan struct{}, 1)
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for h, hs := range hs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k, p := range ph {
				if k > 0 {
					select {
					case <-coded[h]:
					case <-quit:
						return
					}
				}
				var params *nn.Tensor
				if p.net != nil {
					params = p.net(hs)
				}
				ready[h] <- params // never blocks: the last one was taken
			}
		}()
	}
	err := func() error {
		for _, p := range ph {
			for h, hs := range hs {
				if err := p.code(hs, <-ready[h]); err != nil {
					return err
				}
				coded[h] <- struct{}{}
			}
		}
		return nil
	}()
	close(quit)
	wg.Wait()
	if err != nil {
		return err
	}
	if s.Decode {
		for h, sp := range spans {
			hs[h].copyX(s, sp[0], false)
		}
	}
	return nil
}
