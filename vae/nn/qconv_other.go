//go:build !amd64

package nn

func qabsmax(x []float32) uint32 { return qabsmaxGo(x) }

func qpack(x0, x1 []float32, dst []int32, rows, stride int, scale float32) {
	qpackGo(x0, x1, dst, rows, stride, scale)
}
