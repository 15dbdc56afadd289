//go:build !amd64

package nn

const dwFast = false

func dwTile(rows int, dout []float32, co0, ldd int, bases []int32, p []float32, offs []int32, acc, out []float32) {
	panic("nn: dwTile needs AVX-512")
}
