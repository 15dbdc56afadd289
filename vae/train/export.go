package train

import (
	"math"
	"math/rand/v2"

	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/vae/data"
)

// Which weights of a checkpoint Export takes.
type Which int

const (
	// BestEMA: the averaged weights at the best validation score (the latest averaged ones
	// when no validation has run).
	BestEMA Which = iota
	// LatestEMA: the latest averaged weights, for when the score that picked the best no
	// longer says which is better (the run's data changed, for one).
	LatestEMA
	// Raw: the latest weights, not averaged.
	Raw
)

// Export builds the model to ship from a checkpoint: the weights w says, with bin
// references fitted on n training patches drawn by s.
func Export(ck *Checkpoint, s *data.Sampler, n int, w Which) (*vae.Model, error) {
	params := ck.BestEMA
	if params == nil || w == LatestEMA {
		params = ck.EMA
	}
	if params == nil || w == Raw {
		params = ck.Params
	}
	m, err := vae.ModelFromParams(ck.Config, params, nil)
	if err != nil {
		return nil, err
	}
	FitBins(m, s, n, 1)
	return m, nil
}

// FitBins sets m's latent bin references from the aggregate posterior: for every layer and
// channel, the logistic with the mean and variance of z sampled from the inference chain on
// n random training patches drawn by s. Bins of equal mass under this reference are then
// fine where the latents are dense and coarse where they are rare.
func FitBins(m *vae.Model, s *data.Sampler, n int, seed uint64) {
	p := m.NewPass()
	rng := rand.New(rand.NewPCG(seed, 3))
	L, ZC := m.Cfg.Layers, m.Cfg.ZC
	sum := make([]float64, L*ZC)
	sq := make([]float64, L*ZC)
	cnt := 0.0
	const batch = 32
	bt := vae.NewBatch(batch)
	const hw = vae.LatentHW * vae.LatentHW
	for done := 0; done < n; done += batch {
		s.Fill(bt, rng)
		p.Loss(bt, rng)
		for l := 0; l < L; l++ {
			z := p.Latent(l)
			for ch := 0; ch < ZC; ch++ {
				for _, v := range z[ch*batch*hw : (ch+1)*batch*hw] {
					sum[l*ZC+ch] += float64(v)
					sq[l*ZC+ch] += float64(v) * float64(v)
				}
			}
		}
		cnt += batch * hw
	}
	for i := range m.Bins {
		mean := sum[i] / cnt
		v := math.Max(sq[i]/cnt-mean*mean, 1e-6)
		// A logistic of scale s has variance s^2 pi^2 / 3.
		m.Bins[i] = vae.BinRef{M: mean, S: math.Sqrt(3*v) / math.Pi}
	}
}
