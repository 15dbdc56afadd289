package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/vae/data"
	"github.com/bitswap-codec/bitswap/vae/train"
	"github.com/bitswap-codec/bitswap/weights"
)

func trainCommand() *cli.Command {
	d := train.DefaultOptions()
	return &cli.Command{
		Name:      "train",
		Usage:     "train the VAE on a directory of images (train/ and val/), or export a checkpoint",
		ArgsUsage: " ",
		Description: `Trains (or, with --resume, continues training) the hierarchical VAE on random
32x32 crops of DATA/train, validating on a fixed subset of the aligned patches of DATA/val.
Checkpoints go to OUT every few minutes and on Ctrl-C; the loss curve to OUT.csv.
Get the data sets with scripts/fetch-data.sh (data/photos, data/wallpapers).

With --export FILE, writes the weights file of checkpoint --resume (its best validated
EMA weights, with latent bins fitted on DATA/train) instead of training.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "data", Value: "data/wallpapers", Usage: "data `DIR` with train/ and val/"},
			&cli.StringFlag{Name: "out", Value: "runs/model.ckpt", Usage: "checkpoint `FILE` to write"},
			&cli.StringFlag{Name: "resume", Usage: "checkpoint `FILE` to continue from"},
			&cli.StringFlag{Name: "init", Usage: "start a new run from the weights `FILE` (\"embedded\": the built-in model) instead of random weights"},
			&cli.IntFlag{Name: "pixel-stages", Value: d.Config.PixelStages, Usage: "pixel stages of a new (or --upgrade'd) model: 7 or 9"},
			&cli.IntFlag{Name: "fine-blocks", Usage: "a new (or --upgrade'd) model's finest stage networks get `N` more residual blocks (vae.Config.FineBlocks)"},
			&cli.IntFlag{Name: "fine-stages", Usage: "how many of the finest stage networks get the --fine-blocks (vae.Config.FineStages; 0: the default, 4)"},
			&cli.BoolFlag{Name: "upgrade", Usage: "convert the --resume checkpoint to the current default architecture, keeping what it learned"},
			&cli.StringFlag{Name: "export", Usage: "write the weights `FILE` of --resume and stop"},
			&cli.BoolFlag{Name: "raw", Usage: "with --export: the current weights, not the best averaged ones"},
			&cli.BoolFlag{Name: "latest", Usage: "with --export: the latest averaged weights, not the best validated ones (when the run's data changed, its best score no longer compares)"},
			&cli.StringFlag{Name: "eval", Usage: "evaluate the weights `FILE` on DATA/val (every aligned patch) and stop"},
			&cli.IntFlag{Name: "eval-stride", Value: 1, Usage: "with --eval: use one patch in `N`, spread over each image's rows and columns"},
			&cli.IntFlag{Name: "steps", Usage: "stop at this many steps in total (0: no limit)"},
			&cli.DurationFlag{Name: "duration", Usage: "stop after this much time (0: no limit)"},
			&cli.IntFlag{Name: "batch", Value: d.Batch, Usage: "patches per step"},
			&cli.IntFlag{Name: "parts", Usage: "split every step's batch over `N` cores, a part each (0: all cores; 1: split each operation instead)"},
			&cli.Float64Flag{Name: "lr", Value: d.LR, Usage: "peak learning rate"},
			&cli.Float64Flag{Name: "skip-lr", Value: d.SkipLR, Usage: "learning-rate factor of the stage skips (linear interpolators)"},
			&cli.Float64Flag{Name: "fine-lr", Value: d.FineLR, Usage: "learning-rate factor of what upgrades add late: the residual blocks of --fine-blocks (in every stage --fine-stages gives them) and the stage networks' weights on the context-scale channels"},
			&cli.Float64Flag{Name: "area-power", Value: d.AreaPower, Usage: "draw training images by their area to this power (1: every crop position equally often; 0: every image)"},
			&cli.BoolFlag{Name: "luma-only", Usage: "train, validate and --eval on R alone for Y'CbCr planes (datatool ycc's *.ycc.png): their Y' given their chroma, coded before it (RGB images unchanged)"},
			&cli.BoolFlag{Name: "integer-nets", Value: d.IntegerNets, Usage: "run the networks' forward passes on the coders' 16-bit integer path (faster; false: float32)"},
			&cli.IntFlag{Name: "val-every", Value: d.ValEvery, Usage: "validate every `N` steps"},
			&cli.IntFlag{Name: "val-patches", Value: d.ValPatches, Usage: "size of the fixed validation subset"},
			&cli.DurationFlag{Name: "ckpt-every", Value: d.CkptEvery, Usage: "checkpoint interval"},
			&cli.Uint64Flag{Name: "seed", Value: d.Seed, Usage: "random seed of a new run"},
		},
		Action: runTrain,
	}
}

func runTrain(c *cli.Context) error {
	if c.String("export") != "" {
		return runExport(c)
	}
	if c.String("eval") != "" {
		return runEval(c)
	}
	o := train.DefaultOptions()
	o.DataDir = c.String("data")
	o.Out = c.String("out")
	o.Resume = c.String("resume")
	o.Upgrade = c.Bool("upgrade")
	o.Config.PixelStages = c.Int("pixel-stages")
	o.Config.FineBlocks = max(o.Config.FineBlocks, c.Int("fine-blocks"))
	o.Config.FineStages = fineStages(c)
	o.Steps = c.Int("steps")
	o.Duration = c.Duration("duration")
	o.Batch = c.Int("batch")
	o.Parts = c.Int("parts")
	o.LR = c.Float64("lr")
	o.SkipLR = c.Float64("skip-lr")
	o.FineLR = c.Float64("fine-lr")
	o.IntegerNets = c.Bool("integer-nets")
	o.LumaOnly = c.Bool("luma-only")
	o.AreaPower = c.Float64("area-power")
	o.ValEvery = c.Int("val-every")
	o.ValPatches = c.Int("val-patches")
	o.CkptEvery = c.Duration("ckpt-every")
	o.Seed = c.Uint64("seed")
	o.Log = c.App.ErrWriter
	if f := c.String("init"); f != "" {
		if o.Resume != "" {
			return usagef("train: --init and --resume exclude each other")
		}
		var err error
		if o.Init, err = loadInit(f); err != nil {
			return err
		}
	}
	if o.Batch < 1 || o.ValEvery < 1 || o.ValPatches < 1 {
		return usagef("train: --batch, --val-every and --val-patches must be positive")
	}
	if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err := train.Run(ctx, o)
	return err
}

// fineStages returns --fine-stages as vae.Config.FineStages (which writes the default, 4,
// as 0).
func fineStages(c *cli.Context) int {
	if n := c.Int("fine-stages"); n != 4 {
		return n
	}
	return 0
}

func runExport(c *cli.Context) error {
	if c.String("resume") == "" {
		return usagef("train --export needs --resume CHECKPOINT")
	}
	ck, err := train.LoadCheckpoint(c.String("resume"))
	if err != nil {
		return err
	}
	if c.Bool("upgrade") {
		cfg := vae.DefaultConfig()
		cfg.PixelStages = c.Int("pixel-stages")
		cfg.FineBlocks = max(cfg.FineBlocks, c.Int("fine-blocks"))
		cfg.FineStages = fineStages(c)
		if ck, err = train.Upgrade(ck, cfg); err != nil {
			return err
		}
	}
	imgs, err := data.LoadDir(filepath.Join(c.String("data"), "train"), 2)
	if err != nil {
		return err
	}
	s := data.NewSampler(imgs, 1)
	if ck.Config.PosChannels {
		s.Align = vae.PosAlign
	}
	which := train.BestEMA
	if c.Bool("latest") {
		which = train.LatestEMA
	}
	if c.Bool("raw") {
		which = train.Raw
	}
	m, err := train.Export(ck, s, 8192, which)
	if err != nil {
		return err
	}
	w := m.MarshalWeights()
	if err := os.WriteFile(c.String("export"), w, 0o644); err != nil {
		return err
	}
	id := vae.ModelID(w)
	fmt.Fprintf(c.App.ErrWriter, "wrote %s: %d bytes, model id %x, step %d, best val %.4f bpd\n",
		c.String("export"), len(w), id, ck.Step, ck.BestVal)
	return nil
}

func runEval(c *cli.Context) error {
	mw, err := os.ReadFile(c.String("eval"))
	if err != nil {
		return err
	}
	m, err := vae.UnmarshalWeights(mw)
	if err != nil {
		return err
	}
	imgs, err := data.LoadDir(filepath.Join(c.String("data"), "val"), 2)
	if err != nil {
		return err
	}
	if c.Bool("luma-only") {
		data.MarkChromaKnown(imgs)
	}
	w := c.App.Writer
	what := "-ELBO"
	if c.Bool("luma-only") {
		what = "-ELBO of Y' given the chroma" // still per subpixel of all three colours
	}
	fmt.Fprintf(w, "model %x: %s in bits/subpixel on %s/val (cropped to multiples of 32)\n", vae.ModelID(mw), what, c.String("data"))
	fmt.Fprintf(w, "%-72s %7s %7s %7s %8s %7s  %s\n", "image", "patches", "-ELBO", "calib.", "fallback", "rec", "rec by pixel stage; calibration")
	stats := train.EvaluateImages(m, imgs, max(1, c.Int("eval-stride")), nil)
	var mean, cmean, fmean, wsum, cwsum float64
	wn := 0
	for _, s := range stats {
		fmt.Fprintf(w, "%-72s %7d %7.4f %7.4f %8.4f %7.4f  %.3f; %v\n", s.Name, s.Patches, s.BPD, s.Calibrated, s.Fallback, s.Rec, s.RecStages, s.Calib)
		fmean += s.Fallback
		mean += s.BPD
		cmean += s.Calibrated
		wsum += s.BPD * float64(s.Patches)
		cwsum += s.Calibrated * float64(s.Patches)
		wn += s.Patches
	}
	k := float64(len(stats))
	fmt.Fprintf(w, "mean over images %.4f, pixel-weighted %.4f; calibrated %.4f, %.4f; the fallback coder %.4f (%d images, %d patches)\n",
		mean/k, wsum/float64(wn), cmean/k, cwsum/float64(wn), fmean/k, len(stats), wn)
	return nil
}

// loadInit reads the weights a new run starts from: a weights file, or the embedded model.
func loadInit(name string) (*vae.Model, error) {
	w := weights.Bytes()
	if name != "embedded" {
		var err error
		if w, err = os.ReadFile(name); err != nil {
			return nil, err
		}
	}
	return vae.UnmarshalWeights(w)
}
