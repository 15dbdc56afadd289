package rans

import (
	"flag"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/bitswap-codec/bitswap/internal/dmath"
)

var printGolden = flag.Bool("golden", false, "print the determinism digest instead of checking it")

// goldenDigest is the FNV-64a digest of the integer CDFs of a fixed sweep of distributions.
// Encoder and decoder may run on different machines: the intervals must be the same bits on
// every platform, compiler and GOAMD64/GOARM64 level. The value was computed on linux/amd64
// (GOAMD64=v1); GOAMD64=v3, where the compiler may use FMA, gives the same digest once
// dmath.Log rounds its last product explicitly (see docs/rans.md). If it differs somewhere,
// that platform would decode garbage. A deliberate change of a distribution changes the
// format: update the digest (go test -run Golden -golden) and say so.
const goldenDigest uint64 = 0xb8f7906185faa5dd

func TestGoldenCDFs(t *testing.T) {
	h := fnv.New64a()
	put := func(s, f uint32) {
		h.Write([]byte{byte(s), byte(s >> 8), byte(s >> 16), byte(s >> 24), byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)})
	}
	// Parameters from the PCG stream (specified bit for bit) with FMA-free arithmetic only:
	// the digest must not depend on how the test itself is compiled.
	rng := rand.New(rand.NewPCG(51, 1))
	uni := func(lo, hi float64) float64 { return lo + float64(rng.Float64()*(hi-lo)) }
	for i := 0; i < 300; i++ {
		prec := uint(12 + i%13)
		mu, s := uni(-20, 280), dmath.Exp(uni(-5, 5))
		d := NewLogistic(mu, s, prec)
		for x := 0; x < PixelLevels; x++ {
			put(d.Encode(x))
		}
		w := []float64{0.5, 0.3, 0.2}
		mm := NewMixture(w, []float64{mu, mu + 20, uni(0, 255)}, []float64{s, 2 * s, 3}, prec)
		for x := 0; x < PixelLevels; x++ {
			put(mm.Encode(x))
		}
		b := LatentBins(uint(1 + i%10))
		l := b.Latent(uni(-4, 4), dmath.Exp(uni(-6, 2)), uni(-1, 1), dmath.Exp(uni(-1.5, 1.5)), prec+6)
		for j := 0; j < b.Len(); j++ {
			put(l.Encode(j))
		}
	}
	for _, k := range []uint{4, 10, 16} {
		b := LatentBins(k)
		for j := 0; j < b.Len(); j += 1 + b.Len()/64 {
			put(uint32(math.Float64bits(b.Centre(j, 0.25, 1.5))), uint32(math.Float64bits(b.Edge(j, -1, 3))>>32))
		}
	}
	if *printGolden {
		t.Logf("digest %#x", h.Sum64())
		return
	}
	if got := h.Sum64(); got != goldenDigest {
		t.Fatalf("CDF digest %#x, want %#x: the integer distributions changed on this platform", got, goldenDigest)
	}
}

// Encode and Decode allocate nothing.
func TestNoAllocs(t *testing.T) {
	b := LatentBins(10)
	w, mu, s := []float64{0.6, 0.4}, []float64{100, 140}, []float64{3, 8}
	m := NewMessageFromWords(4, make([]uint32, 64))
	allocs := testing.AllocsPerRun(100, func() {
		d := NewLogistic(120.5, 3.2, 16)
		st, f := d.Encode(117)
		x, _, _ := d.Decode(st + f/2)
		l := b.Latent(0.3, 0.05, 0, 1, 22)
		st, f = l.Encode(600)
		j, _, _ := l.Decode(st + f/2)
		mx := NewMixture(w, mu, s, 18)
		st, f = mx.Encode(130)
		y, _, _ := mx.Decode(st + f/2)
		u := NewUniform(1000, 20)
		st, f = u.Encode(7)
		m.Push(1, st, f, 20)
		cf := m.Peek(1, 20)
		z, st, f := u.Decode(cf)
		if err := m.Pop(1, st, f, 20); err != nil || x != 117 || j != 600 || y != 130 || z != 7 {
			t.Fatal("round trip failed")
		}
		// Through the Dist interface: distribution values must not escape to the heap.
		m.PushSym(0, l, 600)
		m.PushSym(2, d, 117)
		m.PushSym(3, mx, 130)
		x2, err1 := m.PopSym(3, mx)
		y2, err2 := m.PopSym(2, d)
		j2, err3 := m.PopSym(0, l)
		if err1 != nil || err2 != nil || err3 != nil || x2 != 130 || y2 != 117 || j2 != 600 {
			t.Fatal("PushSym/PopSym round trip failed")
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per round", allocs)
	}
}

// Distributions and tables are safe for concurrent use; messages are independent. Run with
// -race to let the detector look too.
func TestConcurrent(t *testing.T) {
	const G = 4
	results := make([][]byte, G)
	var wg sync.WaitGroup
	for g := 0; g < G; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(61, 1)) // same stream in every goroutine
			m := NewMessage(4)
			for i := 0; i < 3000; i++ {
				b := LatentBins(uint(1 + i%12)) // first use of a table may race with others
				d := b.Latent(rng.NormFloat64(), 0.1, 0, 1, 20)
				m.PushSym(i%4, d, rng.IntN(b.Len()))
				m.PushSym(i%4, NewLogistic(rng.Float64()*255, 4, 16), rng.IntN(256))
			}
			results[g] = m.Bytes()
		}()
	}
	wg.Wait()
	for g := 1; g < G; g++ {
		if string(results[g]) != string(results[0]) {
			t.Fatal("goroutines coding the same data got different messages")
		}
	}
}
