package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Input is one image to compare the codecs on.
type Input struct {
	// Name identifies the image in the results (usually its file name).
	Name string
	// Load decodes the image. It is called once, by the worker that handles the image.
	Load func() (*Image, error)

	path string // for FileInput
}

// Options configure a run.
type Options struct {
	// Codecs are the rows, in order. At least one is needed.
	Codecs []Codec
	// Uncropped keeps every image whole. By default each image is cropped from the top-left
	// to the largest multiples of 32 in width and height (the Bit-Swap paper's protocol).
	Uncropped bool
	// CenterCrop, when positive, first cuts every image to its central region of at most
	// CenterCrop x CenterCrop pixels (a smaller, still representative sample of large
	// images; applied before the crop to multiples of 32).
	CenterCrop int
	// Workers is the number of images processed at the same time (default 1). Timings are
	// wall clock per codec per image, so they are only comparable between runs with the
	// same number of workers on an otherwise idle machine.
	Workers int
	// Progress, if set, is called as the run advances. Calls are serialized.
	Progress func(Event)
}

// EventKind tells what an Event reports.
type EventKind int

// Event kinds.
const (
	// ImageStarted: a worker began the image (Image, Index set).
	ImageStarted EventKind = iota
	// CodecDone: one codec finished one image (Result set).
	CodecDone
	// ImageDone: all codecs finished the image, or it could not be loaded (Err set).
	ImageDone
)

// Event is a progress report.
type Event struct {
	Kind   EventKind
	Image  string
	Index  int // index of the image in the inputs
	Total  int // number of images
	Steps  int // codecs per image
	Result *Result
	Err    error
}

// Report is the outcome of a run.
type Report struct {
	// Cropped is true when images were cropped to multiples of 32.
	Cropped bool
	// Codecs lists the rows in order.
	Codecs []CodecInfo
	// Images lists the inputs in order, with their coded geometry.
	Images []ImageInfo
	// Results holds one entry per image and codec, in image order then codec order. An image
	// that could not be loaded (or cropped) has a single entry with an empty Codec and Err set.
	Results []Result
}

// CodecInfo describes one row of the comparison.
type CodecInfo struct {
	Key, Label string
	// HasNegELBO is true when the codec reports the model's −ELBO.
	HasNegELBO bool
	// Own is true for the codec package's coders (as opposed to baselines).
	Own bool
	// Cores is the number of cores (goroutines at once) the codec runs on; see MultiCore.
	Cores int
}

// ImageInfo describes one input.
type ImageInfo struct {
	Name string
	// Width, Height and Channels are the coded (possibly cropped) geometry.
	Width, Height, Channels int
	// OrigWidth and OrigHeight are the size before cropping.
	OrigWidth, OrigHeight int
	Err                   string
}

// Result is one codec on one image.
type Result struct {
	Image                   string
	Width, Height, Channels int
	// Codec is the row label; Key the codec's selector.
	Codec, Key string
	// Bytes is the compressed size.
	Bytes int
	// BitsPerDim is 8*Bytes / (Width*Height*Channels).
	BitsPerDim float64
	// Ratio is the raw size (Width*Height*Channels bytes) over the compressed size.
	Ratio float64
	// Cores is the number of cores (goroutines at once) the codec ran on; see MultiCore.
	Cores         int
	EncodeSeconds float64
	DecodeSeconds float64
	// NegELBO is the model's −ELBO in bits/dim when HasNegELBO.
	NegELBO    float64
	HasNegELBO bool
	// Err is empty when the codec encoded and decoded the image back exactly.
	Err string
}

// OK reports whether the codec round-tripped the image exactly.
func (r Result) OK() bool { return r.Err == "" }

// Run compares the codecs on the inputs. It returns the report of everything finished; the
// error is non-nil only when the options are unusable or ctx was cancelled (the report then
// holds the images done so far). Failures of a codec on an image are not errors of Run: they
// are recorded in that Result.
func Run(ctx context.Context, inputs []Input, opt Options) (*Report, error) {
	if len(opt.Codecs) == 0 {
		return nil, errors.New("bench: no codecs selected")
	}
	seen := map[string]bool{}
	rep := &Report{Cropped: !opt.Uncropped}
	for _, c := range opt.Codecs {
		if c == nil {
			return nil, errors.New("bench: nil codec")
		}
		if seen[c.Key()] {
			return nil, fmt.Errorf("bench: codec %q selected twice", c.Key())
		}
		seen[c.Key()] = true
		_, elbo := c.(NegELBOer)
		_, own := c.(interface{ own() })
		rep.Codecs = append(rep.Codecs, CodecInfo{Key: c.Key(), Label: c.Label(), HasNegELBO: elbo, Own: own, Cores: coresOf(c)})
	}
	// Codecs with a one-time setup (e.g. compiling WASM) do it now, off the clock.
	for _, c := range opt.Codecs {
		if p, ok := c.(preparer); ok {
			if err := safe(p.prepare); err != nil {
				return nil, fmt.Errorf("bench: %s: %w", c.Key(), err)
			}
		}
	}
	workers := opt.Workers
	if workers < 1 {
		workers = 1
	}
	if workers > len(inputs) {
		workers = max(len(inputs), 1)
	}

	var mu sync.Mutex // serializes Progress
	emit := func(e Event) {
		if opt.Progress == nil {
			return
		}
		e.Total, e.Steps = len(inputs), len(opt.Codecs)
		mu.Lock()
		defer mu.Unlock()
		opt.Progress(e)
	}

	infos := make([]ImageInfo, len(inputs))
	rows := make([][]Result, len(inputs))
	done := make([]bool, len(inputs))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				infos[i], rows[i], done[i] = runImage(ctx, inputs[i], i, opt, emit)
			}
		}()
	}
feed:
	for i := range inputs {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()

	for i := range inputs {
		if !done[i] {
			continue
		}
		rep.Images = append(rep.Images, infos[i])
		rep.Results = append(rep.Results, rows[i]...)
	}
	return rep, ctx.Err()
}

// preparer is implemented by codecs with a one-time setup that should not be timed.
type preparer interface {
	prepare() error
}

// runImage loads, crops and codes one image with every codec. complete is false when ctx
// was cancelled before all codecs ran.
func runImage(ctx context.Context, in Input, idx int, opt Options, emit func(Event)) (info ImageInfo, out []Result, complete bool) {
	info = ImageInfo{Name: in.Name}
	emit(Event{Kind: ImageStarted, Image: in.Name, Index: idx})
	fail := func(err error) (ImageInfo, []Result, bool) {
		info.Err = err.Error()
		emit(Event{Kind: ImageDone, Image: in.Name, Index: idx, Err: err})
		return info, []Result{{Image: in.Name, Err: info.Err}}, true
	}
	if in.Load == nil {
		return fail(errors.New("no loader"))
	}
	var img *Image
	err := safe(func() (err error) { img, err = in.Load(); return err })
	if err == nil {
		err = img.Validate()
	}
	if err != nil {
		return fail(fmt.Errorf("load: %w", err))
	}
	info.OrigWidth, info.OrigHeight = img.Width, img.Height
	if n := opt.CenterCrop; n > 0 && (img.Width > n || img.Height > n) {
		w, h := min(img.Width, n), min(img.Height, n)
		if img, err = CropAt(img, (img.Width-w)/2, (img.Height-h)/2, w, h); err != nil {
			return fail(err)
		}
	}
	if !opt.Uncropped {
		if img, err = CropTo32(img); err != nil {
			return fail(err)
		}
	}
	info.Width, info.Height, info.Channels = img.Width, img.Height, img.Channels

	for _, c := range opt.Codecs {
		if ctx.Err() != nil {
			return info, out, false
		}
		r := runCodec(c, img)
		r.Image = in.Name
		out = append(out, r)
		emit(Event{Kind: CodecDone, Image: in.Name, Index: idx, Result: &r})
	}
	emit(Event{Kind: ImageDone, Image: in.Name, Index: idx})
	return info, out, true
}

// runCodec encodes img with c, decodes it back, checks the pixels and fills in a Result.
func runCodec(c Codec, img *Image) Result {
	r := Result{Width: img.Width, Height: img.Height, Channels: img.Channels, Codec: c.Label(), Key: c.Key(), Cores: coresOf(c)}
	// Encoders get a private copy so that one that scribbles on its input cannot corrupt the
	// reference the decoded image is compared with.
	in := &Image{Width: img.Width, Height: img.Height, Channels: img.Channels, Pix: append([]byte(nil), img.Pix...)}

	var data []byte
	t0 := time.Now()
	err := safe(func() (err error) { data, err = c.Encode(in); return err })
	r.EncodeSeconds = time.Since(t0).Seconds()
	if err != nil {
		r.Err = "encode: " + err.Error()
		return r
	}
	if len(data) == 0 {
		r.Err = "encode: no output"
		return r
	}
	r.Bytes = len(data)
	dims := float64(img.Width * img.Height * img.Channels)
	r.BitsPerDim = 8 * float64(len(data)) / dims
	r.Ratio = dims / float64(len(data))

	var dec *Image
	t0 = time.Now()
	err = safe(func() (err error) { dec, err = c.Decode(data, img.Shape()); return err })
	r.DecodeSeconds = time.Since(t0).Seconds()
	if err != nil {
		r.Err = "decode: " + err.Error()
		return r
	}
	if err := Equal(img, dec); err != nil {
		r.Err = err.Error()
		return r
	}

	if e, ok := c.(NegELBOer); ok {
		var v float64
		err := safe(func() error {
			m, err := ToImageio(img)
			if err == nil {
				v, err = e.NegELBO(m)
			}
			return err
		})
		if err != nil {
			r.Err = "neg-elbo: " + err.Error()
			return r
		}
		r.NegELBO, r.HasNegELBO = v, true
	}
	return r
}

// safe runs f, turning a panic into an error so that one misbehaving codec cannot take the
// whole comparison down.
func safe(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return f()
}
