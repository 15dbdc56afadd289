package rans

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// A toy latent-variable model coded the BB-ANS way, with the distributions of this package:
// encode = pop z under q(z|x), push x under p(x|z), push z under p(z); decode undoes it in
// the reverse order. The chain starts from "clean bits" (NewMessageFromWords) and must give
// them back exactly.
type toyModel struct {
	bins         *Bins
	nz, nx       int
	precZ, precX uint
}

func (t toyModel) posterior(x []uint8, j int) Latent {
	// q(z_j | x): mean from the pixels of group j, narrow.
	sum := 0.0
	for i := j; i < t.nx; i += t.nz {
		sum += float64(x[i])
	}
	mean := sum/float64((t.nx-j+t.nz-1)/t.nz)/64 - 2
	return t.bins.Latent(mean, 0.15+0.01*float64(j), 0, 1, t.precZ)
}

func (t toyModel) prior(j int) Latent { return t.bins.Latent(0, 1, 0, 1, t.precZ) }

func (t toyModel) likelihood(z []int, i int) (mu, s float64) {
	c := t.bins.Centre(z[i%t.nz], 0, 1)
	return 128 + float64(40*c), 6 + float64(i%5)
}

// encode codes one image; it returns the ideal net cost -log2 p(x|z) - log2 p(z) + log2 q(z|x).
func (t toyModel) encode(m *Message, x []uint8) (float64, error) {
	z := make([]int, t.nz)
	cost := 0.0
	err := m.PopBatch(t.nz, t.precZ, func(j int, cf uint32) (uint32, uint32) {
		bin, s, f := t.posterior(x, j).Decode(cf)
		z[j] = bin
		return s, f
	})
	if err != nil {
		return 0, err
	}
	for j := range z {
		_, f := t.posterior(x, j).Encode(z[j])
		cost -= float64(t.precZ) - math.Log2(float64(f))
	}
	mu, s := make([]float64, t.nx), make([]float64, t.nx)
	for i := range mu {
		mu[i], s[i] = t.likelihood(z, i)
		_, f := NewLogistic(mu[i], s[i], t.precX).Encode(int(x[i]))
		cost += float64(t.precX) - math.Log2(float64(f))
	}
	PushPixels(m, x, mu, s, t.precX)
	starts, freqs := make([]uint32, t.nz), make([]uint32, t.nz)
	for j := range z {
		starts[j], freqs[j] = t.prior(j).Encode(z[j])
		cost += float64(t.precZ) - math.Log2(float64(freqs[j]))
	}
	m.PushBatch(starts, freqs, t.precZ)
	return cost, nil
}

func (t toyModel) decode(m *Message) ([]uint8, error) {
	z := make([]int, t.nz)
	err := m.PopBatch(t.nz, t.precZ, func(j int, cf uint32) (uint32, uint32) {
		bin, s, f := t.prior(j).Decode(cf)
		z[j] = bin
		return s, f
	})
	if err != nil {
		return nil, err
	}
	x := make([]uint8, t.nx)
	mu, s := make([]float64, t.nx), make([]float64, t.nx)
	for i := range mu {
		mu[i], s[i] = t.likelihood(z, i)
	}
	if err := PopPixels(m, x, mu, s, t.precX); err != nil {
		return nil, err
	}
	// Give the bits back: push z under q(z|x) (PushBatch undoes the encoder's PopBatch).
	starts, freqs := make([]uint32, t.nz), make([]uint32, t.nz)
	for j := range z {
		starts[j], freqs[j] = t.posterior(x, j).Encode(z[j])
	}
	m.PushBatch(starts, freqs, t.precZ)
	return x, nil
}

func TestBitsBackChain(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 1))
	model := toyModel{bins: LatentBins(8), nz: 16, nx: 48, precZ: 20, precX: 16}
	for _, L := range []int{1, 4, 11} {
		seed := make([]uint32, 400)
		for i := range seed {
			seed[i] = rng.Uint32()
		}
		m := NewMessageFromWords(L, seed)
		const images = 300
		xs := make([][]uint8, images)
		ideal := 0.0
		info0 := m.Info()
		for k := range xs {
			// Images from the model itself: a smooth ramp plus noise.
			x := make([]uint8, model.nx)
			base := rng.Float64() * 200
			for i := range x {
				x[i] = uint8(max(0, min(255, base+float64(i)+rng.NormFloat64()*6)))
			}
			xs[k] = x
			c, err := model.encode(m, x)
			if err != nil {
				t.Fatalf("L=%d image %d: %v", L, k, err)
			}
			ideal += c
		}
		// The message grew by the ideal net cost: bits back were really got back.
		if d := m.Info() - info0 - ideal; math.Abs(d) > 1e-4*math.Abs(ideal)+1 {
			t.Fatalf("L=%d: message grew by %.1f bits, ideal net cost %.1f", L, m.Info()-info0, ideal)
		}
		m, err := FromBytes(m.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		for k := images - 1; k >= 0; k-- {
			x, err := model.decode(m)
			if err != nil {
				t.Fatalf("L=%d decoding image %d: %v", L, k, err)
			}
			for i := range x {
				if x[i] != xs[k][i] {
					t.Fatalf("L=%d image %d pixel %d: got %d, want %d", L, k, i, x[i], xs[k][i])
				}
			}
		}
		w, err := m.Words()
		if err != nil || !equalWords(w, seed) {
			t.Fatalf("L=%d: the clean bits did not come back (%v)", L, err)
		}
	}
}

// Without enough initial bits the first pop fails cleanly and nothing changes.
func TestBitsBackEmpty(t *testing.T) {
	model := toyModel{bins: LatentBins(8), nz: 16, nx: 48, precZ: 20, precX: 16}
	m := NewMessageFromWords(4, []uint32{1, 2, 3, 4, 5})
	before := m.Clone()
	x := make([]uint8, model.nx)
	if _, err := model.encode(m, x); !errors.Is(err, ErrEmpty) {
		t.Fatalf("encode without initial bits: %v, want ErrEmpty", err)
	}
	if !m.Equal(before) {
		t.Fatal("failed encode changed the message")
	}
}
