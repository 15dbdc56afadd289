//go:build !amd64

package nn

type qpackImpl struct {
	name   string
	absmax func([]float32) uint32
	pack   func(x0, x1 []float32, dst []int32, rows, stride int, scale float32)
}

func qpackImpls() []qpackImpl { return []qpackImpl{{"generic", qabsmax, qpack}} }
