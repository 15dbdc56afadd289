// Package vae is the hierarchical VAE of Bit-Swap (Kingma, Abbeel, Ho 2019) over 32x32 RGB
// patches: its networks, its training objective (-ELBO in bits per dimension) and gradients,
// deterministic inference for the coders, and weight (de)serialization.
//
// The model: the patch x (3x32x32) is squeezed 2x2 to 12x16x16. There are L latent layers
// z_1..z_L, each ZC x 16 x 16. Inference is a Markov chain q(z_1|x) q(z_2|z_1) ... q(z_L|z_{L-1})
// and so is the generative model p(z_L) p(z_{L-1}|z_L) ... p(z_1|z_2) p(x|z_1), which is what
// lets Bit-Swap code layer by layer. Every latent conditional is a logistic with mean mu and
// scale 0.1 + 0.9*sigmoid(h+2); the top prior is the standard logistic. p(x|z_1) is a
// discretized logistic per subpixel with PixelCNN++-style linear conditioning of G on R and of
// B on R and G (parallel over pixels, sequential over the three channels), coded in pixel
// stages (Config.PixelStages): the default 7-stage plan codes one pixel of every 4x4 block
// from z_1 and the rest coarse to fine, each later stage predicted by a small network plus a
// linear skip from the pixels already known and hand-computed hints (interpolations and
// local activity, Config.StageHints).
//
// Training is package vae/train and its images and crops package vae/data; params.go holds
// the little this package exports for them (the parameters and their gradients, a model built
// from parameters, loss passes with gradients).
package vae

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/vae/nn"
)

// Patch geometry.
const (
	PatchSize = imageio.PatchSize
	LatentHW  = PatchSize / 2 // latents and all networks work at 16x16
	Subpixels = 3 * PatchSize * PatchSize
)

// Config is the model architecture.
type Config struct {
	Layers    int   // number of latent layers L
	ZC        int   // channels per latent layer
	Width     int   // hidden width of every network
	BlocksInf []int // residual blocks of inference net i (len Layers)
	BlocksGen []int // residual blocks of generative net i (len Layers): net 0 outputs p(x|z_1)
	InKernel  int   // kernel size of the input conv of the pixel-side nets (inference 0)

	// PixelStages splits the four pixels of every 2x2 block into stages coded one after the
	// other (1, 2 or 4; see StageGroups); stage s > 0 is predicted by network Stage[s-1]
	// from the pixel network's features and the pixels of the earlier stages. 7 stages
	// (CoarseStages) further split the top-left pixels of the 2x2 blocks by the parity of
	// their block: stage 0 codes only every 4th pixel of every 4th row from the latents,
	// stages 1-3 interpolate the rest of that grid, and stages 4-6 are the 4-stage plan's
	// stages 1-3.
	PixelStages int
	StageBlocks int // residual blocks of each stage network
	// FineBlocks (coarse plans) gives the stage networks of the four finest stages (the
	// other sub-positions of the 2x2 blocks: three quarters of the pixels and about 70% of
	// the bits) that many more residual blocks than StageBlocks.
	FineBlocks int
	// FineStages is how many of the finest stages get the FineBlocks (0 means 4; up to all
	// but stage 0): the diagonal and coarser stages cost more than the fallback coder pays
	// for the same pixels, so they may want the depth too.
	FineStages int
	// StageSkip adds to each stage network a linear 3x3 convolution of the known pixels
	// (Model.Skip), initialized to interpolate the pixel's nearest known neighbours, so
	// that a later stage starts from a good guess on smooth content (4 stages or a coarse
	// plan).
	StageSkip bool
	// StageHints gives every stage network of the coarse plan four more input channels,
	// computed from the known pixels: per colour the mean of the pixel's interpolation
	// neighbours that lie inside the patch, and the log of the local activity (activity
	// floor plus the mean absolute difference of the opposite pairs of those neighbours).
	// The skip starts from them: means from the interpolations (also at the patch border,
	// where a zero-padded convolution cannot interpolate), log-scales from the activity,
	// so that a new model starts with a scale that follows the content.
	StageHints bool
	// EdgeHints adds six more hint channels (needs StageHints): per colour the edge-directed
	// interpolation (the means of the two opposite neighbour pairs weighted by the inverse
	// of their colour-summed differences), the log of the same weighting of the pairs'
	// activities, and the log activity of each pair. The skips start from the edge-directed
	// channels: along an edge or on content that is constant in one direction (vertical
	// wood grain) the pixel is predicted from the pair that agrees.
	EdgeHints bool
	// PosChannels gives every stage network (and skip) of a coarse plan eight more input
	// channels: the position of each 2x2 block in its 8x8 pixel block, one-hot by row and by
	// column (y%4 and x%4 in squeezed space). Patches start at multiples of 32 in the image,
	// so the channels tell where the 8x8 blocks of a JPEG source (or the 4x4 transforms of a
	// lossy WebP) have their edges; training then samples crops aligned to 8 pixels
	// (data.Sampler.Align in vae/data) so that they mean the same in every crop.
	PosChannels bool
	// Context lets the pixel stages after stage 0 condition on the pixels just outside the
	// patch that a raster-order decoder already has: the two rows above and the two columns
	// to the left (see Context). The hints use them as interpolation taps, and the stage
	// networks and skips get ctxChannels more input channels (the row above and the column to
	// the left on the patch border, and whether they are there).
	Context bool
	// Mixture makes every pixel's distribution (coarse plans) a mixture of two discretized
	// logistics with the same mean: the plain one and a second with its own scale and
	// weight (MixParams more outputs per pixel). A narrow second component says "exactly the
	// predicted value, most likely" while the first keeps the tails: content that repeats
	// exactly (flat renderings, the runs of the wood grain) or jumps costs less than under
	// one logistic, which must pick one scale for both.
	Mixture bool
	// Anchors (needs Mixture and EdgeHints) adds to the pixels of every stage after stage 0
	// more mixture components, one per interpolation tap (and extra tap), each a narrow
	// logistic at that known neighbour's exact value, with one set of weights per pixel
	// shared by its three colours (AnchorParams more outputs). The mixture is over whole pixels: the base
	// component (the two-component mixture above, colours conditioned on each other) or
	// "a copy of tap k", so once R has shown which neighbour the pixel copies, G and B are
	// nearly free. Coding is sequential over the colours with the components' posterior
	// weights, still parallel over pixels. Meant for exact repetition that a mean from the
	// neighbours cannot express: runs down the columns of the wood grain (a pixel whose
	// neighbours above and below agree nearly always equals them), flat synthetic content,
	// one side of a hard edge.
	Anchors bool
	// PatchStats (needs Context) gives every stage network and skip after stage 0
	// statChannels more input channels, constant over the patch: what the known pixels say
	// about the patch's noise (see stats.go).
	PatchStats bool
	// ErrorMaps (needs PatchStats) gives them errChannels more: per known pixel the error
	// its stage's interpolation made (see stats.go).
	ErrorMaps bool
	// CtxScales (needs ErrorMaps) gives them ctxScaleChannels more, constant over the
	// patch: how smooth the context rows and columns are at the coarse stages' distances
	// (see stats.go).
	CtxScales bool
}

// DefaultConfig is the architecture of the shipped model.
func DefaultConfig() Config {
	return Config{
		Layers:    4,
		ZC:        8,
		Width:     64,
		BlocksInf: []int{1, 1, 1, 1},
		BlocksGen: []int{1, 1, 1, 1},
		InKernel:  5,

		PixelStages: DeepStages,
		StageBlocks: 0,
		FineBlocks:  1,
		StageSkip:   true,

		StageHints: true,
		EdgeHints:  true,

		PosChannels: true,
		Context:     true,
		Mixture:     true,
		Anchors:     true,
		PatchStats:  true,
		ErrorMaps:   true,
		CtxScales:   true,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Layers < 1 || c.Layers > 16 || c.ZC < 1 || c.ZC > 64 || c.Width < 1 || c.Width > 1024 {
		return fmt.Errorf("vae: config out of range: %+v", c)
	}
	if len(c.BlocksInf) != c.Layers || len(c.BlocksGen) != c.Layers {
		return fmt.Errorf("vae: config needs %d block counts per side: %+v", c.Layers, c)
	}
	for _, b := range append(append([]int(nil), c.BlocksInf...), c.BlocksGen...) {
		if b < 0 || b > 32 {
			return fmt.Errorf("vae: block count %d out of range", b)
		}
	}
	if c.PixelStages != 1 && c.PixelStages != 2 && c.PixelStages != 4 && !isCoarse(c.PixelStages) {
		return fmt.Errorf("vae: %d pixel stages, want 1, 2, 4, %d, %d, %d or %d", c.PixelStages, CoarseStages, PyramidStages, SplitStages, DeepStages)
	}
	if c.StageSkip && c.PixelStages != 4 && !isCoarse(c.PixelStages) {
		return fmt.Errorf("vae: stage skips need 4 pixel stages or a coarse plan")
	}
	if c.StageHints && (!isCoarse(c.PixelStages) || !c.StageSkip) {
		return fmt.Errorf("vae: stage hints need a coarse plan and stage skips")
	}
	if c.PixelStages > CoarseStages && !c.StageHints {
		return fmt.Errorf("vae: %d pixel stages need stage hints", c.PixelStages)
	}
	if c.EdgeHints && !c.StageHints {
		return fmt.Errorf("vae: edge hints need stage hints")
	}
	if c.PosChannels && !c.EdgeHints {
		return fmt.Errorf("vae: position channels need edge hints")
	}
	if c.Context && !c.PosChannels {
		return fmt.Errorf("vae: context needs position channels")
	}
	if c.Mixture && !c.StageHints {
		return fmt.Errorf("vae: the pixel mixture needs a coarse plan with stage hints")
	}
	if c.Anchors && (!c.Mixture || !c.EdgeHints) {
		return fmt.Errorf("vae: anchor components need the pixel mixture and edge hints")
	}
	if c.PatchStats && !c.Context {
		return fmt.Errorf("vae: patch statistics need context")
	}
	if c.ErrorMaps && !c.PatchStats {
		return fmt.Errorf("vae: error maps need patch statistics")
	}
	if c.CtxScales && !c.ErrorMaps {
		return fmt.Errorf("vae: context scales need error maps")
	}
	if c.StageBlocks < 0 || c.StageBlocks > 32 || c.FineBlocks < 0 || c.FineBlocks > 32 {
		return fmt.Errorf("vae: stage block counts %d, %d out of range", c.StageBlocks, c.FineBlocks)
	}
	if c.FineBlocks > 0 && !isCoarse(c.PixelStages) {
		return fmt.Errorf("vae: fine-stage blocks need a coarse plan")
	}
	if c.FineStages < 0 || c.FineStages >= c.PixelStages {
		return fmt.Errorf("vae: %d fine stages out of range", c.FineStages)
	}
	if c.InKernel != 1 && c.InKernel != 3 && c.InKernel != 5 && c.InKernel != 7 {
		return fmt.Errorf("vae: input kernel %d must be 1, 3, 5 or 7", c.InKernel)
	}
	return nil
}

// StageBlocksOf returns the number of residual blocks of stage s's network (s >= 1).
func (c Config) StageBlocksOf(s int) int {
	if s >= c.FirstFineStage() {
		return c.StageBlocks + c.FineBlocks
	}
	return c.StageBlocks
}

// FirstFineStage returns the first stage whose network has the FineBlocks.
func (c Config) FirstFineStage() int {
	if c.FineStages == 0 {
		return c.PixelStages - 4
	}
	return c.PixelStages - c.FineStages
}

// GroupParams is the number of parameters per pixel: 3 means, 3 log-scales and 3
// channel-conditioning coefficients. A network predicting G groups (sub-positions of the 2x2
// blocks) outputs 9*G channels in squeezed space, group g's kind k (0 means, 1 log-scales,
// 2 coefficients) of colour c at channel 9g + 3k + c.
const GroupParams = 9

// MixParams is the number of further parameters per pixel of a Mixture model: 3 log-scales
// of the second component (channels 9-11 of the stage's outputs; its stages have one group)
// and 3 logits of its weight (channels 12-14).
const MixParams = 6

// AnchorParams is the number of further parameters per pixel of the stages s >= 1 of an
// Anchors model: the weight logits of the AnchorTaps anchor components (channels 15-20,
// relative to the base component's 0, shared by the three colours) and the three colours'
// log-scales of the anchor components (channels 21-23). The taps are the stage's four
// interpolation taps and its extra pair (stagePlan.extra; not known in a stage without
// one).
const (
	AnchorParams = AnchorTaps + 3
	AnchorTaps   = 6

	anchorLogits    = GroupParams + MixParams
	anchorLogScales = anchorLogits + AnchorTaps
)

// groupParams is the number of output channels per group of pixel stage 0 (the pixel
// network Gen[0]).
func (c Config) groupParams() int {
	if c.Mixture {
		return GroupParams + MixParams
	}
	return GroupParams
}

// stageParams is the number of output channels per group of the pixel stages s >= 1 (the
// stage networks and skips).
func (c Config) stageParams() int {
	if c.Anchors {
		return GroupParams + MixParams + AnchorParams
	}
	return c.groupParams()
}

// subOrder is the order in which the sub-positions of a 2x2 block are coded: top-left, then
// bottom-right (from its diagonal neighbours), then top-right and bottom-left (from all four
// direct neighbours). Sub-position 2i+j is pixel (i, j) of the block, channel 4c+2i+j of the
// squeezed patch.
var subOrder = [4]int{0, 3, 1, 2}

// CoarseStages is the number of pixel stages of the coarse-to-fine plan (see Config).
const CoarseStages = 7

// PyramidStages is the number of pixel stages of the plan with one more coarse level:
// stage 0 codes only one pixel of every 8x8 block from the latents, stages 1 and 2 the rest
// of every 4th pixel of every 4th row (diagonal neighbours, then direct ones, at distance
// 4), and stages 3-8 are stages 1-6 of the 7-stage plan.
const PyramidStages = 9

// SplitStages is the number of pixel stages of the pyramid plan with its last diagonal stage
// (the first to reach the odd columns) split by rows: the second half also sees the first
// half's pixels above and below it in the same column, so that content that is constant
// down the columns (vertical grain) costs half as many pixels coded without a known
// neighbour in their column.
const SplitStages = 10

// DeepStages is the number of pixel stages of the split plan with one more coarse level:
// stage 0 codes only one pixel of every 16x16 block (4 per patch) from the latents, stages
// 1 and 2 the rest of every 8th pixel of every 8th row (from neighbours 8 pixels away), and
// stages 3-11 are stages 1-9 of the split plan.
const DeepStages = 12

// stagePlan is one pixel stage of a coarse plan: it codes sub-position k in the blocks of
// class cls (see InStage), predicted from the four taps (sub-position, dy, dx in squeezed
// space) that interpolate it; taps 0 and 1, and 2 and 3, are opposite pairs (StageHints).
type stagePlan struct {
	k, cls int
	taps   [4][3]int
	// extra is a third opposite pair that only the edge-directed hints use (nil: none).
	extra *[2][3]int
}

var (
	diag4  = [4][3]int{{0, -4, -4}, {0, 4, 4}, {0, -4, 4}, {0, 4, -4}}
	cross4 = [4][3]int{{0, -4, 0}, {0, 4, 0}, {0, 0, -4}, {0, 0, 4}}
	diag2  = [4][3]int{{0, -2, -2}, {0, 2, 2}, {0, -2, 2}, {0, 2, -2}}
	cross2 = [4][3]int{{0, -2, 0}, {0, 2, 0}, {0, 0, -2}, {0, 0, 2}}
	diag1  = [4][3]int{{0, -1, -1}, {0, 1, 1}, {0, -1, 1}, {0, 1, -1}}
	cross1 = [4][3]int{{0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}}
	// the fine stages: (1,1) from the four diagonal (0,0) pixels; (0,1) from (0,0) left and
	// right and (1,1) above and below; (1,0) from (0,0) above and below and (1,1) left and
	// right
	fineDiag = [4][3]int{{0, 0, 0}, {0, 1, 1}, {0, 0, 1}, {0, 1, 0}}
	fineRow  = [4][3]int{{0, 0, 0}, {0, 0, 1}, {3, -1, 0}, {3, 0, 0}}
	fineCol  = [4][3]int{{0, 0, 0}, {0, 1, 0}, {3, 0, -1}, {3, 0, 0}}
	// the extra pair of the second half of the split fine diagonal stage: the first half's
	// (1,1) pixels above and below
	fineVert = [2][3]int{{3, -1, 0}, {3, 1, 0}}
)

// plans are the coarse plans by number of stages.
var plans = map[int][]stagePlan{
	CoarseStages: {{0, 0, [4][3]int{}, nil}, {0, 3, diag1, nil}, {0, 1, cross1, nil}, {0, 2, cross1, nil},
		{3, -1, fineDiag, nil}, {1, -1, fineRow, nil}, {2, -1, fineCol, nil}},
	PyramidStages: {{0, 4, [4][3]int{}, nil}, {0, 5, diag2, nil}, {0, 6, cross2, nil}, {0, 3, diag1, nil}, {0, 1, cross1, nil}, {0, 2, cross1, nil},
		{3, -1, fineDiag, nil}, {1, -1, fineRow, nil}, {2, -1, fineCol, nil}},
	SplitStages: {{0, 4, [4][3]int{}, nil}, {0, 5, diag2, nil}, {0, 6, cross2, nil}, {0, 3, diag1, nil}, {0, 1, cross1, nil}, {0, 2, cross1, nil},
		{3, 7, fineDiag, nil}, {3, 8, fineDiag, &fineVert}, {1, -1, fineRow, nil}, {2, -1, fineCol, nil}},
	DeepStages: {{0, 9, [4][3]int{}, nil}, {0, 10, diag4, nil}, {0, 11, cross4, nil},
		{0, 5, diag2, nil}, {0, 6, cross2, nil}, {0, 3, diag1, nil}, {0, 1, cross1, nil}, {0, 2, cross1, nil},
		{3, 7, fineDiag, nil}, {3, 8, fineDiag, &fineVert}, {1, -1, fineRow, nil}, {2, -1, fineCol, nil}},
}

// isCoarse reports whether a plan splits the top-left pixels of the 2x2 blocks.
func isCoarse(stages int) bool { return plans[stages] != nil }

// StageGroups returns the sub-positions (2i+j) of the 2x2 blocks coded in stage s of a
// model with the given number of stages.
func StageGroups(stages, s int) []int {
	if p := plans[stages]; p != nil {
		return subOrder[subIndex(p[s].k) : subIndex(p[s].k)+1]
	}
	g := 4 / stages
	return subOrder[s*g : (s+1)*g]
}

func subIndex(k int) int {
	for j, kk := range subOrder {
		if kk == k {
			return j
		}
	}
	panic("vae: bad sub-position")
}

// StageParity returns which blocks stage s codes: -1 for all of them, otherwise the class
// (see InStage) of the blocks whose pixels of StageGroups(stages, s) the stage codes.
func StageParity(stages, s int) int {
	if p := plans[stages]; p != nil {
		return p[s].cls
	}
	return -1
}

// InStage reports whether the block at squeezed position pos (y*16 + x) is of the given
// class: -1 matches every block; 0-3 are the parities 2*(y%2) + x%2; 4 is y%4 = x%4 = 0, 5
// is y%4 = x%4 = 2 and 6 the other blocks of parity 0 (y%4 and x%4 are 0 and 2 or 2 and 0);
// 7 and 8 are the even and the odd rows; 9, 10 and 11 split class 4 like 4, 5 and 6 split
// parity 0 (y%8 = x%8 = 0; both 4 mod 8; one of each).
func InStage(parity, pos int) bool {
	y, x := pos/LatentHW, pos%LatentHW
	switch parity {
	case -1:
		return true
	case 0, 1, 2, 3:
		return 2*(y&1)+(x&1) == parity
	case 4:
		return y&3 == 0 && x&3 == 0
	case 5:
		return y&3 == 2 && x&3 == 2
	case 6:
		return y&1 == 0 && x&1 == 0 && y&3 != x&3
	case 7:
		return y&1 == 0
	case 8:
		return y&1 == 1
	case 9:
		return y&7 == 0 && x&7 == 0
	case 10:
		return y&7 == 4 && x&7 == 4
	case 11:
		return y&3 == 0 && x&3 == 0 && y&7 != x&7
	}
	panic("vae: bad block class")
}

// groupsPerStage is the number of sub-positions each stage codes.
func (c Config) groupsPerStage() int {
	if isCoarse(c.PixelStages) {
		return 1
	}
	return 4 / c.PixelStages
}

// coarseKnown is the number of pixel channels the stage networks of the coarse plan see:
// the 12 squeezed pixel channels (zero where not yet known) and the mask of the known
// top-left pixels.
const coarseKnown = 13

// The hint channels follow the coarse plan's known pixels: hintMean (3 colours) and
// hintAct are the plain interpolation and activity (StageHints); with EdgeHints, hintEdge (3
// colours), hintEdgeAct and the two pairs' activities hintPairAct follow.
const (
	hintMean    = coarseKnown
	hintAct     = coarseKnown + 3
	hintEdge    = coarseKnown + 4
	hintEdgeAct = coarseKnown + 7
	hintPairAct = coarseKnown + 8
	plainHints  = 4
	edgeHints   = 10
	// posChannels follow the hints (PosChannels).
	posChannels = 8
)

// EdgeHint returns, for input channel ci of a stage network or skip of a model without
// EdgeHints, the edge-directed hint channel that corresponds to it in a model with them, and
// whether ci is a plain hint channel (interpolation or activity) at all. Exported for
// checkpoint upgrades that add EdgeHints (vae/train): they move the skips' weights from the
// plain hints to the edge-directed ones, which is where a new model's skips start.
func EdgeHint(ci int) (int, bool) {
	if ci >= hintMean && ci < hintMean+plainHints {
		return ci - hintMean + hintEdge, true // mean -> edge mean, act -> edge act
	}
	return ci, false
}

// PosAlign is the crop alignment (pixels) that training with PosChannels needs.
const PosAlign = 8

// Model is the VAE. Inf[0] maps the squeezed patch to q(z_1|x); Inf[i] maps z_i to
// q(z_{i+1}|z_i). Gen[0] maps z_1 to p(x|z_1); Gen[i] maps z_{i+1} to p(z_i|z_{i+1}).
type Model struct {
	Cfg   Config
	Inf   []*Net
	Gen   []*Net
	Stage []*Net     // Stage[s-1] predicts pixel stage s
	Skip  []*nn.Conv // Skip[s-1]: the linear path from the known pixels (StageSkip)

	// Bins are the latent discretization of the coders: per layer and channel, the reference
	// logistic under which the 2^k bins have equal mass (set after training, see FitBins in
	// vae/train).
	Bins []BinRef

	// engine configures the passes of evaluations and inferences made from this Model value
	// (see WithEngine); the zero value means all cores.
	engine nn.Config
}

// BinRef is the reference logistic (location M, scale S) of one latent channel.
type BinRef struct{ M, S float64 }

// New makes a freshly initialized model.
func New(cfg Config, seed uint64) (*Model, error) {
	m, err := newUnpacked(cfg, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)))
	if err != nil {
		return nil, err
	}
	m.Refresh()
	return m, nil
}

// newUnpacked is New without computing and packing the effective weights. With a nil rng
// its convolutions are bare (nn.NewConv): for a model whose effective weights are set next
// (UnmarshalWeights), which would otherwise spend most of its load time making, packing and
// paging in weights it overwrites and gradients it never uses.
func newUnpacked(cfg Config, rng *rand.Rand) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Cfg: cfg}
	for i := 0; i < cfg.Layers; i++ {
		cin, k := cfg.ZC, 3
		if i == 0 {
			cin, k = 12, cfg.InKernel
		}
		m.Inf = append(m.Inf, newNet(cin, cfg.Width, 2*cfg.ZC, k, cfg.BlocksInf[i], rng))
	}
	for i := 0; i < cfg.Layers; i++ {
		cout := 2 * cfg.ZC
		if i == 0 {
			cout = cfg.groupParams() * cfg.groupsPerStage()
		}
		m.Gen = append(m.Gen, newNet(cfg.ZC, cfg.Width, cout, 3, cfg.BlocksGen[i], rng))
	}
	if cfg.StageSkip {
		// New-style initialization (see initPixelLogScale).
		out := m.Gen[0].Out
		gp := cfg.groupParams()
		for g := 0; g < out.Shape.Cout/gp; g++ {
			for col := 0; col < 3; col++ {
				out.Bias[gp*g+3+col] = initPixelLogScale
			}
		}
		if cfg.Mixture {
			initMixBias(out.Bias)
		}
	}
	for s := 1; s < cfg.PixelStages; s++ {
		known := m.knownChannels(s)
		m.Stage = append(m.Stage, newNet(cfg.Width+known, cfg.Width, cfg.stageParams()*cfg.groupsPerStage(), 3, cfg.StageBlocksOf(s), rng))
		if cfg.StageSkip {
			// The skip's interpolation is the starting point: the net's output starts
			// near zero instead of adding noise of about unit size.
			for i := range m.Stage[s-1].Out.G {
				m.Stage[s-1].Out.G[i] = initStageGain
			}
			if rng == nil {
				m.Skip = append(m.Skip, nn.NewConv(nn.ConvShape{Cin: known, Cout: cfg.stageParams(), KH: 3, KW: 3}, 0, nil))
			} else {
				m.Skip = append(m.Skip, newSkip(m.skipTaps(s), known, cfg.StageHints, cfg.EdgeHints, cfg.stageParams()))
			}
		}
	}
	m.Bins = make([]BinRef, cfg.Layers*cfg.ZC)
	for i := range m.Bins {
		m.Bins[i] = BinRef{M: 0, S: 1}
	}
	return m, nil
}

// Convs lists every convolution of the model in a fixed order.
func (m *Model) Convs() []*nn.Conv {
	var cs []*nn.Conv
	for _, n := range m.Inf {
		cs = append(cs, n.Convs()...)
	}
	for _, n := range m.Gen {
		cs = append(cs, n.Convs()...)
	}
	for _, n := range m.Stage {
		cs = append(cs, n.Convs()...)
	}
	return append(cs, m.Skip...)
}

// NetConvs lists the convolutions of the networks (all but the skips), which run on the
// integer path in a loaded model (UnmarshalWeights) and, with SetIntegerNets, in training.
func (m *Model) NetConvs() []*nn.Conv {
	var cs []*nn.Conv
	for _, nets := range [][]*Net{m.Inf, m.Gen, m.Stage} {
		for _, n := range nets {
			cs = append(cs, n.Convs()...)
		}
	}
	return cs
}

// SetIntegerNets makes the networks' forward passes run on the integer path (or float32)
// from now on, as a loaded model's do; see nn.Conv.SetInteger.
func (m *Model) SetIntegerNets(on bool) {
	cs := m.NetConvs()
	nn.Parallel(len(cs), 1, func(_, lo, hi int) {
		for _, c := range cs[lo:hi] {
			c.SetInteger(on)
		}
	})
}

// FineBlockConvs returns the convolutions of the residual blocks that Config.FineBlocks
// adds to the finest stage networks (Config.FineStages).
func (m *Model) FineBlockConvs() []*nn.Conv {
	var cs []*nn.Conv
	for s := 1; s < m.Cfg.PixelStages; s++ {
		n := m.Stage[s-1]
		for k := m.Cfg.StageBlocks; k < len(n.Blocks) && s >= m.Cfg.FirstFineStage(); k++ {
			cs = append(cs, n.Blocks[k].c1, n.Blocks[k].c2)
		}
	}
	return cs
}

// CtxScaleInputs returns the input convolutions of the stage networks and the first of
// their input channels that Config.CtxScales adds (the last ctxScaleChannels), or nil.
func (m *Model) CtxScaleInputs() ([]*nn.Conv, int) {
	if !m.Cfg.CtxScales {
		return nil, 0
	}
	var cs []*nn.Conv
	for _, n := range m.Stage {
		cs = append(cs, n.In)
	}
	return cs, cs[0].Shape.Cin - ctxScaleChannels
}

// Refresh recomputes the effective weights after a parameter change (the convolutions in
// parallel: with integer networks, the quantization is a good part of it).
func (m *Model) Refresh() {
	cs := m.Convs()
	nn.Parallel(len(cs), 1, func(_, lo, hi int) {
		for _, c := range cs[lo:hi] {
			c.Refresh()
		}
	})
}

// NumParams is the number of trainable parameters.
func (m *Model) NumParams() int {
	n := 0
	for _, c := range m.Convs() {
		n += c.Shape.WeightLen() + 2*c.Shape.Cout // V, G, Bias
	}
	return n
}

// MACsPerPatch is the number of multiply-adds of one full forward pass per patch (every
// network once), from the conv shapes.
func (m *Model) MACsPerPatch() int {
	n := 0
	for _, c := range m.Convs() {
		n += c.Shape.WeightLen() * LatentHW * LatentHW
	}
	return n
}

// interpTaps lists, for the sub-position coded in stage s of the 4-stage plan, its four
// nearest neighbours among the earlier stages: the known-pixel group they are in (index
// into the earlier stages' groups) and the 3x3 tap (dy, dx in -1..1 around the same
// squeezed position).
var interpTaps = [4][4][3]int{
	{},
	{{0, 0, 0}, {0, 1, 1}, {0, 0, 1}, {0, 1, 0}},  // (1,1): the four diagonal (0,0) pixels
	{{0, 0, 0}, {0, 0, 1}, {1, -1, 0}, {1, 0, 0}}, // (0,1): (0,0) left and right, (1,1) above and below
	{{0, 0, 0}, {0, 1, 0}, {1, 0, -1}, {1, 0, 0}}, // (1,0): (0,0) above and below, (1,1) left and right
}

// extraTaps returns, for each colour, stage s's extra pair of taps (input channel, dy, dx)
// of the edge-directed hints, and whether the stage has one.
func (m *Model) extraTaps(s int) (out [3][2][3]int, ok bool) {
	p := plans[m.Cfg.PixelStages]
	if p == nil || p[s].extra == nil {
		return out, false
	}
	for col := 0; col < 3; col++ {
		for i, tp := range p[s].extra {
			out[col][i] = [3]int{4*col + tp[0], tp[1], tp[2]}
		}
	}
	return out, true
}

// skipTaps returns, for each colour c, the four (input channel, dy, dx) taps of stage s's
// skip initialization.
func (m *Model) skipTaps(s int) [3][4][3]int {
	var out [3][4][3]int
	for col := 0; col < 3; col++ {
		for i := 0; i < 4; i++ {
			if p := plans[m.Cfg.PixelStages]; p != nil {
				tp := p[s].taps[i]
				out[col][i] = [3]int{4*col + tp[0], tp[1], tp[2]}
			} else {
				tp := interpTaps[s][i]
				out[col][i] = [3]int{3*tp[0] + col, tp[1], tp[2]}
			}
		}
	}
	return out
}

// Initial values of the pixel parameters (training starts from them; see newSkip).
const (
	// initColourCoef is the initial linear dependence of G on R and of B on G (the
	// coefficient after tanh) on the skip paths, whose means start from the interpolated
	// colour difference.
	initColourCoef = 0.9
	// initSkipLogScale and initPixelLogScale are the initial pixel log-scales (in [-1, 1]
	// units) of the interpolated stages (about 3 levels of 255) and of the pixels coded from
	// the latents alone (about the spread of the pixel values): Adam moves a bias by about the
	// learning rate per step, so starting at 0 cost thousands of steps.
	initSkipLogScale  = -3.5
	initPixelLogScale = -1.0
	// With StageHints, the skips' log-scales start as log(initActivityGain) plus the
	// activity channel: a scale of initActivityGain times the activity plus activityFloor
	// (a global fit of this form on validation data: 1.47 bits/subpixel for the last stage).
	initActivityGain = 0.2
	activityFloor    = 0.5 / 127.5 // half a level, in [-1, 1] units
	// noActivity is the activity where a pixel has no opposite pair of neighbours inside
	// the patch (some corners of the coarse stages): about 13 levels.
	noActivity = 0.1
	// initStageGain is the initial weight-norm gain of the stage networks' output convs
	// (see New).
	initStageGain = 0
	// initMixLogScale and initMixLogit start the second mixture component narrow (a third of
	// a level) and nearly unused (weight sigmoid(-5), 0.7%: a model upgraded to the mixture
	// starts within 0.01 bits of what it cost).
	initMixLogScale = -5.94 // log(0.33/127.5)
	initMixLogit    = -5
	// The anchor components (Config.Anchors) start with a log-scale of initAnchorLogScale
	// (0.07 levels: 99.8% of a component on its tap's value; anchorLogScaleLo is their lower
	// clamp) and, in the skips, weight logits of initAnchorBias plus initAnchorSlope times
	// the log activity of the tap's pair: about 1 where the pair agrees exactly (colour
	// sum), -1 at a difference of one level, -3 at three and below -10 at thirty, so that a
	// new or upgraded model starts by copying where the neighbours agree.
	initAnchorLogScale = -7.5
	anchorLogScaleLo   = -9.0
	initAnchorBias     = -21
	initAnchorSlope    = -4
)

// initMixBias sets the initial biases of the mixture outputs (channels 9-14) of a stage's
// single group.
func initMixBias(bias []float32) {
	for col := 0; col < 3; col++ {
		bias[GroupParams+col] = initMixLogScale
		bias[GroupParams+3+col] = initMixLogit
	}
}

// newSkip makes a stage's linear path: a 3x3 conv from the known pixels to the stage's
// parameters whose mean outputs start as the average of the four nearest known neighbours
// (same colour, given by taps), G and B as the interpolated colour difference to R and G
// (with coefficients initColourCoef), log-scales at initSkipLogScale, and tiny weights
// elsewhere. With hints, the means start from the hint interpolations instead of the taps
// and the log-scales from the activity channel (see initActivityGain).
func newSkip(taps [3][4][3]int, known int, hints, edge bool, gp int) *nn.Conv {
	sh := nn.ConvShape{Cin: known, Cout: gp, KH: 3, KW: 3}
	c := &nn.Conv{Shape: sh}
	c.V = make([]float32, sh.WeightLen())
	c.G = make([]float32, sh.Cout)
	c.Bias = make([]float32, sh.Cout)
	at := func(o, ci, dy, dx int) int { return ((o*known+ci)*3+dy+1)*3 + dx + 1 }
	mean, act := hintMean, hintAct
	if edge {
		mean, act = hintEdge, hintEdgeAct
	}
	for col := 0; col < 3; col++ {
		if hints {
			// the hint channels: interpolations of R, G, B, then the activity
			c.V[at(col, mean+col, 0, 0)] = 1
			if col > 0 {
				c.V[at(col, mean+col-1, 0, 0)] = -initColourCoef
			}
			continue
		}
		for _, tp := range taps[col] {
			c.V[at(col, tp[0], tp[1], tp[2])] += 0.25
		}
		if col > 0 {
			for _, tp := range taps[col-1] {
				c.V[at(col, tp[0], tp[1], tp[2])] -= 0.25 * initColourCoef
			}
		}
	}
	// The other outputs start at zero but must be able to learn: tiny weights.
	for o := 3; o < gp; o++ {
		for i := 0; i < sh.K(); i++ {
			c.V[o*sh.K()+i] = 1e-3 * float32((i*7+o*3)%5-2)
		}
	}
	for col := 0; col < 3; col++ {
		c.Bias[3+col] = initSkipLogScale
		if hints {
			c.V[at(3+col, act, 0, 0)] = 1
			c.Bias[3+col] = float32(math.Log(initActivityGain))
		}
	}
	for o := 0; o < gp; o++ {
		ss := 0.0
		for _, v := range c.V[o*sh.K() : (o+1)*sh.K()] {
			ss += float64(v) * float64(v)
		}
		if o < 3 || hints && o < 6 {
			c.G[o] = float32(math.Sqrt(ss)) // effective weights = V
		}
	}
	if gp > GroupParams {
		initMixBias(c.Bias)
	}
	if gp > GroupParams+MixParams {
		for i := 0; i < AnchorTaps; i++ {
			o := anchorLogits + i
			row := c.V[o*sh.K() : (o+1)*sh.K()]
			clear(row)
			c.G[o] = -initAnchorSlope
			c.Bias[o] = initAnchorBias
			if i < 4 {
				row[at(0, hintPairAct+i/2, 0, 0)] = initAnchorSlope
			} else {
				// the extra pair has no activity channel of its own: the edge-directed
				// activity, which it pulls down where it agrees
				row[at(0, hintEdgeAct, 0, 0)] = initAnchorSlope
				c.Bias[o] = initAnchorBias - 1
			}
		}
		for col := 0; col < 3; col++ {
			c.Bias[anchorLogScales+col] = initAnchorLogScale
		}
	}
	a := float32(math.Atanh(initColourCoef))
	c.Bias[6+0] = a // G on R
	c.Bias[6+2] = a // B on G
	c.InitBuffers()
	return c
}
