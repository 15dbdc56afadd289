// Package bbcore is the machinery that the two bits-back coders (packages bbans and bitswap)
// share: the schedule of an image's patches over interleaved chains, the clean bits that
// seed the stack, the payload format, and the symbol-level operations (pop or push a latent
// layer, the top prior, the pixels) for a batch of patches. The coders themselves only say
// in which order those operations happen.
package bbcore

import (
	"fmt"

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

	Z   []*nn.Tensor // latent values per layer (bin centres), [ZC][B][16][16]
	idx [][]int32    // bin index per layer, [B][ZC*256]

	bins  *rans.Bins
	model *vae.Model
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
// batch entry b in layer l, from raw network outputs (means, then raw scales).
func (s *Step) latent(l, b, j int, params *nn.Tensor) rans.Latent {
	zc := s.model.Cfg.ZC
	B := s.B()
	ch, pos := j/latentHW, j%latentHW
	mu := float64(params.Data[(ch*B+b)*latentHW+pos])
	sc := vae.LatentScale(params.Data[((zc+ch)*B+b)*latentHW+pos])
	ref := s.model.Bins[l*zc+ch]
	return s.bins.Latent(mu, sc, ref.M, ref.S, LatentPrec)
}

func (s *Step) topLatent(l, j int) rans.Latent {
	zc := s.model.Cfg.ZC
	ref := s.model.Bins[l*zc+j/latentHW]
	return s.bins.Latent(0, 1, ref.M, ref.S, LatentPrec)
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

// PopLatent pops layer l (0-based: layer 0 is z_1) of every active chain under the
// distribution given by params (a posterior or prior network output), filling Z[l].
func (s *Step) PopLatent(l int, params *nn.Tensor) error {
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

// PushLatent pushes layer l of every active chain (as recorded by the last PopLatent of that
// layer) under the distribution given by params.
func (s *Step) PushLatent(l int, params *nn.Tensor) {
	n := s.model.Cfg.ZC * latentHW
	zc := s.model.Cfg.ZC
	for _, b := range s.order() {
		ix := s.idx[l][b*zc*latentHW:]
		for e := 0; e < n; e++ {
			s.Msg.PushSym(s.lane(b, e), s.latent(l, b, e, params), int(ix[e]))
		}
	}
}

// PushTop pushes the top layer l under the prior, the standard logistic.
func (s *Step) PushTop(l int) {
	n := s.model.Cfg.ZC * latentHW
	zc := s.model.Cfg.ZC
	for _, b := range s.order() {
		ix := s.idx[l][b*zc*latentHW:]
		for e := 0; e < n; e++ {
			s.Msg.PushSym(s.lane(b, e), s.topLatent(l, e), int(ix[e]))
		}
	}
}

// PopTop pops the top layer l under the standard logistic prior.
func (s *Step) PopTop(l int) error {
	s.ensureLayer(l)
	n := s.model.Cfg.ZC * latentHW
	for _, b := range s.order() {
		for e := n - 1; e >= 0; e-- {
			j, err := s.Msg.PopSym(s.lane(b, e), s.topLatent(l, e))
			if err != nil {
				return err
			}
			s.setZ(l, b, e, j)
		}
	}
	return nil
}

const patchPix = vae.PatchSize * vae.PatchSize

// pixelDist returns the distribution of channel c of pixel p of entry b, given the pixel
// network outputs and the channels of that pixel already known in X.
func (s *Step) pixelDist(c, b, p int, mean, ls, coef *nn.Tensor) rans.Logistic {
	B := s.B()
	var mm, ll, cc [3]float32
	var x [3]uint8
	for k := 0; k < 3; k++ {
		i := (k*B+b)*patchPix + p
		mm[k], ll[k], cc[k] = mean.Data[i], ls.Data[i], coef.Data[i]
		if k < c {
			x[k] = s.X[i]
		}
	}
	mu, sc := vae.PixelLogistic(c, mm, ll, cc, x)
	return rans.NewLogistic(mu, sc, PixelPrec)
}

// PushPixels pushes the real (unpadded) pixels of every active chain's patch: channel B,
// then G, then R, each in raster order, so that the decoder pops R first.
func (s *Step) PushPixels(mean, ls, coef *nn.Tensor) {
	B := s.B()
	for _, b := range s.order() {
		vw, vh := s.Valid[b][0], s.Valid[b][1]
		i := 0
		for c := 2; c >= 0; c-- {
			for y := 0; y < vh; y++ {
				for x := 0; x < vw; x++ {
					p := y*vae.PatchSize + x
					s.Msg.PushSym(s.lane(b, i), s.pixelDist(c, b, p, mean, ls, coef), int(s.X[(c*B+b)*patchPix+p]))
					i++
				}
			}
		}
	}
}

// PopPixels pops the real pixels of every active chain's patch into X (R, then G, then B)
// and rebuilds the padding by edge replication.
func (s *Step) PopPixels(mean, ls, coef *nn.Tensor) error {
	B := s.B()
	for _, b := range s.order() {
		vw, vh := s.Valid[b][0], s.Valid[b][1]
		i := 3*vw*vh - 1
		for c := 0; c < 3; c++ {
			for y := vh - 1; y >= 0; y-- {
				for x := vw - 1; x >= 0; x-- {
					p := y*vae.PatchSize + x
					v, err := s.Msg.PopSym(s.lane(b, i), s.pixelDist(c, b, p, mean, ls, coef))
					if err != nil {
						return err
					}
					s.X[(c*B+b)*patchPix+p] = uint8(v)
					i--
				}
			}
			padPatch(s.X[(c*B+b)*patchPix:(c*B+b+1)*patchPix], vw, vh)
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

// Scheme is a bits-back coding order: how one patch is coded with the model.
type Scheme interface {
	// EncodeStep codes the patches in s.X onto s.Msg.
	EncodeStep(s *Step) error
	// DecodeStep exactly undoes EncodeStep, writing the patches into s.X.
	DecodeStep(s *Step) error
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
	return s
}

func (s *Step) String() string {
	return fmt.Sprintf("step(chains %v, decode %v)", s.Chains, s.Decode)
}
