package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/bitswap-codec/bitswap/bench"
)

func benchCommand() *cli.Command {
	var list strings.Builder
	list.WriteString("Codecs (--codecs KEY,...):")
	for _, c := range bench.AllCodecs(bench.Settings{}) {
		fmt.Fprintf(&list, "\n  %-9s %s", c.Key(), c.Label())
	}
	for _, k := range sortedKeys(bench.Unavailable()) {
		fmt.Fprintf(&list, "\n  %-9s (%s)", k, bench.Unavailable()[k])
	}
	return &cli.Command{
		Name:      "bench",
		Usage:     "compare the codec with gzip, bzip2, LZMA, PNG, WebP and JPEG XL on images",
		ArgsUsage: "FILES|DIR...",
		Description: `Compresses every image with every codec, decodes it back and checks the pixels
are identical (a mismatch is reported as an error in that row), and reports bits/dim
(total bits / (width*height*channels)), the compression ratio, and wall-clock encode and
decode times, per image and summarized per codec (mean over images, and pixel-weighted).

By default images are cropped from the top-left to multiples of 32 in both sides, the
Bit-Swap paper's protocol; --uncropped keeps them whole. A directory stands for the
image files directly inside it (PNG, JPEG, GIF, BMP, TIFF, WebP, PPM/PGM); only 8-bit
images are compared.

gzip, bzip2 and LZMA compress the raw interleaved 8-bit samples (R,G,B,R,G,B,...) with
no header, as in the Bit-Swap paper. All baselines are pure Go ports, which differ from
the C tools (rows name the library). WebP and JPEG XL are only present in binaries
built with -tags nodynamic, which keeps their libraries from loading a system
libwebp/libjxl. See docs/bench.md.

The table goes to stdout, progress to stderr. The command exits with status 1 when any
image or codec failed.

` + list.String(),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "codecs", Usage: "comma-separated `KEYS` of the codecs to run (default: all, listed above)"},
			&cli.BoolFlag{Name: "uncropped", Usage: "code whole images instead of cropping them to multiples of 32"},
			&cli.IntFlag{Name: "center-crop", Usage: "first cut each image to its central `N`xN pixels (0: whole images)"},
			&cli.BoolFlag{Name: "slow", Usage: "slowest baseline settings: WebP -z 9 (method 6, quality 100), JPEG XL effort 9"},
			&cli.BoolFlag{Name: "no-elbo", Usage: "leave out the model's -ELBO column (a model pass over every patch)"},
			&cli.IntFlag{Name: "j", Value: 1, Usage: "process `N` images at the same time (timings are wall clock)"},
			&cli.IntFlag{Name: "coder-workers", Value: 1, Usage: "goroutines for bitswap's own coders (`N`; the baselines use one; the cores column shows what each row ran on; sizes do not change)"},
			&cli.StringFlag{Name: "csv", Usage: "also write the per-image results as CSV to `FILE`"},
			&cli.StringFlag{Name: "json", Usage: "also write the results and summary as JSON to `FILE`"},
			&cli.StringFlag{Name: "plot", Usage: "draw mean bits/dim per codec as a bar chart to `FILE` (.png, .svg or .pdf)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress on stderr"},
			modelFlag(),
		},
		Action: runBench,
	}
}

func runBench(c *cli.Context) error {
	if c.NArg() == 0 {
		return cli.Exit("bench: give image files or a directory (see --help)", 2)
	}
	if c.Int("j") < 1 {
		return cli.Exit("bench: -j must be at least 1", 2)
	}
	model, err := loadModel(c)
	if err != nil {
		return err
	}
	plotFormat := ""
	if p := c.String("plot"); p != "" {
		f, err := bench.PlotFormat(p)
		if err != nil {
			return cli.Exit(err.Error(), 2)
		}
		plotFormat = f
	}
	if c.Int("coder-workers") < 1 {
		return cli.Exit("bench: --coder-workers must be at least 1", 2)
	}
	all := bench.AllCodecs(bench.Settings{Slow: c.Bool("slow"), CoderWorkers: c.Int("coder-workers"), NoNegELBO: c.Bool("no-elbo"), Coders: model.Coders()})
	var keys []string
	if s := c.String("codecs"); s != "" {
		keys = []string{s}
	}
	codecs, err := bench.Select(all, keys)
	if err != nil {
		return cli.Exit(err.Error(), 2)
	}
	inputs, err := bench.Inputs(c.Args().Slice())
	if err != nil {
		return cli.Exit(err.Error(), 2)
	}
	stderr := c.App.ErrWriter
	if stderr == nil {
		stderr = os.Stderr
	}
	stdout := c.App.Writer
	if stdout == nil {
		stdout = os.Stdout
	}
	if keys == nil {
		for _, k := range sortedKeys(bench.Unavailable()) {
			fmt.Fprintf(stderr, "bench: %s left out: %s\n", k, bench.Unavailable()[k])
		}
	}

	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
	defer stop()
	opt := bench.Options{Codecs: codecs, Uncropped: c.Bool("uncropped"), Workers: c.Int("j"),
		CenterCrop: c.Int("center-crop")}
	var prog *progress
	if !c.Bool("quiet") {
		prog = newProgress(ctx, stderr, len(inputs)*len(codecs))
		opt.Progress = prog.event
	}
	rep, runErr := bench.Run(ctx, inputs, opt)
	if prog != nil {
		prog.close()
	}
	if rep == nil {
		return cli.Exit(runErr.Error(), 1)
	}
	if err := bench.WriteTable(stdout, rep); err != nil {
		return err
	}
	if err := writeFile(c.String("csv"), func(w io.Writer) error { return bench.WriteCSV(w, rep) }); err != nil {
		return err
	}
	if err := writeFile(c.String("json"), func(w io.Writer) error { return bench.WriteJSON(w, rep) }); err != nil {
		return err
	}
	if err := writeFile(c.String("plot"), func(w io.Writer) error { return bench.WritePlot(w, plotFormat, rep) }); err != nil {
		return err
	}
	if runErr != nil {
		return cli.Exit(fmt.Sprintf("bench: stopped early: %v", runErr), 1)
	}
	failed := 0
	for _, r := range rep.Results {
		if !r.OK() {
			failed++
		}
	}
	if failed > 0 {
		return cli.Exit(fmt.Sprintf("bench: %d of %d results failed (see the status column)", failed, len(rep.Results)), 1)
	}
	return nil
}

// writeFile writes path with fn, unless path is empty.
func writeFile(path string, fn func(io.Writer) error) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// progress shows the run on stderr: a bar when stderr is a terminal, otherwise one line per
// finished codec and image, so that logs stay readable. stdout is never written.
type progress struct {
	w     io.Writer
	p     *mpb.Progress
	bar   *mpb.Bar
	mu    sync.Mutex
	doing string
}

func newProgress(ctx context.Context, w io.Writer, steps int) *progress {
	pr := &progress{w: w}
	cw := barWriter(w)
	if cw == nil {
		return pr
	}
	pr.p, pr.bar = newBar(ctx, cw, "bench", int64(steps), time.Now(), decor.Any(func(decor.Statistics) string {
		pr.mu.Lock()
		defer pr.mu.Unlock()
		return " " + pr.doing
	}))
	return pr
}

func (pr *progress) event(e bench.Event) {
	if pr.bar == nil {
		pr.line(e)
		return
	}
	switch e.Kind {
	case bench.ImageStarted:
		pr.mu.Lock()
		pr.doing = e.Image
		pr.mu.Unlock()
	case bench.CodecDone:
		pr.bar.Increment()
		if !e.Result.OK() {
			fmt.Fprintf(pr.p, "%s: %s: ERROR %s\n", e.Image, e.Result.Codec, e.Result.Err)
		}
	case bench.ImageDone:
		if e.Err != nil {
			// The image's codecs will not run: count them as done.
			pr.bar.IncrBy(e.Steps)
			fmt.Fprintf(pr.p, "%s: ERROR %v\n", e.Image, e.Err)
		}
	}
}

// line prints line-based progress for a non-terminal stderr.
func (pr *progress) line(e bench.Event) {
	prefix := fmt.Sprintf("[%d/%d] %s", e.Index+1, e.Total, e.Image)
	switch e.Kind {
	case bench.CodecDone:
		r := e.Result
		status := "ok"
		if !r.OK() {
			status = "ERROR " + strings.Join(strings.Fields(r.Err), " ")
		}
		fmt.Fprintf(pr.w, "%s: %s: %.3f bits/dim, encode %.2fs, decode %.2fs, %s\n",
			prefix, r.Codec, r.BitsPerDim, r.EncodeSeconds, r.DecodeSeconds, status)
	case bench.ImageDone:
		if e.Err != nil {
			fmt.Fprintf(pr.w, "%s: ERROR %v\n", prefix, e.Err)
		}
	}
}

func (pr *progress) close() {
	if pr.p == nil {
		return
	}
	if pr.bar != nil && !pr.bar.Completed() {
		pr.bar.Abort(false)
	}
	pr.p.Wait()
}
