package train

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"

	"github.com/bitswap-codec/bitswap/fallback"
	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/vae/data"
)

// validation evaluates averaged weights on the fixed validation patches, with a model of its
// own.
type validation struct {
	m      *vae.Model
	params [][]float32 // m.Params
	imgs   []*data.RGB
	refs   []data.PatchRef
}

// newValidation returns the validation of models like m on the patches refs of imgs.
func newValidation(m *vae.Model, imgs []*data.RGB, refs []data.PatchRef) (*validation, error) {
	p, _ := m.Params()
	vm, err := vae.ModelFromParams(m.Cfg, p, m.Bins)
	if err != nil {
		return nil, err
	}
	v := &validation{m: vm, imgs: imgs, refs: refs}
	v.params, _ = vm.Params()
	return v, nil
}

// run returns the -ELBO of the model with the parameters params: the mean over the
// validation images of each one's mean over its patches.
func (v *validation) run(params [][]float32) vae.Stats {
	for i := range v.params {
		copy(v.params[i], params[i])
	}
	v.m.Refresh()
	p := v.m.NewPass()
	total := vae.Stats{KL: make([]float64, v.m.Cfg.Layers)}
	images := 0
	for i := 0; i < len(v.refs); images++ {
		j := i + 1
		for j < len(v.refs) && v.refs[j].Img == v.refs[i].Img {
			j++
		}
		total.Add(evaluate(p, v.imgs, v.refs[i:j], 64, 12345), 1)
		i = j
	}
	total.Scale(1 / float64(max(1, images)))
	return total
}

// Evaluate returns the mean -ELBO statistics of model m over the given patches, in batches,
// with latent noise from a fixed seed.
func Evaluate(m *vae.Model, imgs []*data.RGB, refs []data.PatchRef, batch int, seed uint64) vae.Stats {
	return evaluate(m.NewPass(), imgs, refs, batch, seed)
}

// evaluate is Evaluate on the pass p.
func evaluate(p *vae.Pass, imgs []*data.RGB, refs []data.PatchRef, batch int, seed uint64) vae.Stats {
	rng := rand.New(rand.NewPCG(seed, 77))
	total := vae.Stats{}
	for done := 0; done < len(refs); {
		n := min(batch, len(refs)-done)
		total.Add(p.Loss(data.BatchOf(imgs, refs[done:done+n]), rng), float64(n))
		done += n
	}
	total.Scale(1 / float64(max(1, len(refs))))
	return total
}

// ImageStats is the -ELBO of one image over its aligned 32x32 patches (the image cropped to
// multiples of 32, the bench's protocol).
type ImageStats struct {
	Name    string
	Patches int
	vae.Stats
	// Calibrated is the -ELBO in bits per subpixel with the image's Calib chosen on
	// CalibPatchesFor spread patches (as the encoder does).
	Calibrated float64
	Calib      vae.Calib
	// Fallback is the fallback coder's bits per subpixel on the same crop (FallbackBPD).
	Fallback float64
}

// FallbackBPD returns the bits per subpixel of the fallback coder on im cropped to
// multiples of 32, coded as the payloads code it: RGB planes together (mode 1), Y'CbCr
// planes as mode 2 does, Y' on its own, then Cb and Cr at the resolution their repetition
// flags give, and with ChromaKnown Y' alone (still per subpixel of all three colours, the
// unit of the model's -ELBO).
func FallbackBPD(im *data.RGB) float64 {
	w, h := im.W/vae.PatchSize*vae.PatchSize, im.H/vae.PatchSize*vae.PatchSize
	plane := func(c, dx, dy int) []uint16 {
		src := im.Planes()[c]
		cw, ch := (w+dx-1)/dx, (h+dy-1)/dy
		p := make([]uint16, 0, cw*ch)
		for y := 0; y < h; y += dy {
			for x := 0; x < w; x += dx {
				p = append(p, uint16(src[y*im.W+x]))
			}
		}
		return p
	}
	bits := 0
	code := func(planes [][]uint16, dx, dy int) {
		b, err := fallback.Encode(nil, planes, (w+dx-1)/dx, (h+dy-1)/dy, 8)
		if err != nil {
			panic(err) // the sizes are valid
		}
		bits += 8 * len(b)
	}
	switch {
	case !im.YCC:
		code([][]uint16{plane(0, 1, 1), plane(1, 1, 1), plane(2, 1, 1)}, 1, 1)
	default:
		code([][]uint16{plane(0, 1, 1)}, 1, 1)
		if im.Flags&vae.ChromaKnown == 0 {
			dx, dy := 1, 1
			if im.Flags&vae.RepX != 0 {
				dx = 2
			}
			if im.Flags&vae.RepY != 0 {
				dy = 2
			}
			code([][]uint16{plane(1, dx, dy), plane(2, dx, dy)}, dx, dy)
		}
	}
	return float64(bits) / float64(3*w*h)
}

// EvaluateImages returns the -ELBO of m on every image (cropped to multiples of 32). With
// stride > 1 only one patch in stride of each image is used, spread over its rows and
// columns (vae.SpreadPatches); the calibration is chosen on a sample picked the way the
// encoder picks its own (CalibPatchesFor patches, SpreadPatches; the encoder's grid is
// the padded image's).
func EvaluateImages(m *vae.Model, imgs []*data.RGB, stride int, progress func(done, total int)) []ImageStats {
	var out []ImageStats
	for i, im := range imgs {
		one := []*data.RGB{im}
		all := data.GridPatches(one, 1, 0)
		rows, cols := im.H/vae.PatchSize, im.W/vae.PatchSize
		refs := pick(all, vae.SpreadPatches(rows, cols, (len(all)+stride-1)/stride))
		if len(refs) == 0 {
			continue
		}
		n := len(refs)
		bt := data.BatchOf(one, refs)
		sample := data.BatchOf(one, pick(all, vae.SpreadPatches(rows, cols, vae.CalibPatchesFor(len(all)))))
		cal := m.Calibrate(sample.X, sample.Ctx, sample.B)
		st := ImageStats{Name: im.Name, Patches: n, Stats: m.NegELBO(bt.X, bt.Ctx, n), Calib: cal.Calib}
		st.Calibrated = m.NegELBOCalibrated(bt.X, bt.Ctx, n, cal.Calib).BPD
		st.Fallback = FallbackBPD(im)
		out = append(out, st)
		if progress != nil {
			progress(i+1, len(imgs))
		}
	}
	return out
}

// pick returns refs[i] for each i of idx.
func pick(refs []data.PatchRef, idx []int) []data.PatchRef {
	out := make([]data.PatchRef, len(idx))
	for k, i := range idx {
		out[k] = refs[i]
	}
	return out
}

// valFingerprint identifies a validation set by its images' names and sizes (and how it is
// scored: a mean over images since run s6's session 13).
func valFingerprint(imgs []*data.RGB) string {
	h := sha256.New()
	fmt.Fprintf(h, "mean over images\n")
	for _, im := range imgs {
		fmt.Fprintf(h, "%s %d %d\n", im.Name, im.W, im.H)
	}
	return fmt.Sprintf("%x", h.Sum(nil)[:8])
}
