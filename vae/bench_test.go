package vae

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/bitswap-codec/bitswap/vae/nn"
)

// benchConfigs are the architectures the throughput benchmarks run: the default, and the
// 4-stage plan of the first shipped model (217 MMAC per patch, the net issue 4's targets
// were set for).
func benchConfigs() []struct {
	name string
	cfg  Config
} {
	four := DefaultConfig()
	four.PixelStages = 4
	four.StageHints = false
	four.EdgeHints = false
	four.PosChannels = false
	four.Context = false
	four.Mixture, four.Anchors = false, false
	four.PatchStats, four.ErrorMaps, four.FineBlocks = false, false, 0
	return []struct {
		name string
		cfg  Config
	}{{"default", DefaultConfig()}, {"stages4", four}}
}

// BenchmarkTrainStep measures training throughput of the default architecture (one step:
// forward, backward, no optimizer), in patches per second: each operation split over the
// cores (NewPass), and the batch split over them (NewParallelPass, "-dp"), in one run.
func BenchmarkTrainStep(b *testing.B) {
	for _, c := range benchConfigs() {
		b.Run(c.name, func(b *testing.B) { benchTrainStep(b, c.cfg, 0, false) })
		b.Run(c.name+"-dp", func(b *testing.B) { benchTrainStep(b, c.cfg, runtime.GOMAXPROCS(0), false) })
		b.Run(c.name+"-dp-int", func(b *testing.B) { benchTrainStep(b, c.cfg, runtime.GOMAXPROCS(0), true) })
	}
}

// benchTrainStep times training steps of cfg's model in passes of parts cores (0: NewPass),
// the gradients and the new weights' Refresh (no optimizer), with the networks on the
// integer path or not.
func benchTrainStep(b *testing.B, cfg Config, parts int, integer bool) {
	m, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	m.SetIntegerNets(integer)
	bt := randomBatch(32, 1)
	p := m.NewPass()
	if parts > 0 {
		p = m.NewParallelPass(parts)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	p.Gradients(bt, rng)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Gradients(bt, rng)
		m.Refresh()
	}
	b.ReportMetric(float64(32*b.N)/b.Elapsed().Seconds(), "patches/s")
}

// BenchmarkInference measures deterministic inference throughput of the default
// architecture: every network once per patch (what a coder runs per patch), batches of 16.
func BenchmarkInference(b *testing.B) {
	for _, c := range benchConfigs() {
		b.Run(c.name, func(b *testing.B) { benchInference(b, c.cfg) })
	}
}

func benchInference(b *testing.B, cfg Config) {
	m, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	const B = 16
	run := inferencePass(m, randomBatch(B, 2).X, B)
	run()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.ReportMetric(float64(B*b.N)/b.Elapsed().Seconds(), "patches/s")
}

// inferencePass returns a function that runs every network of m once on the b patches x
// (what a coder runs per patch), with its own Inference and buffers.
func inferencePass(m *Model, x []uint8, b int) func() {
	return inferencePassWith(m, x, b, nn.Config{})
}

// inferencePassWith is inferencePass on the engine configuration cfg.
func inferencePassWith(m *Model, x []uint8, b int, cfg nn.Config) func() {
	r := m.NewInferenceWith(cfg)
	valid := make([][2]int, b)
	for i := range valid {
		valid[i] = [2]int{PatchSize, PatchSize}
	}
	z := r.LatentTensor(b)
	cx := NewContext(b)
	for i := range cx.Has {
		cx.Has[i] = uint8(i % 4)
	}
	return func() {
		q := r.Posterior0(x, b)
		copy(z.Data, q.Data[:len(z.Data)])
		for i := 1; i < m.Cfg.Layers; i++ {
			r.Posterior(i, z)
			r.Prior(i, z)
		}
		r.PixelStage0(z)
		for s := 1; s < m.Cfg.PixelStages; s++ {
			r.PixelStage(s, x, valid, cx)
		}
	}
}
