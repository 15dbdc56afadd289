package nn

import (
	"runtime"
	"sync"
)

// Workers is the number of goroutines the engine splits work over. It defaults to GOMAXPROCS;
// results of the forward passes do not depend on it.
var Workers = runtime.GOMAXPROCS(0)

// Parallel is parallel for the engine's users (elementwise work in the model code).
func Parallel(n, grain int, fn func(w, lo, hi int)) { parallel(n, grain, fn) }

// parallel runs fn(w, lo, hi) over [0, n) split into at most Workers contiguous chunks, chunk w
// on its own goroutine (chunk 0 on the caller's). Chunks are rounded to multiples of grain.
func parallel(n, grain int, fn func(w, lo, hi int)) {
	if n <= 0 {
		return
	}
	units := (n + grain - 1) / grain
	nw := min(Workers, units)
	if nw <= 1 {
		fn(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	per := (units + nw - 1) / nw
	for w := nw - 1; w >= 0; w-- {
		lo := w * per * grain
		hi := min(n, (w+1)*per*grain)
		if lo >= hi {
			continue
		}
		if w == 0 {
			fn(0, lo, hi)
			continue
		}
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			fn(w, lo, hi)
		}(w, lo, hi)
	}
	wg.Wait()
}

// Ctx holds the per-worker scratch buffers of the passes, so that steady-state passes do not
// allocate. A Ctx may be used by one pass at a time; give each concurrently running network its
// own Ctx. The zero value is ready to use.
type Ctx struct {
	bufs     [][nSlots][]float32
	padBuf   padded
	rowBases []int32
	dwTail   []float32
}

const (
	slotPackB = iota
	slotPackA
	slotTmp
	nSlots
)

// buf returns worker w's buffer in the given slot with at least n elements. Only worker w's
// goroutine touches it during a parallel call; the slice of workers is grown before the call.
func (c *Ctx) buf(w, slot, n int) []float32 {
	b := c.bufs[w][slot]
	if cap(b) < n {
		b = make([]float32, n)
		c.bufs[w][slot] = b
	}
	return b[:n]
}

// grow makes room for Workers workers; called before a parallel pass.
func (c *Ctx) grow() {
	for len(c.bufs) < Workers {
		c.bufs = append(c.bufs, [nSlots][]float32{})
	}
}
