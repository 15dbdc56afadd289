package nn

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// qtileOK reports whether a tile has work and checks (by panicking) that the slices hold
// what the assembly kernels will read and write: the A panel, the offsets, the scales, the
// tile and each B segment's first row (the offsets are the caller's, made by qquant).
func qtileOK(pairs int, a, src []int32, base0, base1 int, offs []int32, sc, c []float32, ldc int) bool {
	if pairs == 0 {
		return false
	}
	_ = a[pairs*qMR-1]
	_ = offs[pairs-1]
	_ = sc[qMR-1]
	_ = c[(qMR-1)*ldc+31]
	_ = src[base0+15]
	_ = src[base1+15]
	return true
}

//go:noescape
func qind8x32VNNI(pairs int, a, b0, b1 unsafe.Pointer, offs *int32, sc *float32, c unsafe.Pointer, ldc int)

// qindVNNI is the AVX-512 VNNI integer kernel (qconv_amd64.s), bit-identical to qindGo.
func qindVNNI(pairs int, a, src []int32, base0, base1 int, offs []int32, sc, c []float32, ldc int) {
	if !qtileOK(pairs, a, src, base0, base1, offs, sc, c, ldc) {
		return
	}
	qind8x32VNNI(pairs, unsafe.Pointer(&a[0]), unsafe.Pointer(&src[base0]), unsafe.Pointer(&src[base1]), &offs[0], &sc[0], unsafe.Pointer(&c[0]), ldc)
}

//go:noescape
func qind4x16AVX2(pairs int, a, b unsafe.Pointer, offs *int32, sc *float32, c unsafe.Pointer, ldc int)

// qindAVX2 is the AVX2 integer kernel (VPMADDWD), bit-identical to qindGo: the tile as four
// 4x16 quarters.
func qindAVX2(pairs int, a, src []int32, base0, base1 int, offs []int32, sc, c []float32, ldc int) {
	if !qtileOK(pairs, a, src, base0, base1, offs, sc, c, ldc) {
		return
	}
	for r := 0; r < qMR; r += 4 {
		for h, base := range [2]int{base0, base1} {
			qind4x16AVX2(pairs, unsafe.Pointer(&a[r]), unsafe.Pointer(&src[base]), &offs[0], &sc[r], unsafe.Pointer(&c[r*ldc+16*h]), ldc)
		}
	}
}

// hasVNNI: VPDPWSSD on 512-bit registers.
var hasVNNI = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI && cpu.X86.HasAVX512BW

//go:noescape
func qabsmax512(x *float32, n int) uint32

//go:noescape
func qpack512(x0, x1, dst unsafe.Pointer, rows, stride int, scale float32)

//go:noescape
func qabsmax256(x *float32, n int) uint32

//go:noescape
func qpack256(x0, x1, dst unsafe.Pointer, rows, stride int, scale float32)

var has512, has256 = cpu.X86.HasAVX512F, cpu.X86.HasAVX2

// qabsmax is qabsmaxGo, on AVX-512 or AVX2 for whole 16-value rows.
func qabsmax(x []float32) uint32 {
	switch {
	case len(x)%16 != 0 || len(x) == 0:
		return qabsmaxGo(x)
	case has512:
		return qabsmax512(&x[0], len(x))
	case has256:
		return qabsmax256(&x[0], len(x))
	}
	return qabsmaxGo(x)
}

// qpack is qpackGo, on AVX-512 or AVX2.
func qpack(x0, x1 []float32, dst []int32, rows, stride int, scale float32) {
	if rows == 0 || !has512 && !has256 {
		qpackGo(x0, x1, dst, rows, stride, scale)
		return
	}
	_ = x0[rows*16-1]
	_ = x1[rows*16-1]
	_ = dst[(rows-1)*stride+15]
	if has512 {
		qpack512(unsafe.Pointer(&x0[0]), unsafe.Pointer(&x1[0]), unsafe.Pointer(&dst[0]), rows, stride, scale)
		return
	}
	qpack256(unsafe.Pointer(&x0[0]), unsafe.Pointer(&x1[0]), unsafe.Pointer(&dst[0]), rows, stride, scale)
}
