//go:build !amd64

package nn

func eluBlock(x, y []float32) { eluGo(x, y) }

func eluBackBlock(y, dy, dx []float32) { eluBackGo(y, dy, dx) }
