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

// Kernels for the last row panel of a matrix whose row count leaves 4 or 8 rows: they compute
// only those rows (same A panel stride), so no temporary tile is needed.
//
//go:noescape
func kern4x32AVX512(k int, a, b, c unsafe.Pointer, ldc int)

//go:noescape
func kern8x32AVX512(k int, a, b, c unsafe.Pointer, ldc int)

//go:noescape
func kern4x16AVX2(k int, a, b, c unsafe.Pointer, ldc int)

//go:noescape
func ind12x32AVX512(k int, a, b0, b1 unsafe.Pointer, offs *int32, c unsafe.Pointer, ldc int)

//go:noescape
func ind8x32AVX512(k int, a, b0, b1 unsafe.Pointer, offs *int32, c unsafe.Pointer, ldc int)

//go:noescape
func ind4x32AVX512(k int, a, b0, b1 unsafe.Pointer, offs *int32, c unsafe.Pointer, ldc int)

//go:noescape
func ind6x16AVX2(k int, a, b0, b1 unsafe.Pointer, offs *int32, c unsafe.Pointer, ldc int)

//go:noescape
func ind4x16AVX2(k int, a, b0, b1 unsafe.Pointer, offs *int32, c unsafe.Pointer, ldc int)

func indKernel(rows, mr, nr int, f func(k int, a, b0, b1 unsafe.Pointer, offs *int32, c unsafe.Pointer, ldc int)) indFn {
	return func(k int, a, src []float32, base0, base1 int, offs []int32, c []float32, ldc int) {
		if k == 0 {
			return
		}
		_ = a[k*mr-1]
		_ = offs[k-1]
		_ = c[(rows-1)*ldc+nr-1]
		_ = src[base0]
		_ = src[base1]
		f(k, unsafe.Pointer(&a[0]), unsafe.Pointer(&src[base0]), unsafe.Pointer(&src[base1]), &offs[0], unsafe.Pointer(&c[0]), ldc)
	}
}

func rowsKernel(rows, mr, nr int, f func(k int, a, b, c unsafe.Pointer, ldc int)) func(k int, a, b, c []float32, ldc int) {
	return func(k int, a, b, c []float32, ldc int) {
		if k == 0 {
			return
		}
		_ = a[k*mr-1]
		_ = b[k*nr-1]
		_ = c[(rows-1)*ldc+nr-1]
		f(k, unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), unsafe.Pointer(&c[0]), ldc)
	}
}

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

// archKernels returns the assembly kernels (available when the CPU has the instructions).
func archKernels() []*kernelSpec {
	q512 := qindFn(qindAVX2) // AVX-512 without VNNI: the AVX2 integer kernel
	if hasVNNI {
		q512 = qindVNNI
	}
	return []*kernelSpec{
		{name: "avx2", mr: 6, nr: 16, fn: kernelAVX2, ok: cpu.X86.HasAVX2, qind: qindAVX2,
			rows: map[int]func(int, []float32, []float32, []float32, int){4: rowsKernel(4, 6, 16, kern4x16AVX2)},
			ind:  map[int]indFn{6: indKernel(6, 6, 16, ind6x16AVX2), 4: indKernel(4, 6, 16, ind4x16AVX2)}},
		{name: "avx512", mr: 12, nr: 32, fn: kernelAVX512, ok: cpu.X86.HasAVX512F, direct: true, qind: q512,
			rows: map[int]func(int, []float32, []float32, []float32, int){
				4: rowsKernel(4, 12, 32, kern4x32AVX512), 8: rowsKernel(8, 12, 32, kern8x32AVX512)},
			ind: map[int]indFn{12: indKernel(12, 12, 32, ind12x32AVX512), 8: indKernel(8, 12, 32, ind8x32AVX512),
				4: indKernel(4, 12, 32, ind4x32AVX512)}},
	}
}
