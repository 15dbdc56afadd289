package vae

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bitswap-codec/bitswap/vae/nn"
)

// TrainOptions configure a training run.
type TrainOptions struct {
	DataDir    string        // holds train/ and val/ (scripts/fetch-data.sh)
	Out        string        // checkpoint file; the loss curve goes to Out+".csv"
	Resume     string        // checkpoint to resume from ("" = fresh model)
	Init       *Model        // without Resume: start from these weights (a new optimizer state)
	Upgrade    bool          // convert the resumed checkpoint to Config (UpgradeCheckpoint)
	Config     Config        // architecture of a fresh model
	Batch      int           // patches per step
	LR         float64       // peak Adam learning rate
	Warmup     int           // linear warm-up steps
	Decay      float64       // multiplicative learning-rate decay per step after warm-up
	EMA        float64       // Polyak averaging decay of the evaluated weights
	SkipLR     float64       // learning-rate factor of the stage skips (lrScales)
	Steps      int           // stop after this many steps in total (0: no limit)
	Duration   time.Duration // stop after this much wall time in this run (0: no limit)
	CkptEvery  time.Duration // checkpoint interval
	ValEvery   int           // validate every this many steps
	ValPatches int           // fixed validation subset size
	Seed       uint64
	Log        io.Writer // progress lines
}

// DefaultTrainOptions are the settings of the shipped model's training.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{
		Config: DefaultConfig(), Batch: 32, LR: 4e-4, Warmup: 500, Decay: 0.99993, EMA: 0.999, SkipLR: 0.1,
		CkptEvery: 5 * time.Minute, ValEvery: 1000, ValPatches: 2048, Seed: 1, Log: io.Discard,
	}
}

// Checkpoint is the complete training state (gob-encoded).
type Checkpoint struct {
	Config  Config
	Params  [][]float32 // every conv's V, G, Bias in Convs() order
	EMA     [][]float32
	AdamM   [][]float32
	AdamV   [][]float32
	Step    int
	Seconds float64 // total training wall time so far
	RNG     []byte  // state of the sampling/noise generator
	BestVal float64 // best validation -ELBO seen (bits/dim), +Inf if none
	BestEMA [][]float32
	ValSet  string // fingerprint of the validation images BestVal was measured on
	Bins    []BinRef
	Notes   []string // one line per run: what changed
}

func (m *Model) paramSlices() (params, grads [][]float32) {
	for _, c := range m.Convs() {
		p, g := c.Params()
		params = append(params, p...)
		grads = append(grads, g...)
	}
	return
}

// lrScales returns, per parameter array of paramSlices, the factor on the learning rate:
// skip for the stage skips (precise linear predictors that Adam's steps of about the
// learning rate per weight would otherwise randomize), 1 elsewhere.
func (m *Model) lrScales(skip float64) []float64 {
	isSkip := map[*nn.Conv]bool{}
	for _, c := range m.Skip {
		isSkip[c] = true
	}
	var out []float64
	for _, c := range m.Convs() {
		p, _ := c.Params()
		f := 1.0
		if isSkip[c] {
			f = skip
		}
		for range p {
			out = append(out, f)
		}
	}
	return out
}

func cloneSlices(src [][]float32) [][]float32 {
	out := make([][]float32, len(src))
	for i, s := range src {
		out[i] = append([]float32(nil), s...)
	}
	return out
}

func zerosLike(src [][]float32) [][]float32 {
	out := make([][]float32, len(src))
	for i, s := range src {
		out[i] = make([]float32, len(s))
	}
	return out
}

// SaveCheckpoint writes ck atomically.
func SaveCheckpoint(path string, ck *Checkpoint) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(ck); err != nil {
		return err
	}
	return writeFileAtomic(path, buf.Bytes())
}

// LoadCheckpoint reads a checkpoint.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ck Checkpoint
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&ck); err != nil {
		return nil, fmt.Errorf("%s: not a checkpoint: %w", path, err)
	}
	return &ck, nil
}

// ModelFromParams builds a model of cfg with the given parameter slices (Convs() order).
func ModelFromParams(cfg Config, params [][]float32, bins []BinRef) (*Model, error) {
	m, err := New(cfg, 0)
	if err != nil {
		return nil, err
	}
	ps, _ := m.paramSlices()
	if len(ps) != len(params) {
		return nil, fmt.Errorf("vae: checkpoint has %d parameter arrays, config needs %d", len(params), len(ps))
	}
	for i := range ps {
		if len(ps[i]) != len(params[i]) {
			return nil, fmt.Errorf("vae: parameter array %d has %d values, config needs %d", i, len(params[i]), len(ps[i]))
		}
		copy(ps[i], params[i])
	}
	if len(bins) == len(m.Bins) {
		copy(m.Bins, bins)
	}
	m.Refresh()
	return m, nil
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}

// Evaluate returns the mean -ELBO statistics of model m over the given patches, in batches,
// with latent noise from a fixed seed.
func Evaluate(m *Model, imgs []*RGB, refs []PatchRef, batch int, seed uint64) Stats {
	tr := m.newTrainer()
	rng := rand.New(rand.NewPCG(seed, 77))
	total := Stats{KL: make([]float64, m.Cfg.Layers)}
	done := 0
	for done < len(refs) {
		n := min(batch, len(refs)-done)
		bt := NewBatch(n)
		for b := 0; b < n; b++ {
			r := refs[done+b]
			bt.put(b, imgs[r.Img], r.X0, r.Y0, false, CtxUp|CtxLeft)
		}
		st := m.Loss(tr, bt, rng, false)
		total.add(st, float64(n))
		done += n
	}
	total.scale(1 / float64(len(refs)))
	return total
}

func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%.4f bpd (rec %.4f =", s.BPD, s.Rec)
	for _, r := range s.RecStages {
		fmt.Fprintf(&b, " %.3f", r)
	}
	b.WriteString(", kl")
	for _, k := range s.KL {
		fmt.Fprintf(&b, " %.4f", k)
	}
	b.WriteString(")")
	return b.String()
}

// Train runs (or resumes) training until ctx is cancelled or a limit is reached, checkpointing
// every CkptEvery and at the end. It returns the final checkpoint.
func Train(ctx context.Context, o TrainOptions) (*Checkpoint, error) {
	logf := func(format string, a ...any) { fmt.Fprintf(o.Log, format+"\n", a...) }
	start := time.Now()
	var ck *Checkpoint
	var m *Model
	var err error
	if o.Resume != "" {
		if ck, err = LoadCheckpoint(o.Resume); err != nil {
			return nil, err
		}
		if o.Upgrade && !sameConfig(ck.Config, o.Config) {
			if ck, err = UpgradeCheckpoint(ck, o.Config); err != nil {
				return nil, err
			}
			logf("upgraded %s to %+v", o.Resume, o.Config)
		}
		if m, err = ModelFromParams(ck.Config, ck.Params, ck.Bins); err != nil {
			return nil, err
		}
		logf("resumed %s at step %d (%.1f h trained, best val %.4f bpd)", o.Resume, ck.Step, ck.Seconds/3600, ck.BestVal)
	} else if o.Init != nil {
		o.Init.paramsFromEffective()
		ps, _ := o.Init.paramSlices()
		ck = &Checkpoint{Config: o.Init.Cfg, Params: cloneSlices(ps), Bins: o.Init.Bins, BestVal: math.Inf(1)}
		if m, err = ModelFromParams(ck.Config, ck.Params, ck.Bins); err != nil {
			return nil, err
		}
		logf("started from weights: %d parameters", m.NumParams())
	} else {
		if m, err = New(o.Config, o.Seed); err != nil {
			return nil, err
		}
		ck = &Checkpoint{Config: o.Config, BestVal: math.Inf(1)}
		logf("new model: %d parameters, %.1f MMAC per patch", m.NumParams(), float64(m.MACsPerPatch())/1e6)
	}
	params, grads := m.paramSlices()
	lrScale := m.lrScales(o.SkipLR)
	if ck.EMA == nil {
		ck.EMA = cloneSlices(params)
		ck.AdamM = zerosLike(params)
		ck.AdamV = zerosLike(params)
	}
	rngState := rand.NewPCG(o.Seed, 1)
	if ck.RNG != nil {
		if err := rngState.UnmarshalBinary(ck.RNG); err != nil {
			return nil, err
		}
	}
	rng := rand.New(rngState)

	logf("loading %s ...", o.DataDir)
	trainImgs, err := LoadDir(filepath.Join(o.DataDir, "train"), 2)
	if err != nil {
		return nil, err
	}
	valImgs, err := LoadDir(filepath.Join(o.DataDir, "val"), 2)
	if err != nil {
		return nil, err
	}
	nv := CountGridPatches(valImgs)
	stride := max(1, nv/max(1, o.ValPatches))
	valRefs := GridPatches(valImgs, stride, o.ValPatches)
	logf("data: %d train images, %d val images (%d val patches, %d in the fixed subset), %.1fs", len(trainImgs), len(valImgs), nv, len(valRefs), time.Since(start).Seconds())
	if vs := valFingerprint(valImgs); vs != ck.ValSet {
		// A best score measured on other images is no yardstick: the next validation sets it.
		if !math.IsInf(ck.BestVal, 1) {
			logf("validation images changed: best val %.4f no longer applies", ck.BestVal)
		}
		ck.ValSet, ck.BestVal = vs, math.Inf(1)
	}
	sampler := NewSampler(trainImgs)
	if m.Cfg.PosChannels {
		sampler.Align = PosAlign
	}

	csvPath := o.Out + ".csv"
	newCSV := false
	if _, err := os.Stat(csvPath); err != nil {
		newCSV = true
	}
	csv, err := os.OpenFile(csvPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer csv.Close()
	if newCSV {
		fmt.Fprintln(csv, "step,hours,lr,train_bpd,val_bpd,patches_per_s")
	}

	evalModel, err := ModelFromParams(m.Cfg, ck.EMA, m.Bins)
	if err != nil {
		return nil, err
	}
	evalParams, _ := evalModel.paramSlices()
	validate := func() Stats {
		for i := range evalParams {
			copy(evalParams[i], ck.EMA[i])
		}
		evalModel.Refresh()
		return Evaluate(evalModel, valImgs, valRefs, 64, 12345)
	}

	tr := m.newTrainer()
	bt := NewBatch(o.Batch)
	baseSeconds := ck.Seconds
	runStart := time.Now()
	lastCkpt := time.Now()
	lastLog := time.Now()
	logSteps := 0
	var logStats Stats
	save := func() error {
		ck.Params = cloneSlices(params)
		ck.Seconds = baseSeconds + time.Since(runStart).Seconds()
		st, err := rngState.MarshalBinary()
		if err != nil {
			return err
		}
		ck.RNG = st
		ck.Bins = m.Bins
		return SaveCheckpoint(o.Out, ck)
	}
	b1, b2 := 0.9, 0.999
	for {
		if o.Steps > 0 && ck.Step >= o.Steps {
			break
		}
		if o.Duration > 0 && time.Since(runStart) >= o.Duration {
			break
		}
		if ctx.Err() != nil {
			break
		}
		sampler.Fill(bt, rng)
		for _, c := range m.Convs() {
			c.ZeroGrad()
		}
		st := m.Loss(tr, bt, rng, true)
		for _, c := range m.Convs() {
			c.FinishGrad()
		}
		gn := 0.0
		for _, g := range grads {
			for _, v := range g {
				gn += float64(v) * float64(v)
			}
		}
		gn = math.Sqrt(gn)
		if math.IsNaN(st.BPD) || math.IsInf(st.BPD, 0) || math.IsNaN(gn) {
			logf("step %d: non-finite loss or gradient, batch skipped", ck.Step)
			continue
		}
		clip := 1.0
		const maxNorm = 50
		if gn > maxNorm {
			clip = maxNorm / gn
		}
		ck.Step++
		t := float64(ck.Step)
		lr := o.LR * math.Min(1, t/float64(max(1, o.Warmup)))
		if ck.Step > o.Warmup {
			lr *= math.Pow(o.Decay, float64(ck.Step-o.Warmup))
		}
		c1 := 1 - math.Pow(b1, t)
		c2 := 1 - math.Pow(b2, t)
		step := lr * math.Sqrt(c2) / c1
		// The EMA decay ramps up with the step count (as in TensorFlow's num_updates), so that
		// early evaluations are not dominated by the initial weights.
		ema := math.Min(o.EMA, (1+t)/(10+t))
		for i, p := range params {
			g, mm, vv, e := grads[i], ck.AdamM[i], ck.AdamV[i], ck.EMA[i]
			step := step * lrScale[i]
			nn.Parallel(len(p), 8192, func(_, lo, hi int) {
				for j := lo; j < hi; j++ {
					gj := float64(g[j]) * clip
					mj := b1*float64(mm[j]) + (1-b1)*gj
					vj := b2*float64(vv[j]) + (1-b2)*gj*gj
					mm[j], vv[j] = float32(mj), float32(vj)
					p[j] -= float32(step * mj / (math.Sqrt(vj) + 1e-8))
					e[j] = float32(ema*float64(e[j]) + (1-ema)*float64(p[j]))
				}
			})
		}
		m.Refresh()

		logSteps++
		if logStats.KL == nil {
			logStats = Stats{KL: make([]float64, len(st.KL))}
		}
		logStats.add(st, 1)
		if time.Since(lastLog) > 30*time.Second || ck.Step%o.ValEvery == 0 {
			el := time.Since(lastLog).Seconds()
			logStats.scale(1 / float64(logSteps))
			pps := float64(logSteps*o.Batch) / el
			logf("step %d  train %s  lr %.2e  |g| %.2f  %.1f patches/s", ck.Step, logStats, lr, gn, pps)
			valStr := ""
			if ck.Step%o.ValEvery == 0 {
				vs := validate()
				valStr = fmt.Sprintf("%.5f", vs.BPD)
				logf("step %d  VAL (EMA) %s", ck.Step, vs)
				if vs.BPD < ck.BestVal {
					ck.BestVal = vs.BPD
					ck.BestEMA = cloneSlices(ck.EMA)
				}
			}
			fmt.Fprintf(csv, "%d,%.4f,%.3g,%.5f,%s,%.1f\n", ck.Step, (baseSeconds+time.Since(runStart).Seconds())/3600, lr, logStats.BPD, valStr, pps)
			lastLog = time.Now()
			logSteps = 0
			logStats = Stats{KL: make([]float64, len(st.KL))}
		}
		if time.Since(lastCkpt) > o.CkptEvery {
			if err := save(); err != nil {
				return nil, err
			}
			lastCkpt = time.Now()
		}
	}
	vs := validate()
	logf("final step %d  VAL (EMA) %s", ck.Step, vs)
	if vs.BPD < ck.BestVal {
		ck.BestVal = vs.BPD
		ck.BestEMA = cloneSlices(ck.EMA)
	}
	if err := save(); err != nil {
		return nil, err
	}
	logf("checkpoint %s saved at step %d", o.Out, ck.Step)
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled) {
		return ck, ctx.Err()
	}
	return ck, nil
}

// ExportModel builds the model to ship from a checkpoint: the best validated EMA weights (or
// the current EMA weights when no validation has run), with bin references fitted on n
// training patches drawn by s.
// With raw, it takes the current (not averaged) weights instead.
func ExportModel(ck *Checkpoint, s *Sampler, n int, raw bool) (*Model, error) {
	params := ck.BestEMA
	if params == nil {
		params = ck.EMA
	}
	if params == nil || raw {
		params = ck.Params
	}
	m, err := ModelFromParams(ck.Config, params, nil)
	if err != nil {
		return nil, err
	}
	m.FitBins(s, n, 1)
	return m, nil
}

// ImageStats is the -ELBO of one image over its aligned 32x32 patches (the image cropped to
// multiples of 32, the bench's protocol).
type ImageStats struct {
	Name    string
	Patches int
	Stats
	// Calibrated is the -ELBO in bits per subpixel with the image's Calib chosen on
	// CalibPatches spread patches (as the encoder does).
	Calibrated float64
	Calib      Calib
}

// EvaluateImages returns the -ELBO of m on every image (cropped to multiples of 32). With
// stride > 1 only every stride-th patch of each image is used.
func EvaluateImages(m *Model, imgs []*RGB, stride int, progress func(done, total int)) []ImageStats {
	var out []ImageStats
	for i, im := range imgs {
		refs := GridPatches([]*RGB{im}, stride, 0)
		if len(refs) == 0 {
			continue
		}
		const P = PatchSize * PatchSize
		n := len(refs)
		bt := BatchOf(im, refs)
		all := GridPatches([]*RGB{im}, 1, 0)
		sample := BatchOf(im, GridPatches([]*RGB{im}, max(1, len(all)/CalibPatches), CalibPatches))
		cal := m.Calibrate(sample.X, sample.Ctx, sample.B)
		st := ImageStats{Name: im.Name, Patches: n, Stats: m.NegELBO(bt.X, bt.Ctx, n), Calib: cal.Calib}
		st.Calibrated = m.NegELBOCalibrated(bt.X, bt.Ctx, n, cal.Calib).BPD
		out = append(out, st)
		if progress != nil {
			progress(i+1, len(imgs))
		}
	}
	return out
}

// add accumulates w*o into s (for averaging Stats).
func (s *Stats) add(o Stats, w float64) {
	s.BPD += o.BPD * w
	s.Rec += o.Rec * w
	if len(s.KL) < len(o.KL) {
		s.KL = append(s.KL, make([]float64, len(o.KL)-len(s.KL))...)
	}
	if len(s.RecStages) < len(o.RecStages) {
		s.RecStages = append(s.RecStages, make([]float64, len(o.RecStages)-len(s.RecStages))...)
	}
	for i, v := range o.KL {
		s.KL[i] += v * w
	}
	for i, v := range o.RecStages {
		s.RecStages[i] += v * w
	}
}

// scale multiplies every term by f.
func (s *Stats) scale(f float64) {
	s.BPD *= f
	s.Rec *= f
	for i := range s.KL {
		s.KL[i] *= f
	}
	for i := range s.RecStages {
		s.RecStages[i] *= f
	}
}

// paramsFromEffective sets every conv's weight-norm parameters from its effective weights
// (a model read from a weights file has only those): V = W and G = ||W|| per output, so that
// training continues from the same function.
func (m *Model) paramsFromEffective() {
	for _, c := range m.Convs() {
		k := c.Shape.K()
		if c.V == nil { // a conv loaded for inference
			c.V, c.G = make([]float32, c.Shape.WeightLen()), make([]float32, c.Shape.Cout)
		}
		for o := 0; o < c.Shape.Cout; o++ {
			w := c.W[o*k : (o+1)*k]
			copy(c.V[o*k:(o+1)*k], w)
			ss := 0.0
			for _, x := range w {
				ss += float64(x) * float64(x)
			}
			c.G[o] = float32(math.Sqrt(ss))
		}
	}
}

// valFingerprint identifies a validation set by its images' names and sizes.
func valFingerprint(imgs []*RGB) string {
	h := sha256.New()
	for _, im := range imgs {
		fmt.Fprintf(h, "%s %d %d\n", im.Name, im.W, im.H)
	}
	return fmt.Sprintf("%x", h.Sum(nil)[:8])
}
