// Package bitswap is the Bit-Swap coder (Kingma, Abbeel, Ho 2019): recursive bits-back coding
// that interleaves the latent layers of the hierarchical VAE, so that only the first layer's
// bits need to be on the stack before anything is pushed. Per patch:
//
//	pop z_1 ~ q(z_1|x), push x ~ p(x|z_1),
//	for i = 1..L-1: pop z_{i+1} ~ q(z_{i+1}|z_i), push z_i ~ p(z_i|z_{i+1}),
//	push z_L ~ p(z_L).
//
// Decoding runs exactly the reverse. The patch grid, chains and clean bits are package
// bbcore's.
package bitswap

import "github.com/bitswap-codec/bitswap/internal/bbcore"

// Scheme is Bit-Swap's coding order.
type Scheme struct{}

// EncodeStep codes the step's patches.
func (Scheme) EncodeStep(s *bbcore.Step) error {
	L := len(s.Z)
	q := s.Inf.Posterior0(s.X, s.B())
	if err := s.PopLatent(0, q); err != nil {
		return err
	}
	s.PushPixels()
	for i := 1; i < L; i++ {
		if err := s.PopLatent(i, s.Inf.Posterior(i, s.Z[i-1])); err != nil {
			return err
		}
		s.PushLatent(i-1, s.Inf.Prior(i, s.Z[i]))
	}
	s.PushTop(L - 1)
	return nil
}

// DecodeStep undoes EncodeStep.
func (Scheme) DecodeStep(s *bbcore.Step) error {
	L := len(s.Z)
	if err := s.PopTop(L - 1); err != nil {
		return err
	}
	for i := L - 1; i >= 1; i-- {
		if err := s.PopLatent(i-1, s.Inf.Prior(i, s.Z[i])); err != nil {
			return err
		}
		s.PushLatent(i, s.Inf.Posterior(i, s.Z[i-1]))
	}
	if err := s.PopPixels(); err != nil {
		return err
	}
	s.PushLatent(0, s.Inf.Posterior0(s.X, s.B()))
	return nil
}
