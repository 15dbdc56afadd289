//go:build !amd64

package nn

// dwTile is the AVX-512 weight-gradient tile; no kernel outside amd64 asks for it.
func dwTile(rows int, dout []float32, co0, ldd int, bases []int32, p []float32, offs []int32, acc, out []float32) {
	panic("nn: dwTile needs AVX-512")
}
