// Package bbans is BB-ANS (Townsend, Bird, Barber 2019) over the hierarchical VAE, with all
// latent layers treated as one latent variable. Per patch:
//
//	pop z_1 ~ q(z_1|x), ..., pop z_L ~ q(z_L|z_{L-1}),
//	push x ~ p(x|z_1), push z_1 ~ p(z_1|z_2), ..., push z_{L-1} ~ p(z_{L-1}|z_L),
//	push z_L ~ p(z_L).
//
// Every layer is popped before anything is pushed, so the first patch needs the bits of all
// layers on the stack (Bit-Swap needs only the first layer's). The list below is the
// encoder's; the decoder runs its inverse backwards (package bbcore). The patch grid, chains
// and clean bits are package bbcore's.
package bbans

import "github.com/bitswap-codec/bitswap/internal/bbcore"

// Scheme is BB-ANS's coding order.
type Scheme struct{}

// Ops lists the encoder's operations for a model with L latent layers.
func (Scheme) Ops(L int) []bbcore.Op {
	var ops []bbcore.Op
	for i := 0; i < L; i++ {
		ops = append(ops, bbcore.PopPosterior(i))
	}
	ops = append(ops, bbcore.PushPixels())
	for i := 0; i < L; i++ {
		ops = append(ops, bbcore.PushPrior(i))
	}
	return ops
}
