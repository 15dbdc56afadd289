// Package bbcore is the machinery that the two bits-back coders (packages bbans and bitswap)
// share: the schedule of an image's patches over interleaved chains, the clean bits that
// seed the stack, the payload format, and the operations (pop or push a latent layer under
// its posterior or prior, push the pixels) on a batch of patches. A coder is only the list of
// those operations in the encoder's order (a Scheme); the decoder runs it backwards.
package bbcore

import (
	"fmt"
	"slices"
	"sync"

	"github.com/bitswap-codec/bitswap/rans"
	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/vae/nn"
)

// Coding precisions (bits of the total frequency 2^prec).
const (
	LatentPrec = 24
	PixelPrec  = 24
)

// Step is the work of one step of the schedule: one patch of every active chain, in a batch.
// Batch entry b belongs to chain Chains[b]. The encoder's operations visit the chains in
// increasing order and the decoder's in decreasing order, so that each decoder operation
// exactly undoes the encoder's; within a chain a pop runs its symbols last to first and a
// push first to last (see package rans).
type Step struct {
	Inf    *vae.Inference
	Msg    *rans.Message
	Lanes  int   // lanes per chain: chain c uses lanes [c*Lanes, (c+1)*Lanes)
	Chains []int // active chains, in increasing order
	Decode bool  // decoder step: chains are visited in decreasing order

	// X holds the patches, [3][B][32][32]: the encoder's input (padding included); the
	// decoder writes the decoded patches here (and rebuilds the padding).
	X []uint8
	// Valid is the size of the real (unpadded) part of each patch.
	Valid [][2]int
	// Ctx is the patches' context (filled by the coder; nil for a model without context).
	Ctx *vae.Context

	Z   []*nn.Tensor // latent values per layer (bin centres), [ZC][B][16][16]
	idx [][]int32    // bin index per layer, [B][ZC*256]

	bins  *rans.Bins
	model *vae.Model
	// halves, when set, are two more Inferences of the model for the pipeline (see
	// pipeline.go).
	halves [2]*vae.Inference
	pix0   *nn.Tensor // the encoder's stage-0 parameters, from its first pixel phase
	// par, when set, runs pushParallel's symbol computations instead of Inf: a half of the
	// pipeline runs its networks on one worker, but its coding may use them all.
	par *vae.Inference
}

// B returns the batch size.
func (s *Step) B() int { return len(s.Chains) }

func (s *Step) order() []int {
	n := len(s.Chains)
	o := make([]int, n)
	for i := range o {
		if s.Decode {
			o[i] = n - 1 - i
		} else {
			o[i] = i
		}
	}
	return o
}

func (s *Step) lane(b, i int) int { return s.Chains[b]*s.Lanes + i%s.Lanes }

const latentHW = vae.LatentHW * vae.LatentHW

// latent returns the discretized logistic of element j (channel-major: j = ch*256 + pos) of
// batch entry b in layer l, from raw network outputs (means, then raw scales), or the
// standard logistic (the top layer's prior) for nil params.
func (s *Step) latent(l, b, j int, params *nn.Tensor) rans.Latent {
	zc := s.model.Cfg.ZC
	ch, pos := j/latentHW, j%latentHW
	ref := s.model.Bins[l*zc+ch]
	if params == nil {
		return s.bins.Latent(0, 1, ref.M, ref.S, LatentPrec)
	}
	B := s.B()
	mu := float64(params.Data[(ch*B+b)*latentHW+pos])
	sc := vae.LatentScale(params.Data[((zc+ch)*B+b)*latentHW+pos])
	return s.bins.Latent(mu, sc, ref.M, ref.S, LatentPrec)
}

func (s *Step) ensureLayer(l int) {
	zc := s.model.Cfg.ZC
	B := s.B()
	if s.Z[l] == nil {
		s.Z[l] = nn.NewTensor(zc, B, vae.LatentHW, vae.LatentHW)
		s.idx[l] = make([]int32, B*zc*latentHW)
	}
}

// setZ records bin j for element e of entry b of layer l and its centre value.
func (s *Step) setZ(l, b, e int, j int) {
	zc := s.model.Cfg.ZC
	B := s.B()
	s.idx[l][b*zc*latentHW+e] = int32(j)
	ch, pos := e/latentHW, e%latentHW
	ref := s.model.Bins[l*zc+ch]
	s.Z[l].Data[(ch*B+b)*latentHW+pos] = float32(s.bins.Centre(j, ref.M, ref.S))
}

// popLatent pops layer l (0-based: layer 0 is z_1) of every active chain under the
// distribution given by params (a posterior or prior network output, or nil for the standard
// logistic), filling Z[l].
func (s *Step) popLatent(l int, params *nn.Tensor) error {
	s.ensureLayer(l)
	n := s.model.Cfg.ZC * latentHW
	for _, b := range s.order() {
		for e := n - 1; e >= 0; e-- {
			j, err := s.Msg.PopSym(s.lane(b, e), s.latent(l, b, e, params))
			if err != nil {
				return err
			}
			s.setZ(l, b, e, j)
		}
	}
	return nil
}

// pushLatent pushes layer l of every active chain (as recorded by the last popLatent of that
// layer) under the distribution given by params (as for popLatent).
func (s *Step) pushLatent(l int, params *nn.Tensor) {
	n := s.model.Cfg.ZC * latentHW
	zc := s.model.Cfg.ZC
	s.pushParallel(LatentPrec, func(b int, sf [][2]uint32) [][2]uint32 {
		ix := s.idx[l][b*zc*latentHW:]
		for e := 0; e < n; e++ {
			st, f := s.latent(l, b, e, params).Encode(int(ix[e]))
			sf = append(sf, [2]uint32{st, f})
		}
		return sf
	})
}

// pushParallel computes the (start, freq) of every active chain's symbols on the workers of
// the step's Inference (the distributions are pure functions), then pushes them one chain
// after another in the coding order; gen returns entry b's symbols in push order. The message
// receives exactly the pushes of a sequential loop.
func (s *Step) pushParallel(prec uint, gen func(b int, sf [][2]uint32) [][2]uint32) {
	syms := make([][][2]uint32, s.B())
	par := s.Inf
	if s.par != nil {
		par = s.par
	}
	par.Parallel(len(syms), 1, func(_, lo, hi int) {
		for b := lo; b < hi; b++ {
			syms[b] = gen(b, nil)
		}
	})
	for _, b := range s.order() {
		for i, sf := range syms[b] {
			s.Msg.Push(s.lane(b, i), sf[0], sf[1], prec)
		}
	}
}

const patchPix = vae.PatchSize * vae.PatchSize

// pixelDist returns the distribution of colour c of the pixel at squeezed position pos of
// group gi of entry b under the parameters P of stage st, given the colours of that pixel
// before c (already in X): a rans.Logistic, or for a model with the pixel mixture (isMix) a
// rans.Mixture whose weights, means and scales live in comp (see vae.PixelComponents).
// (Two results rather than a rans.Dist: an interface value would be allocated for every
// pixel.)
// ps (nil: none) carries work from the pixel's colour c-1 to c (vae.PixelState).
func (s *Step) pixelDist(st int, P *nn.Tensor, gi, b, pos, xy, c int, comp *vae.Components, ps *vae.PixelState) (lg rans.Logistic, mx rans.Mixture, isMix bool) {
	B := s.B()
	var x [3]uint8
	for k := 0; k < c; k++ {
		x[k] = s.X[(k*B+b)*patchPix+xy]
	}
	s.Inf.PixelComponentsFrom(st, P, gi, b, pos, c, x, comp, ps)
	if comp.K == 1 {
		return rans.NewLogistic(comp.Mu[0], comp.S[0], PixelPrec), mx, false
	}
	return lg, rans.NewMixture(comp.W[:comp.K], comp.Mu[:comp.K], comp.S[:comp.K], PixelPrec), true
}

// stagePixels lists, for entry b, the real pixels of stage st in coding order (group, then
// squeezed position): their group index, squeezed position and offset in a 32x32 plane.
func (s *Step) stagePixels(st, b int) (gis, poss, xys []int) {
	vw, vh := s.Valid[b][0], s.Valid[b][1]
	parity := vae.StageParity(s.model.Cfg.PixelStages, st)
	for gi, k := range vae.StageGroups(s.model.Cfg.PixelStages, st) {
		for pos := 0; pos < latentHW; pos++ {
			if !vae.InStage(parity, pos) {
				continue
			}
			y, x := 2*(pos/vae.LatentHW)+k/2, 2*(pos%vae.LatentHW)+k%2
			if y < vh && x < vw {
				gis, poss, xys = append(gis, gi), append(poss, pos), append(xys, y*vae.PatchSize+x)
			}
		}
	}
	return
}

// colours returns how many colours of entry b's pixels the step codes: 3, or 1 (R, the Y' of
// Y'CbCr planes) when its chroma is known before (vae.ChromaKnown; the coder puts it in X).
func (s *Step) colours(b int) int {
	if s.Ctx != nil && s.Ctx.Has[b]&vae.ChromaKnown != 0 {
		return 1
	}
	return 3
}

// pushStage pushes the real (unpadded) pixels of stage st of every active chain's patch
// under the stage's parameters P: colour B, then G, then R, so that the decoder pops R
// first (R alone where the chroma is known). The encoder pushes the last stage first.
func (s *Step) pushStage(st int, P *nn.Tensor) {
	B := s.B()
	s.pushParallel(PixelPrec, func(b int, sf [][2]uint32) [][2]uint32 {
		gis, poss, xys := s.stagePixels(st, b)
		var comp vae.Components
		// The colours' distributions in the decoder's order (R, G, B, each pixel's state
		// carried to its next colour), pushed B first.
		n, nc := len(gis), s.colours(b)
		base := len(sf)
		sf = slices.Grow(sf, nc*n)[:base+nc*n]
		psp := pixelStates.Get().(*[]vae.PixelState)
		defer pixelStates.Put(psp)
		if cap(*psp) < n {
			*psp = make([]vae.PixelState, n)
		}
		ps := (*psp)[:n]
		clear(ps)
		for c := 0; c < nc; c++ {
			for j := range gis {
				lg, mx, isMix := s.pixelDist(st, P, gis[j], b, poss[j], xys[j], c, &comp, &ps[j])
				v := int(s.X[(c*B+b)*patchPix+xys[j]])
				var start, f uint32
				if isMix {
					start, f = mx.Encode(v)
				} else {
					start, f = lg.Encode(v)
				}
				sf[base+(nc-1-c)*n+j] = [2]uint32{start, f}
			}
		}
		return sf
	})
}

// pixelStates recycles the encoder's per-pixel states (a patch's stage has up to 256
// pixels, a few hundred bytes each): pushStage runs once per patch and stage, on any worker.
var pixelStates = sync.Pool{New: func() any { return new([]vae.PixelState) }}

// padPatches rebuilds the padding of the decoded patches in X by edge replication.
func (s *Step) padPatches() {
	B := s.B()
	for b := 0; b < B; b++ {
		for c := 0; c < 3; c++ {
			padPatch(s.X[(c*B+b)*patchPix:(c*B+b+1)*patchPix], s.Valid[b][0], s.Valid[b][1])
		}
	}
}

// stageParams runs the network of pixel stage st on the step's Inference: p(x | z_1) for
// stage 0, the stage network given the pixels in X for the others.
func (s *Step) stageParams(st int) *nn.Tensor {
	if st == 0 {
		return s.Inf.PixelStage0(s.Z[0])
	}
	return s.Inf.PixelStage(st, s.X, s.Valid, s.Ctx)
}

// popStage pops the pixels of stage st of every active chain's patch into X under the
// stage's parameters P (from the step's Inference): R, then G, then B (R alone where the
// chroma is known: the coder has put it in X).
func (s *Step) popStage(st int, P *nn.Tensor) error {
	B := s.B()
	if st == 0 {
		for b := 0; b < B; b++ {
			for c := 0; c < s.colours(b); c++ {
				clear(s.X[(c*B+b)*patchPix : (c*B+b+1)*patchPix])
			}
		}
	}
	var comp vae.Components
	var ps []vae.PixelState
	for _, b := range s.order() {
		gis, poss, xys := s.stagePixels(st, b)
		if cap(ps) < len(gis) {
			ps = make([]vae.PixelState, len(gis))
		}
		ps = ps[:len(gis)]
		clear(ps)
		nc := s.colours(b)
		i := nc*len(gis) - 1
		for c := 0; c < nc; c++ {
			for j := len(gis) - 1; j >= 0; j-- {
				lg, mx, isMix := s.pixelDist(st, P, gis[j], b, poss[j], xys[j], c, &comp, &ps[j])
				var v int
				var err error
				if isMix {
					v, err = s.Msg.PopSym(s.lane(b, i), mx)
				} else {
					v, err = s.Msg.PopSym(s.lane(b, i), lg)
				}
				if err != nil {
					return err
				}
				s.X[(c*B+b)*patchPix+xys[j]] = uint8(v)
				i--
			}
		}
	}
	return nil
}

// padPatch fills the samples of a 32x32 patch outside its vw x vh real part by edge
// replication (as imageio pads images).
func padPatch(p []uint8, vw, vh int) {
	const P = vae.PatchSize
	for y := 0; y < P; y++ {
		sy := min(y, vh-1)
		row := p[y*P : (y+1)*P]
		if sy != y {
			copy(row[:vw], p[sy*P:sy*P+vw])
		}
		last := row[vw-1]
		for x := vw; x < P; x++ {
			row[x] = last
		}
	}
}

func newStep(inf *vae.Inference, msg *rans.Message, lanes int, chains []int, decode bool, bits uint) *Step {
	m := inf.Model()
	s := &Step{
		Inf: inf, Msg: msg, Lanes: lanes, Chains: chains, Decode: decode,
		X:     make([]uint8, 3*len(chains)*patchPix),
		Valid: make([][2]int, len(chains)),
		Z:     make([]*nn.Tensor, m.Cfg.Layers),
		idx:   make([][]int32, m.Cfg.Layers),
		bins:  rans.LatentBins(bits),
		model: m,
	}
	if m.Cfg.Context {
		s.Ctx = vae.NewContext(len(chains))
	}
	return s
}

func (s *Step) String() string {
	return fmt.Sprintf("step(chains %v, decode %v)", s.Chains, s.Decode)
}
