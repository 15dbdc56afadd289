package rans

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

const benchN = 1 << 16 // symbols per benchmark iteration

// cpuClock measures the CPU time of the benchmark's OS thread (see threadCPU).
type cpuClock struct {
	t0 time.Duration
	ok bool
}

func startCPU() cpuClock {
	runtime.LockOSThread()
	t, ok := threadCPU()
	return cpuClock{t, ok}
}

// reportRate reports symbols per wall-clock second and, where the OS tells, per CPU-second
// of the benchmark thread (the single-core rate without the other processes' interference).
func reportRate(b *testing.B, n int, c cpuClock) {
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Msym/s")
	if t, ok := threadCPU(); ok && c.ok && t > c.t0 {
		b.ReportMetric(float64(n)*float64(b.N)/(t-c.t0).Seconds()/1e6, "Msym/cpu-s")
	}
	runtime.UnlockOSThread()
}

// benchPixels returns a realistic pixel workload: per-pixel logistic parameters and values
// drawn from them (a model that fits its data).
func benchPixels(n int, prec uint) (xs []uint8, mu, s []float64) {
	rng := rand.New(rand.NewPCG(99, 1))
	xs, mu, s = make([]uint8, n), make([]float64, n), make([]float64, n)
	for i := range xs {
		mu[i] = rng.Float64()*270 - 7
		s[i] = logUniform(rng, 0.3, 20)
		x, _, _ := NewLogistic(mu[i], s[i], prec).Decode(uint32(rng.Uint64N(1 << prec)))
		xs[i] = uint8(x)
	}
	return
}

// benchSyms returns (start, freq) pairs of the pixel workload at precision prec.
func benchSyms(n int, prec uint) (starts, freqs []uint32) {
	xs, mu, s := benchPixels(n, prec)
	starts, freqs = make([]uint32, n), make([]uint32, n)
	for i := range xs {
		starts[i], freqs[i] = NewLogistic(mu[i], s[i], prec).Encode(int(xs[i]))
	}
	return
}

func BenchmarkPush(b *testing.B) {
	const prec = 16
	starts, freqs := benchSyms(benchN, prec)
	m := NewMessage(8)
	m.PushBatch(starts, freqs, prec)
	c := startCPU()
	for b.Loop() {
		m.tail = m.tail[:0]
		m.PushBatch(starts, freqs, prec)
	}
	reportRate(b, benchN, c)
}

func BenchmarkPushSingle(b *testing.B) {
	const prec, L = 16, 8
	starts, freqs := benchSyms(benchN, prec)
	m := NewMessage(L)
	m.PushBatch(starts, freqs, prec)
	c := startCPU()
	for b.Loop() {
		m.tail = m.tail[:0]
		for i, f := range freqs {
			m.Push(i&(L-1), starts[i], f, prec)
		}
	}
	reportRate(b, benchN, c)
}

// encoded returns a message holding the symbols, and a reset function that restores it in
// O(len) without allocating.
func encoded(starts, freqs []uint32, prec uint, L int) (*Message, func()) {
	m := NewMessage(L)
	m.PushBatch(starts, freqs, prec)
	orig := m.Clone()
	return m, func() {
		copy(m.heads, orig.heads)
		m.tail = append(m.tail[:0], orig.tail...)
	}
}

func BenchmarkPopSingle(b *testing.B) {
	const prec, L = 16, 8
	starts, freqs := benchSyms(benchN, prec)
	m, reset := encoded(starts, freqs, prec, L)
	c := startCPU()
	for b.Loop() {
		reset()
		for i := len(freqs) - 1; i >= 0; i-- {
			lane := i & (L - 1)
			_ = m.Peek(lane, prec)
			if err := m.Pop(lane, starts[i], freqs[i], prec); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRate(b, benchN, c)
}

func BenchmarkPopBatch(b *testing.B) {
	const prec, L = 16, 8
	starts, freqs := benchSyms(benchN, prec)
	m, reset := encoded(starts, freqs, prec, L)
	c := startCPU()
	for b.Loop() {
		reset()
		err := m.PopBatch(benchN, prec, func(i int, cf uint32) (uint32, uint32) { return starts[i], freqs[i] })
		if err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, benchN, c)
}

func benchPixelPrec(b *testing.B, f func(b *testing.B, prec uint)) {
	for _, prec := range []uint{16, 24} {
		b.Run(map[uint]string{16: "prec16", 24: "prec24"}[prec], func(b *testing.B) { f(b, prec) })
	}
}

func BenchmarkPixelEncode(b *testing.B) {
	benchPixelPrec(b, func(b *testing.B, prec uint) {
		xs, mu, s := benchPixels(benchN, prec)
		m := NewMessage(8)
		PushPixels(m, xs, mu, s, prec)
		c := startCPU()
		for b.Loop() {
			m.tail = m.tail[:0]
			PushPixels(m, xs, mu, s, prec)
		}
		reportRate(b, benchN, c)
	})
}

func BenchmarkPixelDecode(b *testing.B) {
	benchPixelPrec(b, func(b *testing.B, prec uint) {
		xs, mu, s := benchPixels(benchN, prec)
		m := NewMessage(8)
		PushPixels(m, xs, mu, s, prec)
		orig := m.Clone()
		out := make([]uint8, benchN)
		c := startCPU()
		for b.Loop() {
			copy(m.heads, orig.heads)
			m.tail = append(m.tail[:0], orig.tail...)
			if err := PopPixels(m, out, mu, s, prec); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, benchN, c)
	})
}

// benchMixture: 3-component mixtures whose dominant component is not always the one that
// holds the value.
func benchMixture(n int, prec uint) (xs []int, ds []Mixture) {
	rng := rand.New(rand.NewPCG(98, 1))
	xs, ds = make([]int, n), make([]Mixture, n)
	for i := range ds {
		w := []float64{0.6, 0.3, 0.1}
		mu := []float64{rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255}
		s := []float64{logUniform(rng, 0.3, 10), logUniform(rng, 0.3, 10), logUniform(rng, 0.3, 10)}
		ds[i] = NewMixture(w, mu, s, prec)
		xs[i], _, _ = ds[i].Decode(uint32(rng.Uint64N(1 << prec)))
	}
	return
}

func BenchmarkMixtureEncode(b *testing.B) {
	const prec = 16
	xs, ds := benchMixture(benchN/8, prec)
	m := NewMessage(8)
	c := startCPU()
	for b.Loop() {
		m.tail = m.tail[:0]
		for i, d := range ds {
			st, f := d.Encode(xs[i])
			m.Push(i&7, st, f, prec)
		}
	}
	reportRate(b, len(xs), c)
}

func BenchmarkMixtureDecode(b *testing.B) {
	const prec = 16
	xs, ds := benchMixture(benchN/8, prec)
	m := NewMessage(8)
	for i, d := range ds {
		st, f := d.Encode(xs[i])
		m.Push(i&7, st, f, prec)
	}
	orig := m.Clone()
	c := startCPU()
	for b.Loop() {
		copy(m.heads, orig.heads)
		m.tail = append(m.tail[:0], orig.tail...)
		for i := len(ds) - 1; i >= 0; i-- {
			x, st, f := ds[i].Decode(m.Peek(i&7, prec))
			if x != xs[i] {
				b.Fatal("mixture decode mismatch")
			}
			_ = m.Pop(i&7, st, f, prec)
		}
	}
	reportRate(b, len(xs), c)
}

// benchLatents: 2^10 bins, posteriors of mixed width around a standard reference.
func benchLatents(n int, prec uint) (js []int, ds []Latent) {
	rng := rand.New(rand.NewPCG(97, 1))
	bins := LatentBins(10)
	js, ds = make([]int, n), make([]Latent, n)
	for i := range ds {
		ds[i] = bins.Latent(rng.NormFloat64(), logUniform(rng, 0.01, 2), 0, 1, prec)
		js[i], _, _ = ds[i].Decode(uint32(rng.Uint64N(1 << prec)))
	}
	return
}

func BenchmarkLatentEncode(b *testing.B) {
	const prec = 22
	js, ds := benchLatents(benchN/4, prec)
	m := NewMessage(8)
	c := startCPU()
	for b.Loop() {
		m.tail = m.tail[:0]
		for i, d := range ds {
			st, f := d.Encode(js[i])
			m.Push(i&7, st, f, prec)
		}
	}
	reportRate(b, len(js), c)
}

func BenchmarkLatentDecode(b *testing.B) {
	const prec = 22
	js, ds := benchLatents(benchN/4, prec)
	m := NewMessage(8)
	for i, d := range ds {
		st, f := d.Encode(js[i])
		m.Push(i&7, st, f, prec)
	}
	orig := m.Clone()
	c := startCPU()
	for b.Loop() {
		copy(m.heads, orig.heads)
		m.tail = append(m.tail[:0], orig.tail...)
		for i := len(ds) - 1; i >= 0; i-- {
			j, st, f := ds[i].Decode(m.Peek(i&7, prec))
			if j != js[i] {
				b.Fatal("latent decode mismatch")
			}
			_ = m.Pop(i&7, st, f, prec)
		}
	}
	reportRate(b, len(js), c)
}
