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

// A task is work split by parallel: run(w, lo, hi) does [lo, hi) as worker w. The forward
// passes use task structs kept in their Ctx (see forwardTasks), so that steady-state
// inference allocates nothing; other passes use funcTask closures.
type task interface{ run(w, lo, hi int) }

// funcTask adapts a closure to task.
type funcTask func(w, lo, hi int)

func (f funcTask) run(w, lo, hi int) { f(w, lo, hi) }

// parallel runs fn(w, lo, hi) over [0, n) split into at most Workers contiguous chunks (see
// runTask).
func parallel(n, grain int, fn func(w, lo, hi int)) { runTask(n, grain, funcTask(fn)) }

// job is one chunk handed to a pool worker.
type job struct {
	t         task
	w, lo, hi int
	done      *sync.WaitGroup
}

// The worker pool: long-lived goroutines fed through a buffered channel (starting a
// goroutine per chunk allocates).
var (
	poolMu  sync.Mutex
	poolN   int
	jobs    = make(chan job, 256)
	waiters = sync.Pool{New: func() any { return new(sync.WaitGroup) }}
)

func ensureWorkers(n int) {
	poolMu.Lock()
	for poolN < n {
		poolN++
		go func() {
			for j := range jobs {
				j.t.run(j.w, j.lo, j.hi)
				j.done.Done()
			}
		}()
	}
	poolMu.Unlock()
}

// runTask runs t over [0, n) split into at most Workers contiguous chunks, chunk w as worker
// w (chunk 0 on the caller's goroutine, the others on the pool). Chunks are rounded to
// multiples of grain. Tasks must not call runTask themselves (the pool could run dry).
func runTask(n, grain int, t task) {
	if n <= 0 {
		return
	}
	units := (n + grain - 1) / grain
	nw := min(Workers, units)
	if nw <= 1 {
		t.run(0, 0, n)
		return
	}
	ensureWorkers(nw - 1)
	wg := waiters.Get().(*sync.WaitGroup)
	per := (units + nw - 1) / nw
	for w := nw - 1; w >= 1; w-- {
		lo := w * per * grain
		hi := min(n, (w+1)*per*grain)
		if lo >= hi {
			continue
		}
		wg.Add(1)
		jobs <- job{t: t, w: w, lo: lo, hi: hi, done: wg}
	}
	t.run(0, 0, min(n, per*grain))
	wg.Wait()
	waiters.Put(wg)
}

// Ctx holds the per-worker scratch buffers of the passes, so that steady-state passes do not
// allocate. A Ctx may be used by one pass at a time; give each concurrently running network its
// own Ctx. The zero value is ready to use.
type Ctx struct {
	bufs     [][nSlots][]float32
	padBuf   padded
	rowBases []int32
	dwTail   []float32

	// the forward passes' tasks (no allocation per pass)
	fillT     fillTask
	padT      padTask
	implicitT implicitTask
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
