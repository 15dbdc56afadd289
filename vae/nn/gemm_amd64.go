package nn

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// kern6x16AVX2 is the AVX2 micro-kernel (gemm_amd64.s): multiply, then add, in float32, one
// lane per output column, k in increasing order — bit-identical to kernelGo.
//
//go:noescape
func kern6x16AVX2(k int, a, b, c unsafe.Pointer, ldc int)

func kernelAVX2(k int, a, b, c []float32, ldc int) {
	if k == 0 {
		return
	}
	_ = a[k*MR-1]
	_ = b[k*NR-1]
	_ = c[(MR-1)*ldc+NR-1]
	kern6x16AVX2(k, unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), unsafe.Pointer(&c[0]), ldc)
}

// HasAVX2 reports whether the AVX2 kernel is available on this CPU.
var HasAVX2 = cpu.X86.HasAVX2

func init() {
	if HasAVX2 {
		kernel = kernelAVX2
	}
}

// UseAssembly switches between the assembly kernel (true, where available) and the portable
// one; it returns the previous setting. For tests and benchmarks.
func UseAssembly(on bool) bool {
	prev := kernel != nil && isAsm()
	if on && HasAVX2 {
		kernel = kernelAVX2
	} else {
		kernel = kernelGo
	}
	return prev
}

func isAsm() bool {
	return HasAVX2 && funcEq(kernel, kernelAVX2)
}

func funcEq(a, b func(int, []float32, []float32, []float32, int)) bool {
	return *(*unsafe.Pointer)(unsafe.Pointer(&a)) == *(*unsafe.Pointer)(unsafe.Pointer(&b))
}
