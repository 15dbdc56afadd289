package nn

import "fmt"

// A kernelSpec is one GEMM micro-kernel: the tile shape and the code.
type kernelSpec struct {
	name   string
	mr, nr int
	fn     func(k int, a, b, c []float32, ldc int)
	ok     bool // available on this CPU
	// rows holds kernels for partial row panels: rows[m] computes the first m rows of a tile.
	rows map[int]func(k int, a, b, c []float32, ldc int)
	// ind holds the indirect (implicit-GEMM) kernels by row count, one for every count up to
	// mr when the kernel has none of its own (indGo).
	ind map[int]indFn
	// direct: the weight gradient of 16-pixel rows uses the direct AVX-512 code (dwTile)
	// instead of this kernel over packed panels.
	direct bool
	// qind is the integer path's tile kernel (qconv.go) used with this kernel: the best
	// one the CPU has among those of the same instruction set, qindGo for the portable ones.
	qind qindFn
}

// kernels lists the kernels of this build, fixed at initialization: the portable ones, then
// the assembly ones (archKernels), available or not; the best available one comes last
// among the available ones.
var kernels = completeKernels(append([]*kernelSpec{
	{name: "go", mr: 6, nr: 16, fn: kernelGo(6, 16), ok: true},
	{name: "go12x32", mr: 12, nr: 32, fn: kernelGo(12, 32), ok: true},
}, archKernels()...))

// best is the best kernel available on this CPU: the kernel of the zero Kernel.
var best = func() *kernelSpec {
	b := kernels[0]
	for _, k := range kernels {
		if k.ok {
			b = k
		}
	}
	return b
}()

// completeKernels gives every kernel without indirect kernels the portable ones.
func completeKernels(ks []*kernelSpec) []*kernelSpec {
	for _, k := range ks {
		if k.qind == nil {
			k.qind = qindGo
		}
		if k.ind == nil {
			k.ind = map[int]indFn{}
			for r := 1; r <= k.mr; r++ {
				k.ind[r] = indGo(r, k.mr, k.nr)
			}
		}
	}
	return ks
}

// A Kernel is a choice of GEMM micro-kernel ("go", "go12x32", "avx2", "avx512"), given to
// the passes in a Config. Every kernel gives the same bits: the choice is for tests and
// benchmarks. The zero Kernel is the best one available on this CPU.
type Kernel struct{ s *kernelSpec }

func (k Kernel) spec() *kernelSpec {
	if k.s == nil {
		return best
	}
	return k.s
}

// String returns the kernel's name.
func (k Kernel) String() string { return k.spec().name }

// LookupKernel returns the kernel of the given name; it is an error if this build has no
// such kernel or this CPU cannot run it.
func LookupKernel(name string) (Kernel, error) {
	for _, k := range kernels {
		if k.name == name {
			if !k.ok {
				return Kernel{}, fmt.Errorf("nn: kernel %s not available on this CPU", name)
			}
			return Kernel{k}, nil
		}
	}
	return Kernel{}, fmt.Errorf("nn: no kernel %q", name)
}

// Kernels lists the kernels available on this CPU, best last.
func Kernels() []Kernel {
	var out []Kernel
	for _, k := range kernels {
		if k.ok {
			out = append(out, Kernel{k})
		}
	}
	return out
}

// BestKernel returns the kernel the zero Kernel stands for.
func BestKernel() Kernel { return Kernel{best} }
