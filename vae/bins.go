package vae

import (
	"math"
	"math/rand/v2"
)

// FitBins sets the latent bin references from the aggregate posterior: for every layer and
// channel, the logistic with the mean and variance of z sampled from the inference chain on
// n random training patches. Bins of equal mass under this reference are then fine where
// the latents are dense and coarse where they are rare.
func (m *Model) FitBins(s *Sampler, n int, seed uint64) {
	c := m.shareNets()
	tr := c.newTrainer()
	rng := rand.New(rand.NewPCG(seed, 3))
	L, ZC := m.Cfg.Layers, m.Cfg.ZC
	sum := make([]float64, L*ZC)
	sq := make([]float64, L*ZC)
	cnt := 0.0
	const batch = 32
	bt := NewBatch(batch)
	const hw = LatentHW * LatentHW
	for done := 0; done < n; done += batch {
		s.Fill(bt, rng)
		c.Loss(tr, bt, rng, false)
		for l := 0; l < L; l++ {
			z := tr.z[l].Data
			for ch := 0; ch < ZC; ch++ {
				for _, v := range z[ch*batch*hw : (ch+1)*batch*hw] {
					sum[l*ZC+ch] += float64(v)
					sq[l*ZC+ch] += float64(v) * float64(v)
				}
			}
		}
		cnt += batch * hw
		_ = cnt
	}
	for i := range m.Bins {
		mean := sum[i] / cnt
		v := math.Max(sq[i]/cnt-mean*mean, 1e-6)
		// A logistic of scale s has variance s^2 pi^2 / 3.
		m.Bins[i] = BinRef{M: mean, S: math.Sqrt(3*v) / math.Pi}
	}
}
