// Package train trains the VAE of package vae on the images of package data: the training
// loop (Adam with warm-up and decay, Polyak-averaged weights, validation on a fixed set of
// patches), its checkpoints and their conversion to newer architectures (Upgrade), and the
// export of a checkpoint as a model for the coders, with latent bins fitted to the training
// data (Export, FitBins).
package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/vae/data"
	"github.com/bitswap-codec/bitswap/vae/nn"
)

// Options configure a training run.
type Options struct {
	DataDir string     // holds train/ and val/ (scripts/fetch-data.sh)
	Out     string     // checkpoint file; the loss curve goes to Out+".csv"
	Resume  string     // checkpoint to resume from ("" = fresh model)
	Init    *vae.Model // without Resume: start from these weights (a new optimizer state)
	Upgrade bool       // convert the resumed checkpoint to Config (see Upgrade)
	Config  vae.Config // architecture of a fresh model
	Batch   int        // patches per step
	Parts   int        // split every step's batch over this many cores (NewParallelPass; 0: all, 1: none)
	LR      float64    // peak Adam learning rate
	Warmup  int        // linear warm-up steps
	Decay   float64    // multiplicative learning-rate decay per step after warm-up
	EMA     float64    // Polyak averaging decay of the evaluated weights
	SkipLR  float64    // learning-rate factor of the stage skips (lrScales)
	FineLR  float64    // learning-rate factor of the fine stages' extra blocks and the context-scale weights (lrScales)
	// IntegerNets runs the networks' forward passes (training and validation) on the
	// integer path the coders use (vae.Model.SetIntegerNets): 2.2x faster convolutions, and
	// the model is trained and validated with the arithmetic it is coded with.
	IntegerNets bool
	// AreaPower weighs the training images by their area to this power (data.NewSampler):
	// 1 draws every crop position equally often, 0 every image. 0.5 since session 13: the
	// small photographs (most of them once heavily compressed) are where the model lost
	// most, and the score is a mean over images. Resumed at 0.5, run s6 gained 0.0013 per
	// 500 steps on the balanced validation subset at first (2.6496 -> 2.6403 in 3,700),
	// where at 1 it had been gaining 0.0005 per 500 on the pixel-weighted one.
	AreaPower float64
	// LumaOnly trains (and validates) on R alone for Y'CbCr planes: their Y' given their
	// chroma, coded on its own before it (data.MarkChromaKnown; RGB images unchanged).
	LumaOnly   bool
	Steps      int           // stop after this many steps in total (0: no limit)
	Duration   time.Duration // stop after this much wall time in this run (0: no limit)
	CkptEvery  time.Duration // checkpoint interval
	ValEvery   int           // validate every this many steps
	ValPatches int           // fixed validation subset size
	Seed       uint64
	Log        io.Writer // progress lines
}

// DefaultOptions are the settings of the shipped model's training.
func DefaultOptions() Options {
	return Options{
		Config: vae.DefaultConfig(), Batch: 32, LR: 4e-4, Warmup: 500, Decay: 0.99993, EMA: 0.999, SkipLR: 0.1, FineLR: 1, IntegerNets: true, AreaPower: 0.5,
		CkptEvery: 5 * time.Minute, ValEvery: 1000, ValPatches: 2048, Seed: 1, Log: io.Discard,
	}
}

// run is the state of a training run.
type run struct {
	o             Options
	ck            *Checkpoint
	m             *vae.Model
	pass          *vae.Pass
	params, grads [][]float32 // m.Params
	lrScale       []float64
	lrElem        [][]float32 // per parameter array, nil or a factor per element (lrScales)
	rngState      *rand.PCG   // the sampling and latent noise, saved in checkpoints
	rng           *rand.Rand
	sampler       *data.Sampler
	val           *validation
	csv           *os.File // the loss curve
	baseSeconds   float64  // training time of the earlier runs
	runStart      time.Time
}

func (r *run) logf(format string, a ...any) { fmt.Fprintf(r.o.Log, format+"\n", a...) }

// Run trains (or resumes training) until ctx is cancelled or a limit is reached,
// checkpointing every CkptEvery and at the end. It returns the final checkpoint.
func Run(ctx context.Context, o Options) (*Checkpoint, error) {
	r := &run{o: o}
	if err := r.start(); err != nil {
		return nil, err
	}
	defer r.csv.Close()
	if err := r.loop(ctx); err != nil {
		return nil, err
	}
	vs := r.val.run(r.ck.EMA)
	r.logf("final step %d  VAL (EMA) %s", r.ck.Step, vs)
	r.keepBest(vs)
	if err := r.save(); err != nil {
		return nil, err
	}
	r.logf("checkpoint %s saved at step %d", o.Out, r.ck.Step)
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled) {
		return r.ck, ctx.Err()
	}
	return r.ck, nil
}

// start sets up the run: the checkpoint and model, the optimizer state, the random
// generator, the data and the loss curve.
func (r *run) start() error {
	o := r.o
	start := time.Now()
	var err error
	if r.ck, r.m, err = r.begin(); err != nil {
		return err
	}
	r.m.SetIntegerNets(o.IntegerNets)
	r.params, r.grads = r.m.Params()
	r.lrScale, r.lrElem = lrScales(r.m, o.SkipLR, o.FineLR)
	if r.ck.EMA == nil {
		r.ck.EMA = cloneSlices(r.params)
		r.ck.AdamM = zerosLike(r.params)
		r.ck.AdamV = zerosLike(r.params)
	}
	r.rngState = rand.NewPCG(o.Seed, 1)
	if r.ck.RNG != nil {
		if err := r.rngState.UnmarshalBinary(r.ck.RNG); err != nil {
			return err
		}
	}
	r.rng = rand.New(r.rngState)
	if err := r.loadData(start); err != nil {
		return err
	}
	if r.csv, err = openCSV(o.Out + ".csv"); err != nil {
		return err
	}
	parts := o.Parts
	if parts <= 0 {
		parts = runtime.GOMAXPROCS(0)
	}
	r.pass = r.m.NewParallelPass(min(parts, o.Batch))
	r.baseSeconds = r.ck.Seconds
	r.runStart = time.Now()
	return nil
}

// begin returns the checkpoint the run continues and its model: the resumed one (upgraded
// when asked), one from the Init weights, or a fresh model.
func (r *run) begin() (*Checkpoint, *vae.Model, error) {
	o := r.o
	var ck *Checkpoint
	var err error
	switch {
	case o.Resume != "":
		if ck, err = LoadCheckpoint(o.Resume); err != nil {
			return nil, nil, err
		}
		if o.Upgrade && !sameConfig(ck.Config, o.Config) {
			if ck, err = Upgrade(ck, o.Config); err != nil {
				return nil, nil, err
			}
			r.logf("upgraded %s to %+v", o.Resume, o.Config)
		}
	case o.Init != nil:
		ck = fromWeights(o.Init)
	default:
		m, err := vae.New(o.Config, o.Seed)
		if err != nil {
			return nil, nil, err
		}
		r.logf("new model: %d parameters, %.1f MMAC per patch", m.NumParams(), float64(m.MACsPerPatch())/1e6)
		return &Checkpoint{Config: o.Config, BestVal: math.Inf(1)}, m, nil
	}
	m, err := vae.ModelFromParams(ck.Config, ck.Params, ck.Bins)
	if err != nil {
		return nil, nil, err
	}
	if o.Resume != "" {
		r.logf("resumed %s at step %d (%.1f h trained, best val %.4f bpd)", o.Resume, ck.Step, ck.Seconds/3600, ck.BestVal)
	} else {
		r.logf("started from weights: %d parameters", m.NumParams())
	}
	return ck, m, nil
}

// lrScales returns, per parameter array of m.Params, the factor on the learning rate: skip
// for the stage skips (linear interpolators, which start from good values), fine for the
// residual blocks that Config.FineBlocks adds (which start adding nothing: a checkpoint
// upgraded late in its decay needs them to learn faster than the rest), 1 elsewhere; and
// per element, for the arrays that have them (else nil), a further factor: fine on the
// stage networks' weights on the context-scale channels (Config.CtxScales), which start at
// zero in an upgraded checkpoint for the same reason.
func lrScales(m *vae.Model, skip, fine float64) ([]float64, [][]float32) {
	factor := map[*nn.Conv]float64{}
	for _, c := range m.Skip {
		factor[c] = skip
	}
	for _, c := range m.FineBlockConvs() {
		factor[c] = fine
	}
	late := map[*nn.Conv]bool{}
	lateIns, from := m.CtxScaleInputs()
	for _, c := range lateIns {
		late[c] = true
	}
	var out []float64
	var elem [][]float32
	for _, c := range m.Convs() {
		p, _ := c.Params()
		f, ok := factor[c]
		if !ok {
			f = 1
		}
		for k := range p {
			out = append(out, f)
			var e []float32
			if late[c] && k == 0 && fine != 1 { // V, [Cout][Cin][KH][KW]
				sh := c.Shape
				taps := sh.KH * sh.KW
				e = make([]float32, len(p[k]))
				for i := range e {
					e[i] = 1
					if (i/taps)%sh.Cin >= from {
						e[i] = float32(fine)
					}
				}
			}
			elem = append(elem, e)
		}
	}
	return out, elem
}

// loadData loads the training and validation images, the sampler of training crops and the
// fixed validation patches.
func (r *run) loadData(start time.Time) error {
	o := r.o
	r.logf("loading %s ...", o.DataDir)
	trainImgs, err := data.LoadDir(filepath.Join(o.DataDir, "train"), 2)
	if err != nil {
		return err
	}
	valImgs, err := data.LoadDir(filepath.Join(o.DataDir, "val"), 2)
	if err != nil {
		return err
	}
	if o.LumaOnly {
		data.MarkChromaKnown(trainImgs)
		data.MarkChromaKnown(valImgs)
	}
	nv := data.CountGridPatches(valImgs)
	valRefs := data.BalancedPatches(valImgs, o.ValPatches)
	r.logf("data: %d train images (area power %g), %d val images (%d val patches, %d in the fixed subset, scored as a mean over images), %.1fs",
		len(trainImgs), o.AreaPower, len(valImgs), nv, len(valRefs), time.Since(start).Seconds())
	if vs := valFingerprint(valImgs); vs != r.ck.ValSet {
		// A best score measured on other images is no yardstick: the next validation sets it.
		if !math.IsInf(r.ck.BestVal, 1) {
			r.logf("validation images changed: best val %.4f no longer applies", r.ck.BestVal)
		}
		r.ck.ValSet, r.ck.BestVal = vs, math.Inf(1)
	}
	r.sampler = data.NewSampler(trainImgs, o.AreaPower)
	if r.m.Cfg.PosChannels {
		r.sampler.Align = vae.PosAlign
	}
	if r.val, err = newValidation(r.m, valImgs, valRefs); err == nil {
		r.val.m.SetIntegerNets(r.o.IntegerNets)
	}
	return err
}

// openCSV opens the loss curve for appending, with a header if it is new.
func openCSV(path string) (*os.File, error) {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	if statErr != nil {
		fmt.Fprintln(f, "step,hours,lr,train_bpd,val_bpd,patches_per_s")
	}
	return f, nil
}

// loop runs training steps until a limit is reached or ctx is done, logging, validating and
// checkpointing along the way.
func (r *run) loop(ctx context.Context) error {
	o := r.o
	bt := vae.NewBatch(o.Batch)
	lastCkpt := time.Now()
	lg := newProgress()
	for {
		if o.Steps > 0 && r.ck.Step >= o.Steps || o.Duration > 0 && time.Since(r.runStart) >= o.Duration || ctx.Err() != nil {
			return nil
		}
		r.sampler.Fill(bt, r.rng)
		st := r.pass.Gradients(bt, r.rng)
		gn := gradNorm(r.grads)
		if math.IsNaN(st.BPD) || math.IsInf(st.BPD, 0) || math.IsNaN(gn) {
			r.logf("step %d: non-finite loss or gradient, batch skipped", r.ck.Step)
			continue
		}
		r.ck.Step++
		lr := r.learningRate()
		r.update(lr, gn)
		lg.add(st)
		if time.Since(lg.since) > 30*time.Second || r.ck.Step%o.ValEvery == 0 {
			r.report(lg, lr, gn)
		}
		if time.Since(lastCkpt) > o.CkptEvery {
			if err := r.save(); err != nil {
				return err
			}
			lastCkpt = time.Now()
		}
	}
}

func gradNorm(grads [][]float32) float64 {
	gn := 0.0
	for _, g := range grads {
		for _, v := range g {
			gn += float64(v) * float64(v)
		}
	}
	return math.Sqrt(gn)
}

// learningRate is the learning rate of step ck.Step: a linear warm-up to o.LR, then a
// multiplicative decay.
func (r *run) learningRate() float64 {
	o, step := r.o, r.ck.Step
	lr := o.LR * math.Min(1, float64(step)/float64(max(1, o.Warmup)))
	if step > o.Warmup {
		lr *= math.Pow(o.Decay, float64(step-o.Warmup))
	}
	return lr
}

// update makes step ck.Step of Adam at learning rate lr from the gradients (of norm gn,
// clipped to norm 50), and moves the averaged weights ck.EMA towards the new parameters.
func (r *run) update(lr, gn float64) {
	clip := 1.0
	const maxNorm = 50
	if gn > maxNorm {
		clip = maxNorm / gn
	}
	b1, b2 := 0.9, 0.999
	t := float64(r.ck.Step)
	c1 := 1 - math.Pow(b1, t)
	c2 := 1 - math.Pow(b2, t)
	step := lr * math.Sqrt(c2) / c1
	// The EMA decay ramps up with the step count (as in TensorFlow's num_updates), so that
	// early evaluations are not dominated by the initial weights.
	ema := math.Min(r.o.EMA, (1+t)/(10+t))
	for i, p := range r.params {
		g, mm, vv, e := r.grads[i], r.ck.AdamM[i], r.ck.AdamV[i], r.ck.EMA[i]
		step := step * r.lrScale[i]
		el := r.lrElem[i]
		nn.Parallel(len(p), 8192, func(_, lo, hi int) {
			for j := lo; j < hi; j++ {
				gj := float64(g[j]) * clip
				mj := b1*float64(mm[j]) + (1-b1)*gj
				vj := b2*float64(vv[j]) + (1-b2)*gj*gj
				mm[j], vv[j] = float32(mj), float32(vj)
				sj := step
				if el != nil {
					sj *= float64(el[j])
				}
				p[j] -= float32(sj * mj / (math.Sqrt(vj) + 1e-8))
				e[j] = float32(ema*float64(e[j]) + (1-ema)*float64(p[j]))
			}
		})
	}
	r.m.Refresh()
}

// progress accumulates the training statistics between two log lines.
type progress struct {
	since time.Time
	steps int
	stats vae.Stats
}

func newProgress() *progress { return &progress{since: time.Now()} }

func (p *progress) add(st vae.Stats) {
	p.steps++
	p.stats.Add(st, 1)
}

// report logs the training statistics since the last report (and the loss curve's line),
// validating first at every ValEvery-th step.
func (r *run) report(p *progress, lr, gn float64) {
	el := time.Since(p.since).Seconds()
	p.stats.Scale(1 / float64(p.steps))
	pps := float64(p.steps*r.o.Batch) / el
	r.logf("step %d  train %s  lr %.2e  |g| %.2f  %.1f patches/s", r.ck.Step, p.stats, lr, gn, pps)
	valStr := ""
	if r.ck.Step%r.o.ValEvery == 0 {
		vs := r.val.run(r.ck.EMA)
		valStr = fmt.Sprintf("%.5f", vs.BPD)
		r.logf("step %d  VAL (EMA) %s", r.ck.Step, vs)
		r.keepBest(vs)
	}
	fmt.Fprintf(r.csv, "%d,%.4f,%.3g,%.5f,%s,%.1f\n", r.ck.Step, (r.baseSeconds+time.Since(r.runStart).Seconds())/3600, lr, p.stats.BPD, valStr, pps)
	*p = *newProgress()
}

// keepBest keeps the averaged weights as the best ones if they validated best so far.
func (r *run) keepBest(vs vae.Stats) {
	if vs.BPD < r.ck.BestVal {
		r.ck.BestVal = vs.BPD
		r.ck.BestEMA = cloneSlices(r.ck.EMA)
	}
}

// save writes the checkpoint.
func (r *run) save() error {
	ck := r.ck
	ck.Params = cloneSlices(r.params)
	ck.Seconds = r.baseSeconds + time.Since(r.runStart).Seconds()
	st, err := r.rngState.MarshalBinary()
	if err != nil {
		return err
	}
	ck.RNG = st
	ck.Bins = r.m.Bins
	return SaveCheckpoint(r.o.Out, ck)
}
