package bbcore

import (
	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/vae/nn"
)

// The decoder's pixel pops are serial (one rANS stack), and each stage's network needs the
// stage before decoded. But a patch's stage network needs only that patch's pixels, so with
// the batch cut in two halves, the network of one half can run while the other half's
// pixels are popped: the pops stay in the encoder's exact reverse order, on the same
// distributions (the networks give the same bits for any batch composition), and the
// networks' time hides behind them.

// half returns the entries [lo, hi) of s as a step of their own on inf: same message,
// lanes and chains, with copies of their latents z_1 and an empty patch buffer; the
// context and valid sizes are shared (read only).
func (s *Step) half(inf *vae.Inference, lo, hi int) *Step {
	B, n := s.B(), hi-lo
	h := &Step{
		Inf: inf, Msg: s.Msg, Lanes: s.Lanes, Chains: s.Chains[lo:hi], Decode: s.Decode,
		X:     make([]uint8, 3*n*patchPix),
		Valid: s.Valid[lo:hi],
		Z:     []*nn.Tensor{inf.LatentTensor(n)},
		bins:  s.bins, model: s.model,
	}
	if s.Ctx != nil {
		h.Ctx = &vae.Context{Pix: s.Ctx.Pix[lo*vae.CtxLen : hi*vae.CtxLen], Has: s.Ctx.Has[lo:hi]}
	}
	z, hz := s.Z[0], h.Z[0]
	for ch := 0; ch < z.C; ch++ {
		copy(hz.Data[ch*n*latentHW:(ch+1)*n*latentHW], z.Data[(ch*B+lo)*latentHW:(ch*B+hi)*latentHW])
	}
	return h
}

// popPixelsPipelined is popPixels over the two halves of the batch, the later entries
// first (the decoder visits the chains in decreasing order): a goroutine runs the stage
// networks, half by half, each as soon as that half's previous stage is decoded, while this
// one pops.
func (s *Step) popPixelsPipelined() error {
	S, B := s.model.Cfg.PixelStages, s.B()
	mid := B / 2
	hs := [2]*Step{s.half(s.halves[0], mid, B), s.half(s.halves[1], 0, mid)}
	var ready [2]chan *nn.Tensor
	var popped [2]chan struct{}
	for h := range hs {
		ready[h], popped[h] = make(chan *nn.Tensor, 1), make(chan struct{}, 1)
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for st := 0; st < S; st++ {
			for h, hs := range hs {
				if st > 0 {
					select {
					case <-popped[h]:
					case <-quit:
						return
					}
				}
				ready[h] <- hs.stageParams(st) // never blocks: the last one was taken
			}
		}
	}()
	err := func() error {
		for st := 0; st < S; st++ {
			for h, hs := range hs {
				if err := hs.popStage(st, <-ready[h]); err != nil {
					return err
				}
				popped[h] <- struct{}{}
			}
		}
		return nil
	}()
	close(quit)
	<-done
	if err != nil {
		return err
	}
	for h, lo := range [2]int{mid, 0} {
		n := hs[h].B()
		for c := 0; c < 3; c++ {
			copy(s.X[(c*B+lo)*patchPix:(c*B+lo+n)*patchPix], hs[h].X[c*n*patchPix:(c+1)*n*patchPix])
		}
	}
	return nil
}
