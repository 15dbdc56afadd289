package nn

import "unsafe"

//go:noescape
func dwTile4x6AVX512(rows int, dout unsafe.Pointer, ldd int, bases *int32, p unsafe.Pointer, offs *int32, acc unsafe.Pointer)

// dwTile computes the 4x6 tile (co0.., k0..) of the weight gradient over all rows into
// out[i*6+j], with the AVX-512 code (only the avx512 kernel, available on CPUs with AVX-512F,
// asks for it); acc is scratch for 24*16 floats.
func dwTile(rows int, dout []float32, co0, ldd int, bases []int32, p []float32, offs []int32, acc, out []float32) {
	_ = dout[(co0+3)*ldd+rows*16-1]
	_ = offs[5]
	_ = acc[24*16-1]
	_ = bases[rows-1]
	dwTile4x6AVX512(rows, unsafe.Pointer(&dout[co0*ldd]), ldd, &bases[0], unsafe.Pointer(&p[0]), &offs[0], unsafe.Pointer(&acc[0]))
	for t := 0; t < 24; t++ {
		v := acc[t*16 : t*16+16]
		s := float32(0)
		for _, x := range v {
			s += x
		}
		out[t] = s
	}
}
