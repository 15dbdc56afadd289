package bbcore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/fallback"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/rans"
	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/vae/nn"
)

// The payload of a bits-back coded image:
//
//	u8 version (6; 2-5 are read too: see payload.go) | u8 mode
//	mode 0 (the whole image through the fallback coder: gray, 16-bit, too small, or simply
//	smaller that way):
//	    fallback stream of all planes
//	mode 1 (RGB patches through the VAE):
//	    u8 latent bits k | u8 lanes per chain |
//	    u8 S | S x int8 | S x int8 | S x 3 x int8: the calibration of the S pixel stages
//	        (vae.Calib: scale, anchor since version 3; colour scales since version 4) |
//	    ceil(P/8) bytes: one bit per patch of the grid, 1 = coded by the fallback coder
//	        (bit p%8 of byte p/8) |
//	    uvarint chains C | C x uvarint start step of each chain |
//	    uvarint fallback stream length | uvarint message length | rANS message |
//	    fallback stream of the planes after RGB (alpha), if any
//	modes 2 to 6 (RGB(A) through the Y'CbCr planes behind it): see ycc.go
//
// Every patch of the image (imageio.Grid raster order) is coded either by the VAE or by the
// fallback coder. The encoder estimates both costs per patch and gives the fallback coder the
// patches it codes in fewer bits. The fallback-coded patches form one fallback stream (the
// patches stacked into a 32 x 32n image), and that stream, padded to 32-bit words, seeds the
// rANS message ("clean bits", HiLLoC): the first bits-back pops draw on real data instead of
// random bits. If these patches do not hold enough bits to start the first chain, the first
// VAE patches are moved to the fallback side until they do.
//
// The VAE patches are split into C chains by vertical strips of the grid (see schedule); each
// chain codes one patch per step from its start step on. All chains share one message (each has its own
// lanes and they share the tail), so a chain that starts later pops bits that the earlier
// chains pushed: only the first chain needs the clean bits. The encoder starts chain c+1 at
// the first step after chain c's start at which the message holds enough bits for its
// first pops (it tries, and on running dry redoes that step without it) and its gap to the
// previous chain's start allows (so that the decoder has every patch's context neighbours
// before it); the start steps are in the payload. The networks of a step run as one batch over the active chains.
// Settings of the encoder (written into the payload).
const (
	DefaultLatentBits = 10
	DefaultLanes      = 2
	minPerChain       = 12 // patches per chain at least (fewer chains for small images)
	maxChains         = 16
)

// Limits on what a payload may ask for (hostile headers).
const (
	maxLanes = 16
)

// ErrCorrupt is returned for payloads that cannot be decoded.
var ErrCorrupt = container.ErrCorrupt

// Coder is a bits-back coder over a model with a coding scheme.
type Coder struct {
	Model  *vae.Model
	Scheme Scheme
	// Bits is the number of latent bits k (2^k bins per latent); 0 means DefaultLatentBits.
	Bits uint
	// Lazy, when Model is nil, loads the model the first time an image needs it.
	Lazy func() (*vae.Model, error)
	// AllVAE makes the model code every patch it can (except those needed as clean bits),
	// without comparing with the fallback coder: for measurements and tests.
	AllVAE bool
	// Workers is the number of goroutines the networks run on; 0 means runtime.GOMAXPROCS.
	// The payload does not depend on it.
	Workers int

	force []bool // tests: these patches go to the fallback coder (see export_test.go)
}

// Encode codes img into a payload.
func (cd *Coder) Encode(img *imageio.Image, progress func(done, total int)) ([]byte, error) {
	// The whole image through the fallback coder: the payload when the model codes nothing,
	// and the yardstick of the choice. It runs on its own core while the model probes (unless
	// the coder has a set number of workers).
	whole3 := cd.wholeFallback(img)
	wholeFn := func() ([]byte, error) {
		out, _, err := whole3()
		return out, err
	}
	if img.Depth != 8 || (img.Color != imageio.RGB && img.Color != imageio.RGBA) {
		return wholeFn()
	}
	if cd.force == nil && !cd.AllVAE {
		if p := splitYCC(img); p != nil {
			return smallerOf(func() ([]byte, error) { return encodePlanes(img, p) }, wholeFn)
		}
	}
	grid := imageio.NewGrid(img.Width, img.Height)
	P := grid.Len()
	if P < minModelPatches && cd.force == nil && !cd.AllVAE {
		return wholeFn()
	}
	if err := cd.needModel(); err != nil {
		return nil, err
	}
	bits := cd.Bits
	if bits == 0 {
		bits = DefaultLatentBits
	}
	fb, cal := cd.choose(img, grid, whole3) // an error of whole3 comes back below
	var whole []byte
	if !cd.AllVAE { // (with the model forced on, the whole image's coding is a last resort)
		var err error
		if whole, err = wholeFn(); err != nil {
			return nil, err
		}
	}
	for {
		var vaeList []int
		for p := 0; p < P; p++ {
			if !fb[p] {
				vaeList = append(vaeList, p)
			}
		}
		if len(vaeList) == 0 {
			return wholeFn()
		}
		C := chooseChains(grid.Cols, len(vaeList))
		msg, cleanLen, sch, err := cd.encodeVAE(img, grid, fb, vaeList, C, bits, cal, progress)
		if errors.Is(err, rans.ErrEmpty) {
			moveFirstPatches(grid, fb, C, max(1, P-len(vaeList)))
			continue
		}
		if err != nil {
			return nil, err
		}
		in := Info{LatentBits: int(bits), Lanes: DefaultLanes, Calib: padCalib(cal, cd.Model.Cfg.PixelStages), Bitmap: bitmap(fb),
			Chains: C, Starts: sch.start, CleanBytes: cleanLen}
		mb := msg.Bytes()
		in.MessageBytes = len(mb)
		out := append(in.Append(nil), mb...)
		if len(img.Planes) > 3 {
			if out, err = fallback.Encode(out, img.Planes[3:], img.Width, img.Height, img.Depth); err != nil {
				return nil, err
			}
		}
		if len(whole) <= len(out) && !cd.AllVAE {
			return whole, nil // the fallback coder on the whole image does better
		}
		return out, nil
	}
}

// moveFirstPatches gives the fallback coder the first n patches (at most a strip's) that the
// first chain with VAE patches codes: when the clean bits are too few to start that chain.
func moveFirstPatches(grid imageio.Grid, fb []bool, C, n int) {
	sch := makeSchedule(grid, fb, C)
	c := 0
	for sch.n[c] == 0 {
		c++
	}
	for i := 0; i < n && i < sch.n[c]; i++ {
		fb[sch.patches[sch.first[c]+sch.n[c]-1-i]] = true
	}
}

// choose decides which patches the fallback coder gets: those it codes in fewer bits than
// the model's -ELBO (a one-sample estimate of what bits-back coding will cost), and
// calibrates the model to the image (vae.Calib, chosen on spread patches and sent in the
// payload). A patch's fallback price is what it cost inside the whole image coded by the
// fallback coder (whole waits for that encoding and its costs per patch): coded alone, a
// patch pays for the coder's adaptation to the image, most of its price on smooth content,
// which made the model look like winning where it did not. The model's pass over a patch
// costs many times the fallback coder's, so it first probes a spread sample and gives the
// whole image to the fallback coder when the sample predicts too small a gain (hopeless,
// or too close a call to be worth the estimate's time: probePasses).
// Otherwise it measures the model on a ninth of the patches (choiceSample) and predicts
// the rest from them (predictCosts): a pass over every patch would cost about as much as
// coding them. When the prediction promises too small a gain, the model codes nothing.
func (cd *Coder) choose(img *imageio.Image, grid imageio.Grid, whole func() ([]byte, []float64, error)) ([]bool, vae.Calib) {
	P := grid.Len()
	fb := make([]bool, P)
	if cd.force != nil {
		copy(fb, cd.force)
		return fb, vae.Calib{}
	}
	all := func() ([]bool, vae.Calib) {
		for p := range fb {
			fb[p] = true
		}
		return fb, vae.Calib{}
	}
	var fbBits []float64
	var wholeBits float64
	prices := func() bool {
		out, costs, err := whole()
		fbBits, wholeBits = costs, float64(8*len(out))
		return err == nil && len(costs) == P
	}
	if sample := probeSample(grid); sample != nil && !cd.AllVAE {
		model := cd.probeCoder().modelBits(img, grid, sample, vae.Calib{})
		if !prices() || !probePasses(sample, model, fbBits, P, wholeBits) {
			return all()
		}
	}
	cal := Calibrate(cd.Model, img)
	if cd.AllVAE {
		return fb, cal
	}
	sample := choiceSample(grid)
	costs := cd.modelBits(img, grid, sample, cal)
	if !prices() {
		return all()
	}
	costs = predictCosts(grid, fbBits, sample, costs)
	if gain(allPatches(P), costs, fbBits, 1) < minGain*wholeBits {
		return all()
	}
	for p := 0; p < P; p++ {
		fb[p] = fbBits[p] < costs[p]
	}
	return fb, cal
}

// The choice measures the model on one patch in choiceEvery, in a pattern that leaves no
// patch more than one step (across, down or diagonally) from a measured one: patch (r, c)
// when 3r + c = 3 (mod 9). It predicts the others from the measured patches within
// choiceReach steps. On the downscaled validation photographs (per-patch costs of run s4)
// this kept about 85-95% of the gain of measuring every patch where the model wins most
// (appleflower d2: 7.9% of the fallback coder's size against 9.3%; Foggy-Trees 4.6% against
// 4.9%); one patch in 7 kept 8.2% and 4.6%, for 30% more of the estimate's time, which
// is at most a quarter of the encode (issue 14).
const (
	choiceEvery = 9
	choiceReach = 3
)

// choiceSmall is the grid size up to which the choice measures every patch: the pass
// costs little, and a few patches tell little about the others.
const choiceSmall = 24

// choiceSample returns the patches whose model cost the choice measures (imageio.Grid
// order); every patch of a small grid.
func choiceSample(g imageio.Grid) []int {
	P := g.Len()
	if P <= choiceSmall {
		return allPatches(P)
	}
	var s []int
	for p := 0; p < P; p++ {
		if (3*(p/g.Cols)+p%g.Cols)%choiceEvery == 3 {
			s = append(s, p)
		}
	}
	return s
}

// likeness is the scale of the log ratio of two patches' fallback costs over which a
// sampled patch's say in predictCosts falls by a factor e; unlike is the log ratio beyond
// which a measured patch tells nothing (a flat patch among textured ones: the model has a
// floor, the KL of its latents, that the textured patches' ratio does not show).
const (
	likeness = 0.2
	unlike   = 5 * likeness
)

// predictCosts returns the model's cost of every patch: costs[i] for the measured patch
// sample[i], and for the others their fallback price fbBits[p] times the model-to-fallback
// ratio of the measured patches nearby (within choiceReach steps, or the nearest ring
// that has any), weighted by how
// alike their fallback prices are. Where the model wins follows the content, which is
// locally alike; of two neighbours, the one the fallback coder finds as hard is more
// likely the same kind of content. A patch with no measured patch of its kind nearby (none
// within unlike) is predicted to cost +Inf: it stays with the fallback coder.
func predictCosts(g imageio.Grid, fbBits []float64, sample []int, costs []float64) []float64 {
	P := g.Len()
	pred := make([]float64, P)
	ratio := make([]float64, P)
	known := make([]bool, P)
	for i, p := range sample {
		pred[p], known[p] = costs[i], true
		ratio[p] = costs[i] / max(fbBits[p], 1)
	}
	for p := range pred {
		if known[p] || len(sample) == 0 {
			continue
		}
		r0, c0 := p/g.Cols, p%g.Cols
		lp := math.Log(max(fbBits[p], 1))
		for rad := choiceReach; ; rad++ {
			w, acc, near := 0.0, 0.0, math.Inf(1)
			for r := max(0, r0-rad); r <= min(g.Rows-1, r0+rad); r++ {
				for c := max(0, c0-rad); c <= min(g.Cols-1, c0+rad); c++ {
					if q := r*g.Cols + c; known[q] {
						d := math.Abs(math.Log(max(fbBits[q], 1)) - lp)
						wq := math.Exp(-d / likeness)
						w, acc, near = w+wq, acc+wq*ratio[q], min(near, d)
					}
				}
			}
			if w > 0 {
				pred[p] = fbBits[p] * acc / w
				if near > unlike {
					pred[p] = math.Inf(1)
				}
				break
			}
		}
	}
	return pred
}

// Calibrate returns the calibration the encoder chooses for an 8-bit RGB(A) image.
func Calibrate(m *vae.Model, img *imageio.Image) vae.Calib {
	grid := imageio.NewGrid(img.Width, img.Height)
	x, cx := patchBatch(img, grid, make([]bool, grid.Len()), vae.SpreadPatches(grid.Rows, grid.Cols, vae.CalibPatchesFor(grid.Len())))
	return m.Calibrate(x, cx, len(cx.Has)).Calib
}

// allPatches returns the indices of all P patches. (Samples of some patches are spread
// over the grid's rows and columns by vae.SpreadPatches.)
func allPatches(P int) []int {
	s := make([]int, P)
	for i := range s {
		s[i] = i
	}
	return s
}

// Probe sizes: one patch in probeEvery, within [minProbe, maxProbe]. The model's pass costs
// about 35 times the fallback coder's per patch (25 ms against 0.7 ms on one core), so one
// patch in 48 keeps the probe within the fallback coder's time on the whole image, which
// runs beside it on another core. Even 6 patches tell a model 10% worse than the fallback
// coder from one that might win; a closer call goes on to the full estimate, which costs
// time but no bytes.
const (
	probeEvery = 48
	minProbe   = 6
	maxProbe   = 64
	// minGain is the predicted saving, as a fraction of the whole-image fallback size, below
	// which the model is not tried: mixed files lose some fallback context at patch borders
	// and the sample's estimate is noisy.
	minGain = 0.02
)

// minModelPatches is the size, in patches, below which the encoder does not try the model:
// there a probe of minProbe patches (about 30 ms each on one core) costs about as much as
// the fallback coder's whole encode (about 1 ms a patch) beside it, and more once the model
// has loaded. Default encode against --coder fallback, best of 3, training stopped (2x
// downscales of the validation photographs, model 5de507cd6d1feabd): 80 patches 3.2x
// (0.30 s against 0.09 s), 150 1.5-1.7x, 160-192 1.1-1.6x, 294-600 1.1-1.3x. Issue 14
// allows 1.5 times where the model loses.
const minModelPatches = 256

// probeSample returns patches to probe spread over the grid's rows and columns, or nil if
// the image is too small for a probe to save anything.
func probeSample(g imageio.Grid) []int {
	P := g.Len()
	n := min(maxProbe, max(minProbe, P/probeEvery))
	if P < 2*n {
		return nil
	}
	return vae.SpreadPatches(g.Rows, g.Cols, n)
}

// gain returns what giving the model the patches ps where it wins would save, in bits:
// model[i] is patch ps[i]'s model cost (taken times factor), fbBits[p] patch p's price in
// the fallback coder's encoding of the whole image.
func gain(ps []int, model, fbBits []float64, factor float64) float64 {
	g := 0.0
	for i, p := range ps {
		g += max(0, fbBits[p]-factor*model[i])
	}
	return g
}

// netGain returns what giving the model all of the patches ps would save, in bits (model
// costs taken times factor; negative if the model loses): the probe's estimate. The probe
// asks whether the model is worth measuring properly at all; summing only the patches
// where it wins, as gain does, counts a few patches' noise as gain: erase_macaque d2's 10
// probe patches cost the model 4.6% more than the fallback coder, yet their wins summed to
// more than 2% of the image, and the full estimate that followed took 4.2 times the
// fallback coder's encode to find nothing.
func netGain(ps []int, model, fbBits []float64, factor float64) float64 {
	g := 0.0
	for i, p := range ps {
		g += fbBits[p] - factor*model[i]
	}
	return g
}

// probePasses reports whether the probe (the model's uncalibrated costs model of the patches
// sample) predicts that the model, calibrated, saves at least minGain+probeMargin of the
// whole image's fallback size wholeBits (P patches) when it codes every patch.
func probePasses(sample []int, model, fbBits []float64, P int, wholeBits float64) bool {
	projected := netGain(sample, model, fbBits, 1-calibAllowance) * float64(P) / float64(len(sample))
	return projected >= (minGain+probeMargin)*wholeBits
}

// probeMargin is how far above minGain the probe's prediction must be for the full
// estimate to run. The estimate takes 2-4 times the fallback coder's encode, so it is only
// worth it where it is likely to find a saving worth having; the probe cannot tell a close
// call from a win: LadyBird decoded by libjpeg probed at 2.3% (model 5de507cd6d1feabd),
// the estimate found 1.98%, and the encode took 2.6 times the fallback coder's for the same
// bytes (issue 14 asks for at most 1.5 times). The photographs where the model wins probed
// at 4.1% (Valendas), 4.2% and 8.6% (appleflower and its 2x downscale) and 6.6% (the
// downscaled Foggy-Trees); the highest of the others was 1.6%.
const probeMargin = 0.01

// calibAllowance is what the calibration (vae.Calib) typically saves on photographs that
// reach the model (decoded JPEGs go through their planes): model 71e20d0f92c1fbc4 saves
// 0.9% (median) and 1.1% (mean) of its -ELBO on the downscaled validation photographs, at
// most 2.8%; 2.4% (median) on the photographs as they are. It was 3% while the calibration
// saved 2-3%: with 6 probe patches that let through images where the model is 5% behind
// (charminar d2, 6.2x the fallback coder's time for nothing).
const calibAllowance = 0.015

// probeCoder returns cd for the probe: on one worker fewer when the fallback coder is coding
// the whole image beside it (cd.Workers 0, see wholeFallback), so that both have a core.
func (cd *Coder) probeCoder() *Coder {
	if cd.Workers >= 1 {
		return cd
	}
	c := *cd
	c.Model = cd.Model.WithEngine(cd.engine(max(1, nn.DefaultWorkers()-1)))
	return &c
}

// modelBits returns the model's -ELBO in bits of patches ps calibrated by cal, each with the
// context it gets when its neighbours are VAE coded too.
func (cd *Coder) modelBits(img *imageio.Image, grid imageio.Grid, ps []int, cal vae.Calib) []float64 {
	x, cx := patchBatch(img, grid, make([]bool, grid.Len()), ps)
	costs := cd.Model.PatchCosts(x, cx, len(ps), cal)
	for i := range costs {
		costs[i] *= 3 * patchPix
	}
	return costs
}

// startWholeFallback starts coding img whole with the fallback coder (a mode-0 payload) in
// its own goroutine and returns a function that waits for the result and what each patch
// of the image cost in it (bits, imageio.Grid order; see fallback.EncodeCosts).
func startWholeFallback(img *imageio.Image) func() ([]byte, []float64, error) {
	var out []byte
	var costs []float64
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		out, costs, err = fallback.EncodeCosts([]byte{payloadVersion, modeFallback}, img.Planes, img.Width, img.Height, img.Depth, imageio.PatchSize)
	}()
	return func() ([]byte, []float64, error) {
		<-done
		return out, costs, err
	}
}

func bytesToWords(b []byte) []uint32 {
	w := make([]uint32, (len(b)+3)/4)
	for i := range w {
		var q [4]byte
		copy(q[:], b[4*i:])
		w[i] = binary.LittleEndian.Uint32(q[:])
	}
	return w
}

func wordsToBytes(w []uint32) []byte {
	b := make([]byte, 4*len(w))
	for i, v := range w {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	return b
}

func (cd *Coder) encodeVAE(img *imageio.Image, grid imageio.Grid, fb []bool, vaeList []int, C int, bits uint, cal vae.Calib, progress func(int, int)) (*rans.Message, int, *schedule, error) {
	clean, err := stackClean(img, grid, fb)
	if err != nil {
		return nil, 0, nil, err
	}
	msg := rans.NewMessageFromWords(C*DefaultLanes, bytesToWords(clean))
	sch := makeSchedule(grid, fb, C)
	inf := cd.newInference()
	inf.SetCalib(cal)
	halves := cd.halfInferences(cal)
	done := grid.Len() - len(vaeList)
	next := 0 // the next chain to start
	run := func(t int, chains []int, m *rans.Message) error {
		st := newStep(inf, m, DefaultLanes, chains, false, bits)
		st.halves = halves
		B := len(chains)
		for b, c := range chains {
			start := sch.start[c]
			if start < 0 {
				start = t
			}
			p := sch.patches[sch.first[c]+sch.n[c]-1-(t-start)]
			putPatch(img, grid, p, st.X, b, B)
			vw, vh := grid.Valid(p)
			st.Valid[b] = [2]int{vw, vh}
			if st.Ctx != nil {
				putContext(img, grid, fb, p, st.Ctx, b)
			}
		}
		return st.run(cd.Scheme)
	}
	for t := 0; ; t++ {
		// Chains without VAE patches start as early as their gap allows, without a step.
		for next < C && sch.n[next] == 0 && sch.canStart(next, t) {
			sch.start[next] = t
			next++
		}
		chains := sch.active(t)
		if len(chains) == 0 && next == C {
			break
		}
		if next < C && sch.canStart(next, t) {
			// Try to start chain next in this step; if the message runs dry during its first
			// pops, redo the step without it.
			saved := msg.Clone()
			err := run(t, append(chains, next), msg)
			if err == nil {
				sch.start[next] = t
				chains = append(chains, next)
				next++
			} else if errors.Is(err, rans.ErrEmpty) && len(chains) > 0 {
				msg = saved
				if err := run(t, chains, msg); err != nil {
					return nil, 0, nil, err
				}
			} else {
				return nil, 0, nil, err
			}
		} else if len(chains) > 0 {
			if err := run(t, chains, msg); err != nil {
				return nil, 0, nil, err
			}
		}
		done += len(chains)
		if progress != nil {
			progress(done, grid.Len())
		}
	}
	return msg, len(clean), sch, nil
}

// Decode decodes a payload into an image of the header's shape.
func (cd *Coder) Decode(h *container.Header, payload []byte, progress func(done, total int)) (*imageio.Image, error) {
	grid := imageio.NewGrid(h.Width, h.Height)
	in, rest, err := parseInfo(payload, grid.Len())
	if err != nil {
		return nil, err
	}
	if in.YCC {
		return decodeYCC(h, rest, in.conv, in.filter)
	}
	img := imageio.New(h.Width, h.Height, h.Color, h.Depth)
	if !in.VAE {
		n, err := fallback.DecodeInto(rest, img.Planes, h.Width, h.Height, h.Depth)
		if err == nil && n != len(rest) {
			err = fmt.Errorf("%w: %d bytes after the fallback stream", ErrCorrupt, len(rest)-n)
		}
		return img, err
	}
	if h.Depth != 8 || (h.Color != imageio.RGB && h.Color != imageio.RGBA) {
		return nil, fmt.Errorf("%w: VAE payload for a %v %d-bit image", ErrCorrupt, h.Color, h.Depth)
	}
	if err := cd.needModel(); err != nil {
		return nil, err
	}
	if in.Version < firstIntVersion {
		cd = cd.float32Coder()
	}
	sch, fb, err := cd.checkInfo(&in, grid, len(rest))
	if err != nil {
		return nil, err
	}
	msg, err := rans.FromBytes(rest[:in.MessageBytes])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if msg.Lanes() != in.Chains*in.Lanes {
		return nil, fmt.Errorf("%w: message has %d lanes, want %d", ErrCorrupt, msg.Lanes(), in.Chains*in.Lanes)
	}
	if err := cd.decodeVAE(img, grid, fb, sch, msg, &in, progress); err != nil {
		return nil, err
	}
	clean, err := cleanBits(msg, in.CleanBytes)
	if err != nil {
		return nil, err
	}
	if err := unstackClean(clean, img.Planes[:3], grid, fb); err != nil {
		return nil, err
	}
	if err := decodeAlpha(rest[in.MessageBytes:], img); err != nil {
		return nil, err
	}
	return img, nil
}

// decodeAlpha decodes the rest of a payload after the RGB planes: the alpha plane's fallback
// stream, if img has one, and nothing more.
func decodeAlpha(rest []byte, img *imageio.Image) error {
	if len(img.Planes) > 3 {
		n, err := fallback.DecodeInto(rest, img.Planes[3:], img.Width, img.Height, 8)
		if err != nil {
			return err
		}
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d trailing payload bytes", ErrCorrupt, len(rest))
	}
	return nil
}

// checkInfo checks what a VAE-mode header asks for (avail bytes follow it) and returns the
// schedule and the fallback patches.
func (cd *Coder) checkInfo(in *Info, grid imageio.Grid, avail int) (*schedule, []bool, error) {
	bits, lanes, C, P := in.LatentBits, in.Lanes, in.Chains, grid.Len()
	if bits < 1 || bits > rans.MaxLatentBits || lanes < 1 || lanes > maxLanes {
		return nil, nil, fmt.Errorf("%w: latent bits %d, lanes %d", ErrCorrupt, bits, lanes)
	}
	if S := cd.Model.Cfg.PixelStages; in.Version >= 3 && len(in.Calib.Scale) != S || !in.Calib.Valid() {
		return nil, nil, fmt.Errorf("%w: calibration %v for a model of %d pixel stages", ErrCorrupt, in.Calib, S)
	}
	if P%8 != 0 && in.Bitmap[P/8]>>(P%8) != 0 {
		return nil, nil, fmt.Errorf("%w: bits set past the last patch", ErrCorrupt)
	}
	fb := in.Fallback(P)
	nVAE := P - in.Clean
	// The encoder writes at most maxChains chains; more would let a small hostile payload
	// run the networks on a huge batch.
	if nVAE == 0 || C < 1 || C > nVAE || C > maxChains || C*lanes > rans.MaxLanes || len(in.Starts) != C {
		return nil, nil, fmt.Errorf("%w: bad payload header (%d VAE patches, C %d)", ErrCorrupt, nVAE, C)
	}
	if C > grid.Cols {
		return nil, nil, fmt.Errorf("%w: %d chains for %d columns of patches", ErrCorrupt, C, grid.Cols)
	}
	sch := makeSchedule(grid, fb, C)
	for c, v := range in.Starts {
		if v > P {
			return nil, nil, fmt.Errorf("%w: chain %d starts at step %d", ErrCorrupt, c, v)
		}
		sch.start[c] = v
	}
	if !sch.validStarts() {
		return nil, nil, fmt.Errorf("%w: chain start steps %v break the decoding order", ErrCorrupt, sch.start)
	}
	if in.MessageBytes > avail || in.CleanBytes > in.MessageBytes {
		return nil, nil, fmt.Errorf("%w: bad payload lengths", ErrCorrupt)
	}
	return sch, fb, nil
}

// decodeVAE undoes encodeVAE's steps in reverse order, writing the VAE patches into img.
func (cd *Coder) decodeVAE(img *imageio.Image, grid imageio.Grid, fb []bool, sch *schedule, msg *rans.Message, in *Info, progress func(int, int)) error {
	inf := cd.newInference()
	inf.SetCalib(in.Calib)
	halves := cd.halfInferences(in.Calib)
	buf := make([]uint16, 3*patchPix)
	P := grid.Len()
	done := in.Clean // the fallback patches come at the end, quickly
	for t := sch.steps() - 1; t >= 0; t-- {
		chains := sch.active(t)
		if len(chains) == 0 {
			continue // only in a payload with needlessly late starts
		}
		st := newStep(inf, msg, in.Lanes, chains, true, uint(in.LatentBits))
		st.halves = halves
		B := len(chains)
		for b, c := range chains {
			p := sch.patch(c, t)
			vw, vh := grid.Valid(p)
			st.Valid[b] = [2]int{vw, vh}
			if st.Ctx != nil {
				// The patch above and the one to the left were decoded in earlier steps.
				putContext(img, grid, fb, p, st.Ctx, b)
			}
		}
		if err := st.run(cd.Scheme); err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		for b, c := range chains {
			for ch := 0; ch < 3; ch++ {
				src := st.X[(ch*B+b)*patchPix : (ch*B+b+1)*patchPix]
				for i, v := range src {
					buf[ch*patchPix+i] = uint16(v)
				}
			}
			grid.Insert(img.Planes[:3], sch.patch(c, t), buf)
		}
		done += B
		if progress != nil {
			progress(done, P)
		}
	}
	return nil
}

// cleanBits returns what the message must hold after the last patch: the clean bits, n
// bytes zero-padded to whole words.
func cleanBits(msg *rans.Message, n int) ([]byte, error) {
	words, err := msg.Words()
	if err != nil {
		return nil, fmt.Errorf("%w: message not exhausted after the last patch", ErrCorrupt)
	}
	b := wordsToBytes(words)
	if len(b) < n || len(b) > n+3 {
		return nil, fmt.Errorf("%w: %d bytes of clean bits, want %d", ErrCorrupt, len(b), n)
	}
	for _, v := range b[n:] {
		if v != 0 {
			return nil, fmt.Errorf("%w: non-zero padding after the clean bits", ErrCorrupt)
		}
	}
	return b[:n], nil
}

// padCalib returns c with values for all S stages.
func padCalib(c vae.Calib, S int) vae.Calib {
	out := vae.Calib{Scale: make([]int8, S), Anchor: make([]int8, S), Colour: make([][3]int8, S), Mix: make([]int8, S), AnchorScale: make([]int8, S)}
	copy(out.Scale, c.Scale)
	copy(out.Anchor, c.Anchor)
	copy(out.Colour, c.Colour)
	copy(out.Mix, c.Mix)
	copy(out.AnchorScale, c.AnchorScale)
	return out
}

// putPatch writes patch p of img's RGB planes (padded by edge replication) as entry b of the
// planar 8-bit batch x ([3][B][32][32]), cut by vae.PutPatch as for training.
func putPatch(img *imageio.Image, grid imageio.Grid, p int, x []uint8, b, B int) {
	x0, y0 := grid.Origin(p)
	vae.PutPatch(x, B, b, img.Planes, img.Width, img.Height, x0, y0, false)
}

// PatchNegELBO returns the model's -ELBO in bits per subpixel over the padded VAE-coded
// patches of an 8-bit RGB(A) image when the patches marked in fb (nil: none) go to the
// fallback coder, with the context the coders give them and the calibration cal.
func PatchNegELBO(m *vae.Model, img *imageio.Image, fb []bool, cal vae.Calib) float64 {
	grid := imageio.NewGrid(img.Width, img.Height)
	if fb == nil {
		fb = make([]bool, grid.Len())
	}
	var ps []int
	for p := range grid.Len() {
		if !fb[p] {
			ps = append(ps, p)
		}
	}
	x, cx := patchBatch(img, grid, fb, ps)
	return m.NegELBOCalibrated(x, cx, len(ps), cal).BPD
}

// patchBatch returns the patches ps of img as a planar 8-bit batch ([3][len(ps)][32][32])
// with the context each gets when the patches marked in fb go to the fallback coder.
func patchBatch(img *imageio.Image, grid imageio.Grid, fb []bool, ps []int) ([]uint8, *vae.Context) {
	n := len(ps)
	x := make([]uint8, 3*n*patchPix)
	cx := vae.NewContext(n)
	for i, p := range ps {
		putPatch(img, grid, p, x, i, n)
		putContext(img, grid, fb, p, cx, i)
	}
	return x, cx
}
