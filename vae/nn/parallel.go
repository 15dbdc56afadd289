package nn

import (
	"runtime"
	"sync"
)

// Config says how the passes run with a Ctx are carried out. Apart from Float32 it never
// changes what a forward pass computes: the outputs are the same bits for every Config.
type Config struct {
	// Workers is the number of goroutines a pass splits its work over, the caller's
	// included; 0 (or less) means runtime.GOMAXPROCS(0), read when the Ctx first runs a pass.
	Workers int
	// Kernel is the GEMM micro-kernel; the zero Kernel is the best one on this CPU.
	Kernel Kernel
	// Float32 runs every convolution in float32, also those with integer weights
	// (Conv.SetInteger): the arithmetic of files coded before the integer path. Unlike the
	// other fields, it changes what a pass computes.
	Float32 bool
}

// DefaultWorkers is the worker count of a Config with Workers 0 (runtime.GOMAXPROCS(0)).
func DefaultWorkers() int { return runtime.GOMAXPROCS(0) }

// Parallel runs fn(w, lo, hi) over [0, n) split into at most DefaultWorkers() contiguous
// chunks rounded to multiples of grain, chunk w as worker w; for the engine's users
// (elementwise work in the model code) outside any Ctx. See Ctx.Parallel.
func Parallel(n, grain int, fn func(w, lo, hi int)) { ParallelN(DefaultWorkers(), n, grain, fn) }

// ParallelN is Parallel over at most workers chunks (w < max(workers, 1)).
func ParallelN(workers, n, grain int, fn func(w, lo, hi int)) {
	runTask(max(workers, 1), n, grain, funcTask(fn))
}

// A task is work split by runTask: run(w, lo, hi) does [lo, hi) as worker w. The forward
// passes use task structs kept in their Ctx (see forwardTasks), so that steady-state
// inference allocates nothing; other passes use funcTask closures.
type task interface{ run(w, lo, hi int) }

// funcTask adapts a closure to task.
type funcTask func(w, lo, hi int)

func (f funcTask) run(w, lo, hi int) { f(w, lo, hi) }

// job is one chunk handed to a pool worker.
type job struct {
	t         task
	w, lo, hi int
	done      *sync.WaitGroup
}

// The worker pool, shared by every Ctx: long-lived goroutines fed through a buffered channel
// (starting a goroutine per chunk allocates), started on first use. It has one goroutine per
// CPU: a pass asking for more workers than that queues its extra chunks, which changes
// nothing but the timing (tasks never wait for each other, see runTask).
var (
	poolStart sync.Once
	jobs      = make(chan job, 256)
	waiters   = sync.Pool{New: func() any { return new(sync.WaitGroup) }}
)

func startPool() {
	for range max(runtime.NumCPU(), runtime.GOMAXPROCS(0)) {
		go func() {
			for j := range jobs {
				j.t.run(j.w, j.lo, j.hi)
				j.done.Done()
			}
		}()
	}
}

// runTask runs t over [0, n) split into at most workers contiguous chunks, chunk w as worker
// w (chunk 0 on the caller's goroutine, the others on the pool). Chunks are rounded to
// multiples of grain. Tasks must not call runTask themselves (the pool could run dry).
func runTask(workers, n, grain int, t task) {
	if n <= 0 {
		return
	}
	units := (n + grain - 1) / grain
	nw := min(workers, units)
	if nw <= 1 {
		t.run(0, 0, n)
		return
	}
	poolStart.Do(startPool)
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

// Ctx is the context of the passes of one network (or of several run one after another): its
// Config, and the per-worker scratch buffers that keep steady-state passes from allocating.
// A Ctx may be used by one pass at a time; give each concurrently running network its own
// Ctx (they may share weights). The zero value is ready to use, with the zero Config.
type Ctx struct {
	cfg Config
	nw  int         // the resolved worker count (0: not resolved yet)
	ks  *kernelSpec // the resolved kernel

	bufs     [][nSlots][]float32
	padBuf   padded
	qpad     qpadded
	qzero    []float32
	rowBases []int32
	dwTail   []float32

	// the forward passes' tasks (no allocation per pass)
	fillT     fillTask
	padT      padTask
	implicitT implicitTask
	qquantT   qquantTask
	qconvT    qconvTask
}

// NewCtx returns a Ctx whose passes run with cfg.
func NewCtx(cfg Config) *Ctx { return &Ctx{cfg: cfg} }

// Configure sets how the passes run with c are carried out (not while one runs). The
// scratch buffers are kept.
func (c *Ctx) Configure(cfg Config) { c.cfg, c.nw, c.ks = cfg, 0, nil }

// Config returns c's configuration as given.
func (c *Ctx) Config() Config { return c.cfg }

// resolve fixes the worker count and kernel on the first pass after Configure.
func (c *Ctx) resolve() {
	if c.nw > 0 {
		return
	}
	c.nw = c.cfg.Workers
	if c.nw < 1 {
		c.nw = DefaultWorkers()
	}
	c.ks = c.cfg.Kernel.spec()
}

// Workers returns the number of workers c's passes split their work over.
func (c *Ctx) Workers() int {
	c.resolve()
	return c.nw
}

// Kernel returns the GEMM micro-kernel of c's passes.
func (c *Ctx) Kernel() Kernel {
	c.resolve()
	return Kernel{c.ks}
}

func (c *Ctx) kernel() *kernelSpec {
	c.resolve()
	return c.ks
}

// qzeros returns n zeros (the missing second channel of an odd channel count).
func (c *Ctx) qzeros(n int) []float32 {
	if len(c.qzero) < n {
		c.qzero = make([]float32, n)
	}
	return c.qzero[:n]
}

// qkernel is the integer kernel that goes with c's GEMM kernel.
func (c *Ctx) qkernel() qindFn {
	c.resolve()
	return c.ks.qind
}

// Parallel runs fn(w, lo, hi) over [0, n) split into at most c.Workers() contiguous chunks
// rounded to multiples of grain, chunk w as worker w (for elementwise work of the engine's
// users between passes; fn must not run passes itself).
func (c *Ctx) Parallel(n, grain int, fn func(w, lo, hi int)) {
	runTask(c.Workers(), n, grain, funcTask(fn))
}

// run runs t over [0, n) on c's workers.
func (c *Ctx) run(n, grain int, t task) { runTask(c.Workers(), n, grain, t) }

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

// grow makes room for c's workers; called before a parallel pass.
func (c *Ctx) grow() {
	for len(c.bufs) < c.Workers() {
		c.bufs = append(c.bufs, [nSlots][]float32{})
	}
}
