// Package bbans is BB-ANS (Townsend, Bird, Barber 2019) over the hierarchical VAE, with all
// latent layers treated as one latent variable. Per patch:
//
//	pop z_1 ~ q(z_1|x), ..., pop z_L ~ q(z_L|z_{L-1}),
//	push x ~ p(x|z_1), push z_1 ~ p(z_1|z_2), ..., push z_{L-1} ~ p(z_{L-1}|z_L),
//	push z_L ~ p(z_L).
//
// Every layer is popped before anything is pushed, so the first patch needs the bits of all
// layers on the stack (Bit-Swap needs only the first layer's). The patch grid, chains and
// clean bits are package bbcore's.
package bbans

import "github.com/bitswap-codec/bitswap/internal/bbcore"

// Scheme is BB-ANS's coding order.
type Scheme struct{}

// EncodeStep codes the step's patches.
func (Scheme) EncodeStep(s *bbcore.Step) error {
	L := len(s.Z)
	if err := s.PopLatent(0, s.Inf.Posterior0(s.X, s.B())); err != nil {
		return err
	}
	for i := 1; i < L; i++ {
		if err := s.PopLatent(i, s.Inf.Posterior(i, s.Z[i-1])); err != nil {
			return err
		}
	}
	s.PushPixels()
	for i := 1; i < L; i++ {
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
	}
	if err := s.PopPixels(); err != nil {
		return err
	}
	for i := L - 1; i >= 1; i-- {
		s.PushLatent(i, s.Inf.Posterior(i, s.Z[i-1]))
	}
	s.PushLatent(0, s.Inf.Posterior0(s.X, s.B()))
	return nil
}
