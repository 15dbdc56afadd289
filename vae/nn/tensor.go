package nn

import "fmt"

// Tensor is a float32 array of shape [C][B][H][W] (see the package doc).
type Tensor struct {
	C, B, H, W int
	Data       []float32
}

// NewTensor allocates a zeroed tensor.
func NewTensor(c, b, h, w int) *Tensor {
	return &Tensor{C: c, B: b, H: h, W: w, Data: make([]float32, c*b*h*w)}
}

// Len is the number of elements.
func (t *Tensor) Len() int { return t.C * t.B * t.H * t.W }

// N is the number of columns per channel, B*H*W.
func (t *Tensor) N() int { return t.B * t.H * t.W }

// Shape formats the shape for error messages.
func (t *Tensor) Shape() string { return fmt.Sprintf("[%d %d %d %d]", t.C, t.B, t.H, t.W) }

// Resize sets the shape, reusing the backing array when it is large enough. The contents are
// unspecified afterwards.
func (t *Tensor) Resize(c, b, h, w int) {
	n := c * b * h * w
	if cap(t.Data) < n {
		t.Data = make([]float32, n)
	}
	t.Data = t.Data[:n]
	t.C, t.B, t.H, t.W = c, b, h, w
}

// Zero sets every element to 0.
func (t *Tensor) Zero() { clear(t.Data) }

// Chan returns channel c: B*H*W values.
func (t *Tensor) Chan(c int) []float32 {
	n := t.N()
	return t.Data[c*n : (c+1)*n]
}

// SameShape reports whether t and u have the same shape.
func (t *Tensor) SameShape(u *Tensor) bool {
	return t.C == u.C && t.B == u.B && t.H == u.H && t.W == u.W
}
