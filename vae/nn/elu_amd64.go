package nn

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:noescape
func eluAVX2(x, y unsafe.Pointer, n int)

var eluFast = cpu.X86.HasAVX2

// eluBlock computes the ELU of x into y with the AVX2 code for the multiple-of-8 prefix.
func eluBlock(x, y []float32) {
	n := len(x) &^ 7
	if eluFast && n > 0 {
		_ = y[n-1]
		eluAVX2(unsafe.Pointer(&x[0]), unsafe.Pointer(&y[0]), n)
	} else {
		n = 0
	}
	eluGo(x[n:], y[n:len(x)])
}

//go:noescape
func eluBackAVX2(y, dy, dx unsafe.Pointer, n int)

// eluBackBlock adds dy * ELU'(x) into dx given the forward output y, with the AVX2 code for
// the multiple-of-8 prefix.
func eluBackBlock(y, dy, dx []float32) {
	n := len(y) &^ 7
	if eluFast && n > 0 {
		_, _ = dy[n-1], dx[n-1]
		eluBackAVX2(unsafe.Pointer(&y[0]), unsafe.Pointer(&dy[0]), unsafe.Pointer(&dx[0]), n)
	} else {
		n = 0
	}
	eluBackGo(y[n:], dy[n:len(y)], dx[n:len(y)])
}
