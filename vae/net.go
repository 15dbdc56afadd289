package vae

import (
	"math/rand/v2"

	"github.com/bitswap-codec/bitswap/vae/nn"
)

// resBlock is h + C2(ELU(C1(ELU(h)))).
type resBlock struct {
	c1, c2 *nn.Conv
}

// Net is one of the model's networks: an input convolution to the hidden width, residual
// blocks, and an output convolution from ELU(hidden).
type Net struct {
	In     *nn.Conv
	Blocks []*resBlock
	Out    *nn.Conv

	x    *nn.Tensor // the input of the last Forward (not copied)
	own  acts       // the activations of a net that keeps its own
	acts *acts      // where Forward puts them: &own, or a set shared by evaluation nets
	grad [3]nn.Tensor
}

// acts are a net's activations, saved by Forward for Backward and Features.
type acts struct {
	a0, eOut, out nn.Tensor
	blocks        []blockActs
}

// blockActs are a residual block's activations.
type blockActs struct {
	in             *nn.Tensor // the block's input (the previous layer's output; not copied)
	e1, a1, e2, a2 nn.Tensor
}

// at returns the activations of the last Forward, sized for blocks residual blocks.
func (n *Net) at() *acts {
	if n.acts == nil {
		n.acts = &n.own
	}
	for len(n.acts.blocks) < len(n.Blocks) {
		n.acts.blocks = append(n.acts.blocks, blockActs{})
	}
	return n.acts
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
	a := n.at()
	a.a0.Resize(width, B, H, W)
	n.In.Forward(ctx, x, &a.a0)
	h := &a.a0
	for i, b := range n.Blocks {
		ba := &a.blocks[i]
		ba.in = h
		ba.e1.Resize(width, B, H, W)
		nn.ELU(ctx, ba.in.Data, ba.e1.Data)
		ba.a1.Resize(width, B, H, W)
		b.c1.Forward(ctx, &ba.e1, &ba.a1)
		ba.e2.Resize(width, B, H, W)
		nn.ELU(ctx, ba.a1.Data, ba.e2.Data)
		ba.a2.Resize(width, B, H, W)
		b.c2.Forward(ctx, &ba.e2, &ba.a2)
		nn.Add(ba.in.Data, ba.a2.Data, ba.a2.Data) // a2 now holds the block output
		h = &ba.a2
	}
	a.eOut.Resize(width, B, H, W)
	nn.ELU(ctx, h.Data, a.eOut.Data)
	a.out.Resize(n.Out.Shape.Cout, B, H, W)
	n.Out.Forward(ctx, &a.eOut, &a.out)
	return &a.out
}

// hidden returns the tensor fed to the final ELU (the last block's output or a0).
func (n *Net) hidden() *nn.Tensor {
	a := n.at()
	if len(n.Blocks) == 0 {
		return &a.a0
	}
	return &a.blocks[len(n.Blocks)-1].a2
}

// Backward accumulates parameter gradients for the last Forward given the output gradient,
// and adds the input gradient into dx when dx is not nil.
func (n *Net) Backward(ctx *nn.Ctx, dout, dx *nn.Tensor) { n.BackwardExtra(ctx, dout, nil, dx) }

// Features returns the ELU of the last hidden layer of the last Forward (the input of the
// output convolution).
func (n *Net) Features() *nn.Tensor { return &n.at().eOut }

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
	a := n.at()
	g.Zero()
	t1.Zero()
	n.Out.Backward(ctx, &a.eOut, dout, t1)
	if dfeat != nil {
		nn.AddTo(dfeat.Data, t1.Data)
	}
	nn.ELUBackward(ctx, n.hidden().Data, a.eOut.Data, t1.Data, g.Data)
	// g = d(block output). A block is out = in + c2(ELU(c1(ELU(in)))).
	for i := len(n.Blocks) - 1; i >= 0; i-- {
		b, ba := n.Blocks[i], &a.blocks[i]
		t1.Zero()
		b.c2.Backward(ctx, &ba.e2, g, t1) // t1 = d(e2)
		t2.Zero()
		nn.ELUBackward(ctx, ba.a1.Data, ba.e2.Data, t1.Data, t2.Data) // t2 = d(a1)
		t1.Zero()
		b.c1.Backward(ctx, &ba.e1, t2, t1)                           // t1 = d(e1)
		nn.ELUBackward(ctx, ba.in.Data, ba.e1.Data, t1.Data, g.Data) // g = d(in) (identity path kept)
	}
	n.In.Backward(ctx, n.x, g, dx)
}
