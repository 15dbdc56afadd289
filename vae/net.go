package vae

import (
	"math/rand/v2"

	"github.com/bitswap-codec/bitswap/vae/nn"
)

// resBlock is h + C2(ELU(C1(ELU(h)))).
type resBlock struct {
	c1, c2 *nn.Conv
	// activations saved for the backward pass
	in             *nn.Tensor // the block's input (the previous layer's output; not copied)
	e1, a1, e2, a2 nn.Tensor
}

// Net is one of the model's networks: an input convolution to the hidden width, residual
// blocks, and an output convolution from ELU(hidden).
type Net struct {
	In     *nn.Conv
	Blocks []*resBlock
	Out    *nn.Conv

	x             *nn.Tensor // the input of the last Forward (not copied)
	a0, eOut, out nn.Tensor  // saved activations
	grad          [3]nn.Tensor
}

func newNet(cin, width, cout, kin, blocks int, rng *rand.Rand) *Net {
	n := &Net{
		In:  nn.NewConv(nn.ConvShape{Cin: cin, Cout: width, KH: kin, KW: kin}, 1, rng),
		Out: nn.NewConv(nn.ConvShape{Cin: width, Cout: cout, KH: 3, KW: 3}, 0.1, rng),
	}
	for i := 0; i < blocks; i++ {
		n.Blocks = append(n.Blocks, &resBlock{
			c1: nn.NewConv(nn.ConvShape{Cin: width, Cout: width, KH: 3, KW: 3}, 1, rng),
			c2: nn.NewConv(nn.ConvShape{Cin: width, Cout: width, KH: 3, KW: 3}, 0.1, rng),
		})
	}
	return n
}

// Convs lists the net's convolutions in a fixed order (serialization, optimizer). Exported
// for checkpoint upgrades (vae/train), which link each network of a new architecture to the
// one it continues conv by conv.
func (n *Net) Convs() []*nn.Conv {
	cs := []*nn.Conv{n.In}
	for _, b := range n.Blocks {
		cs = append(cs, b.c1, b.c2)
	}
	return append(cs, n.Out)
}

// Forward runs the net on x and returns its output (owned by the net, valid until the next
// Forward). The net keeps a reference to x for Backward: x must not change in between.
func (n *Net) Forward(ctx *nn.Ctx, x *nn.Tensor) *nn.Tensor {
	width := n.In.Shape.Cout
	B, H, W := x.B, x.H, x.W
	n.x = x
	n.a0.Resize(width, B, H, W)
	n.In.Forward(ctx, x, &n.a0)
	h := &n.a0
	for _, b := range n.Blocks {
		b.in = h
		b.e1.Resize(width, B, H, W)
		nn.ELU(ctx, b.in.Data, b.e1.Data)
		b.a1.Resize(width, B, H, W)
		b.c1.Forward(ctx, &b.e1, &b.a1)
		b.e2.Resize(width, B, H, W)
		nn.ELU(ctx, b.a1.Data, b.e2.Data)
		b.a2.Resize(width, B, H, W)
		b.c2.Forward(ctx, &b.e2, &b.a2)
		nn.Add(b.in.Data, b.a2.Data, b.a2.Data) // a2 now holds the block output
		h = &b.a2
	}
	n.eOut.Resize(width, B, H, W)
	nn.ELU(ctx, h.Data, n.eOut.Data)
	n.out.Resize(n.Out.Shape.Cout, B, H, W)
	n.Out.Forward(ctx, &n.eOut, &n.out)
	return &n.out
}

// hidden returns the tensor fed to the final ELU (the last block's output or a0).
func (n *Net) hidden() *nn.Tensor {
	if len(n.Blocks) == 0 {
		return &n.a0
	}
	return &n.Blocks[len(n.Blocks)-1].a2
}

// Backward accumulates parameter gradients for the last Forward given the output gradient,
// and adds the input gradient into dx when dx is not nil.
func (n *Net) Backward(ctx *nn.Ctx, dout, dx *nn.Tensor) { n.BackwardExtra(ctx, dout, nil, dx) }

// Features returns the ELU of the last hidden layer of the last Forward (the input of the
// output convolution).
func (n *Net) Features() *nn.Tensor { return &n.eOut }

// BackwardExtra is Backward with an additional gradient dfeat (may be nil) with respect to
// Features().
func (n *Net) BackwardExtra(ctx *nn.Ctx, dout, dfeat, dx *nn.Tensor) {
	width := n.In.Shape.Cout
	B, H, W := dout.B, dout.H, dout.W
	g, t1, t2 := &n.grad[0], &n.grad[1], &n.grad[2]
	for _, t := range []*nn.Tensor{g, t1, t2} {
		t.Resize(width, B, H, W)
	}
	// out = Out(ELU(h))
	g.Zero()
	t1.Zero()
	n.Out.Backward(ctx, &n.eOut, dout, t1)
	if dfeat != nil {
		nn.AddTo(dfeat.Data, t1.Data)
	}
	nn.ELUBackward(ctx, n.hidden().Data, n.eOut.Data, t1.Data, g.Data)
	// g = d(block output). A block is out = in + c2(ELU(c1(ELU(in)))).
	for i := len(n.Blocks) - 1; i >= 0; i-- {
		b := n.Blocks[i]
		t1.Zero()
		b.c2.Backward(ctx, &b.e2, g, t1) // t1 = d(e2)
		t2.Zero()
		nn.ELUBackward(ctx, b.a1.Data, b.e2.Data, t1.Data, t2.Data) // t2 = d(a1)
		t1.Zero()
		b.c1.Backward(ctx, &b.e1, t2, t1)                          // t1 = d(e1)
		nn.ELUBackward(ctx, b.in.Data, b.e1.Data, t1.Data, g.Data) // g = d(in) (identity path kept)
	}
	n.In.Backward(ctx, n.x, g, dx)
}
