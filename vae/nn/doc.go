// Package nn is the network engine: the few layers the VAE needs (2-D convolution with weight
// normalization, ELU, residual blocks, 2x2 squeeze, logistic likelihoods), each with a forward
// and a backward pass, built on one hand-written GEMM.
//
// # Layout
//
// Activations are Tensors of shape [C][B][H][W], channel-major with the batch inside, stored
// contiguously in float32. A convolution is then one matrix product
// out[Cout][N] = W[Cout][Cin*KH*KW] x im2col(in)[Cin*KH*KW][N], N = B*H*W, where the im2col
// matrix is never built: the GEMM packs its 16-column panels straight from the input.
//
// # Configuration
//
// Every pass takes a Ctx, which holds its scratch buffers and its Config: the number of
// workers the pass splits its work over and the GEMM kernel. Configuration is a value: no
// package-level variable changes after initialization, and any number of passes with
// different Configs may run at once over the same weights (each with its own Ctx).
//
// # Determinism
//
// Bits-back decoding recomputes the encoder's distributions, so inference must give the same
// bits for any worker count, kernel, batch size, GOAMD64 level and CPU. Every output element of a
// forward convolution is computed as bias + p_0 + p_1 + ... + p_{K-1}, summed left to right in
// float32, each product rounded to float32 before it is added (no FMA). The AVX2 kernel
// (multiply, then add, one lane per output column) and the pure-Go kernel do exactly that, and
// work is split across goroutines by output column panels only, never inside a sum. The
// backward passes are only used for training and carry no such promise.
package nn
