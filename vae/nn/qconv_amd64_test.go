package nn

import "unsafe"

type qpackImpl struct {
	name   string
	absmax func([]float32) uint32
	pack   func(x0, x1 []float32, dst []int32, rows, stride int, scale float32)
}

// qpackImpls lists the activations' quantization code this CPU runs.
func qpackImpls() []qpackImpl {
	var out []qpackImpl
	if has512 {
		out = append(out, qpackImpl{"avx512", func(x []float32) uint32 { return qabsmax512(&x[0], len(x)) },
			func(x0, x1 []float32, dst []int32, rows, stride int, scale float32) {
				qpack512(unsafe.Pointer(&x0[0]), unsafe.Pointer(&x1[0]), unsafe.Pointer(&dst[0]), rows, stride, scale)
			}})
	}
	if has256 {
		out = append(out, qpackImpl{"avx2", func(x []float32) uint32 { return qabsmax256(&x[0], len(x)) },
			func(x0, x1 []float32, dst []int32, rows, stride int, scale float32) {
				qpack256(unsafe.Pointer(&x0[0]), unsafe.Pointer(&x1[0]), unsafe.Pointer(&dst[0]), rows, stride, scale)
			}})
	}
	return out
}
