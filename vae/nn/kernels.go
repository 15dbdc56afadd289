package nn

import "fmt"

// A kernel choice: the tile shape and the micro-kernel function.
type kernelSpec struct {
	name   string
	mr, nr int
	fn     func(k int, a, b, c []float32, ldc int)
	ok     bool // available on this CPU
	// rows holds kernels for partial row panels: rows[m] computes the first m rows of a tile.
	rows map[int]func(k int, a, b, c []float32, ldc int)
	// ind holds the indirect (implicit-GEMM) kernels by row count; nil: use indGo.
	ind map[int]indFn
}

var kernels = []kernelSpec{
	{name: "go", mr: 6, nr: 16, fn: kernelGo, ok: true},
	{name: "go12x32", mr: 12, nr: 32, fn: kernelGo, ok: true},
}

var (
	kernelName = "go"
	rowKernels map[int]func(k int, a, b, c []float32, ldc int)
	indKernels map[int]indFn
)

// Kernels lists the names of the kernels available on this CPU, best last.
func Kernels() []string {
	var names []string
	for _, k := range kernels {
		if k.ok {
			names = append(names, k.name)
		}
	}
	return names
}

// Kernel returns the name of the kernel in use.
func Kernel() string { return kernelName }

// UseKernel selects a micro-kernel by name ("go", "go12x32", "avx2", "avx512") and returns
// the previous one. Every kernel gives the same bits; this is for tests and benchmarks. It
// must not be called while a pass runs.
func UseKernel(name string) (prev string, err error) {
	for _, k := range kernels {
		if k.name == name {
			if !k.ok {
				return kernelName, fmt.Errorf("nn: kernel %s not available on this CPU", name)
			}
			prev = kernelName
			kernel, MR, NR, kernelName = k.fn, k.mr, k.nr, k.name
			rowKernels = k.rows
			indKernels = k.ind
			if indKernels == nil {
				indKernels = map[int]indFn{}
				for r := 1; r <= k.mr; r++ {
					indKernels[r] = indGo(r)
				}
			}
			return prev, nil
		}
	}
	return kernelName, fmt.Errorf("nn: no kernel %q", name)
}

// UseAssembly switches between the best assembly kernel (true) and the portable one; it
// returns whether an assembly kernel was in use before.
func UseAssembly(on bool) bool {
	prev := kernelName != "go" && kernelName != "go12x32"
	if on {
		useBest()
	} else {
		UseKernel("go")
	}
	return prev
}

func useBest() {
	best := "go"
	for _, k := range kernels {
		if k.ok {
			best = k.name
		}
	}
	UseKernel(best)
}

func init() { useBest() }
