package nn

import (
	"sync"

	"github.com/bitswap-codec/bitswap/internal/dmath"
)

// elemGrain is the chunk size of elementwise passes split over the workers.
const elemGrain = 4096

// ELU computes y = x for x > 0, e**x - 1 otherwise (alpha = 1), elementwise, on ctx's
// workers. y may alias x. Each element is computed on its own, so the split over workers does
// not change results.
func ELU(ctx *Ctx, x, y []float32) {
	t := eluTasks.Get().(*eluTask)
	t.x, t.y = x, y[:len(x)]
	ctx.run(len(x), elemGrain, t)
	t.x, t.y = nil, nil
	eluTasks.Put(t)
}

type eluTask struct{ x, y []float32 }

func (t *eluTask) run(_, lo, hi int) { eluBlock(t.x[lo:hi], t.y[lo:hi]) }

var eluTasks = sync.Pool{New: func() any { return new(eluTask) }}

// eluGo is the portable ELU; the AVX2 code gives the same bits.
func eluGo(x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		if v > 0 {
			y[i] = v
		} else {
			y[i] = dmath.Exp32(v) - 1
		}
	}
}

// ELUBackward adds dx += dy * ELU'(x), using the forward output y (ELU'(x) = y+1 for x <= 0),
// on ctx's workers. x is not needed: y+1 > 1 exactly when x > 0, so ELU'(x) = min(y+1, 1).
func ELUBackward(ctx *Ctx, x, y, dy, dx []float32) {
	y = y[:len(x)]
	dx = dx[:len(x)]
	dy = dy[:len(x)]
	ctx.Parallel(len(x), elemGrain, func(_, lo, hi int) {
		eluBackBlock(y[lo:hi], dy[lo:hi], dx[lo:hi])
	})
}

// eluBackGo is the portable ELUBackward; the AVX2 code gives the same bits.
func eluBackGo(y, dy, dx []float32) {
	dx = dx[:len(y)]
	dy = dy[:len(y)]
	for i, v := range y {
		if v > 0 {
			dx[i] += dy[i]
		} else {
			dx[i] += dy[i] * (v + 1)
		}
	}
}

// Add sets z = x + y elementwise. z may alias x or y.
func Add(x, y, z []float32) {
	z = z[:len(x)]
	y = y[:len(x)]
	for i := range x {
		z[i] = x[i] + y[i]
	}
}

// AddTo adds x into y.
func AddTo(x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += v
	}
}

// Squeeze rearranges x [C][B][2H][2W] into y [4C][B][H][W] (space-to-depth): channel
// 4c + 2i + j of y holds the pixels (2h+i, 2w+j) of channel c of x.
func Squeeze(x, y *Tensor) {
	if y.C != 4*x.C || y.B != x.B || 2*y.H != x.H || 2*y.W != x.W {
		panic("nn: squeeze shape mismatch " + x.Shape() + " -> " + y.Shape())
	}
	squeezeCopy(x, y, false)
}

// Unsqueeze is the inverse of Squeeze: y [4C][B][H][W] -> x [C][B][2H][2W].
func Unsqueeze(y, x *Tensor) {
	if y.C != 4*x.C || y.B != x.B || 2*y.H != x.H || 2*y.W != x.W {
		panic("nn: unsqueeze shape mismatch " + y.Shape() + " -> " + x.Shape())
	}
	squeezeCopy(x, y, true)
}

func squeezeCopy(x, y *Tensor, inverse bool) {
	H, W := y.H, y.W
	for c := 0; c < x.C; c++ {
		for b := 0; b < x.B; b++ {
			for i := 0; i < 2; i++ {
				for j := 0; j < 2; j++ {
					yc := y.Data[((4*c+2*i+j)*y.B+b)*H*W:]
					xc := x.Data[(c*x.B+b)*4*H*W:]
					for h := 0; h < H; h++ {
						xr := xc[(2*h+i)*2*W:]
						yr := yc[h*W : (h+1)*W]
						if inverse {
							for w := range yr {
								xr[2*w+j] = yr[w]
							}
						} else {
							for w := range yr {
								yr[w] = xr[2*w+j]
							}
						}
					}
				}
			}
		}
	}
}
