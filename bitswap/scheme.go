// Package bitswap is the Bit-Swap coder (Kingma, Abbeel, Ho 2019): recursive bits-back coding
// that interleaves the latent layers of the hierarchical VAE, so that only the first layer's
// bits need to be on the stack before anything is pushed. Per patch:
//
//	pop z_1 ~ q(z_1|x), push x ~ p(x|z_1),
//	for i = 1..L-1: pop z_{i+1} ~ q(z_{i+1}|z_i), push z_i ~ p(z_i|z_{i+1}),
//	push z_L ~ p(z_L).
//
// The list below is the encoder's; the decoder runs its inverse backwards (package bbcore).
// The patch grid, chains and clean bits are package bbcore's.
package bitswap

import "github.com/bitswap-codec/bitswap/internal/bbcore"

// Scheme is Bit-Swap's coding order.
type Scheme struct{}

// Ops lists the encoder's operations for a model with L latent layers.
func (Scheme) Ops(L int) []bbcore.Op {
	ops := []bbcore.Op{bbcore.PopPosterior(0), bbcore.PushPixels()}
	for i := 1; i < L; i++ {
		ops = append(ops, bbcore.PopPosterior(i), bbcore.PushPrior(i-1))
	}
	return append(ops, bbcore.PushPrior(L-1))
}
