package nn

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// kern6x16AVX2 and kern12x32AVX512 are the assembly micro-kernels (gemm_amd64.s): multiply,
// then add, in float32, one lane per output column, k in increasing order — bit-identical to
// kernelGo.
//
//go:noescape
func kern6x16AVX2(k int, a, b, c unsafe.Pointer, ldc int)

//go:noescape
func kern12x32AVX512(k int, a, b, c unsafe.Pointer, ldc int)

func kernelAVX2(k int, a, b, c []float32, ldc int) {
	if k == 0 {
		return
	}
	_ = a[k*6-1]
	_ = b[k*16-1]
	_ = c[5*ldc+15]
	kern6x16AVX2(k, unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), unsafe.Pointer(&c[0]), ldc)
}

func kernelAVX512(k int, a, b, c []float32, ldc int) {
	if k == 0 {
		return
	}
	_ = a[k*12-1]
	_ = b[k*32-1]
	_ = c[11*ldc+31]
	kern12x32AVX512(k, unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), unsafe.Pointer(&c[0]), ldc)
}

func init() {
	kernels = append(kernels,
		kernelSpec{name: "avx2", mr: 6, nr: 16, fn: kernelAVX2, ok: cpu.X86.HasAVX2},
		kernelSpec{name: "avx512", mr: 12, nr: 32, fn: kernelAVX512, ok: cpu.X86.HasAVX512F},
	)
}
