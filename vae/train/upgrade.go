package train

import (
	"fmt"
	"math"
	"reflect"

	"github.com/bitswap-codec/bitswap/vae"
	"github.com/bitswap-codec/bitswap/vae/nn"
)

// Upgrade converts a training checkpoint to a newer architecture cfg that differs
// from the checkpoint's only in ways that can start from what it learned:
//
//   - EdgeHints added: the stage networks' weights on the new hint channels start at zero,
//     and the skips read the edge-directed hint channels where they read the plain ones.
//   - the 7-stage plan to the pyramid plan (PixelStages 9): stage 0's pixels outside the
//     4x4 grid move to two new stages with freshly initialized networks and skips; the old
//     stages 1-6 become stages 3-8 with their weights (they see the same inputs).
//   - the pyramid plan to the split plan (10): both halves of the split diagonal stage start
//     from its networks; the second half's weights on its own sub-position's pixels (which
//     only it sees) start at zero.
//   - the split plan to the deep plan (12): like the 7-to-9 upgrade, one level deeper.
//   - PosChannels added: the weights on the new channels start at zero.
//   - Context added: the weights on the new context channels start at zero. The hints of
//     the border pixels change (they use the context's taps), so only a patch without
//     context costs exactly what it did.
//   - Mixture added: the pixel outputs gain the second component's channels, whose weights
//     start at zero (gain 0) and biases at the new model's (a narrow component of weight
//     sigmoid(initMixLogit)), so the model starts within about 0.01 bits of its cost.
//   - Anchors added: the stage networks' and skips' outputs gain the anchor channels; the
//     networks' new rows start with gain 0, the skips' as a new model's (weights from the
//     pair activities, see initAnchorBias), so the model starts copying a neighbour where
//     the neighbours agree exactly and otherwise costs what it did (the base component
//     keeps a weight near 1 where they do not).
//   - PatchStats, ErrorMaps or CtxScales added: the weights on the new channels start at
//     zero, so the model starts where it was.
//   - FineBlocks or FineStages raised: the finest stage networks get new residual blocks
//     after their old ones, whose second convolutions start with gain 0 (the block adds
//     nothing), so the model starts where it was.
//
// Adam's moments of new weights start at zero; the best validation score is reset (the best
// weights are the converted averaged ones until the next validation).
func Upgrade(ck *Checkpoint, cfg vae.Config) (*Checkpoint, error) {
	old := ck.Config
	want := old
	want.EdgeHints = cfg.EdgeHints
	want.PixelStages = cfg.PixelStages
	want.PosChannels = cfg.PosChannels
	want.Context = cfg.Context
	want.Mixture = cfg.Mixture
	want.Anchors = cfg.Anchors
	want.PatchStats = cfg.PatchStats
	want.ErrorMaps = cfg.ErrorMaps
	want.CtxScales = cfg.CtxScales
	want.FineBlocks = cfg.FineBlocks
	want.FineStages = cfg.FineStages
	addMix := !old.Mixture && cfg.Mixture
	addAnc := !old.Anchors && cfg.Anchors
	addEdge := !old.EdgeHints && cfg.EdgeHints
	from := stageMap(old.PixelStages, cfg.PixelStages)
	if !sameConfig(want, cfg) || old.EdgeHints && !cfg.EdgeHints || old.PosChannels && !cfg.PosChannels || old.Context && !cfg.Context || old.Mixture && !cfg.Mixture ||
		old.Anchors && !cfg.Anchors || old.PatchStats && !cfg.PatchStats || old.ErrorMaps && !cfg.ErrorMaps || old.CtxScales && !cfg.CtxScales || from == nil || fewerBlocks(old, cfg, from) || !old.StageHints || sameConfig(old, cfg) {
		return nil, fmt.Errorf("train: cannot upgrade a checkpoint of %+v to %+v", old, cfg)
	}
	om, err := vae.New(old, 0)
	if err != nil {
		return nil, err
	}
	nm, err := vae.New(cfg, 0)
	if err != nil {
		return nil, err
	}
	// origin maps every conv of the new model to the old one it continues (nil: new). A
	// net with more residual blocks continues the old one's input, blocks and output; its
	// new blocks start adding nothing.
	origin := map[*nn.Conv]*nn.Conv{}
	link := func(a, b *vae.Net) {
		ac, bc := a.Convs(), b.Convs()
		for i := range bc[:len(bc)-1] {
			origin[ac[i]] = bc[i]
		}
		origin[ac[len(ac)-1]] = bc[len(bc)-1]
		for i := len(bc) - 1; i < len(ac)-1; i += 2 {
			clear(ac[i+1].G) // the new block's second conv
		}
	}
	for i := range nm.Inf {
		link(nm.Inf[i], om.Inf[i])
		link(nm.Gen[i], om.Gen[i])
	}
	// blind[c] lists input channels of conv c whose weights start at zero: the second half
	// of a split stage starts as a copy of the first, blind to the pixels of its own
	// sub-position that only it sees (a stage network's inputs are the pixel network's Width
	// features, then the squeezed pixels, colour c's sub-position k at channel 4c+k).
	blind := map[*nn.Conv][]int{}
	for s := 1; s < cfg.PixelStages; s++ {
		if o := from[s]; o > 0 {
			link(nm.Stage[s-1], om.Stage[o-1])
			origin[nm.Skip[s-1]] = om.Skip[o-1]
			if s > 1 && from[s-1] == o {
				k := vae.StageGroups(cfg.PixelStages, s)[0]
				for col := 0; col < 3; col++ {
					blind[nm.Stage[s-1].In] = append(blind[nm.Stage[s-1].In], cfg.Width+4*col+k)
				}
			}
		}
	}
	isSkip := map[*nn.Conv]bool{}
	for _, c := range nm.Skip {
		isSkip[c] = true
	}
	oldIndex := map[*nn.Conv]int{}
	for i, c := range om.Convs() {
		oldIndex[c] = i
	}
	// convert maps old parameter arrays (Convs() order, V, G, Bias each) to the new model;
	// fresh returns the values of new convs.
	convert := func(src [][]float32, fresh func(c *nn.Conv) [][]float32, weights bool) ([][]float32, error) {
		if len(src) != 3*len(om.Convs()) {
			return nil, fmt.Errorf("train: upgrade: checkpoint has %d parameter arrays, want %d", len(src), 3*len(om.Convs()))
		}
		var out [][]float32
		for _, c := range nm.Convs() {
			oc := origin[c]
			if oc == nil {
				out = append(out, fresh(c)...)
				continue
			}
			k := 3 * oldIndex[oc]
			v, g, b := src[k], src[k+1], src[k+2]
			os, ns := oc.Shape, c.Shape
			grow := addMix && os.Cout == vae.GroupParams && ns.Cout == vae.GroupParams+vae.MixParams ||
				addAnc && os.Cout == vae.GroupParams+vae.MixParams && ns.Cout == vae.GroupParams+vae.MixParams+vae.AnchorParams
			if len(v) != os.WeightLen() || len(g) != os.Cout || len(b) != os.Cout ||
				os.Cout != ns.Cout && !grow || os.KH != ns.KH || os.KW != ns.KW || os.Cin > ns.Cin {
				return nil, fmt.Errorf("train: upgrade: conv %+v -> %+v", os, ns)
			}
			taps := os.KH * os.KW
			// New output rows (the mixture's, the anchors') keep the fresh values, with gain 0
			// for weights except in the skips (whose fresh rows are the designed start).
			base := fresh(c)
			nv := base[0]
			clear(nv[:os.Cout*ns.Cin*taps])
			for o := 0; o < os.Cout; o++ {
				for ci := 0; ci < os.Cin; ci++ {
					dst := ci
					if addEdge && isSkip[c] {
						dst, _ = vae.EdgeHint(ci)
					}
					copy(nv[(o*ns.Cin+dst)*taps:(o*ns.Cin+dst+1)*taps], v[(o*os.Cin+ci)*taps:(o*os.Cin+ci+1)*taps])
				}
			}
			ng := base[1]
			copy(ng, g)
			nb := base[2]
			copy(nb, b)
			if weights && !isSkip[c] {
				clear(ng[os.Cout:])
			}
			if len(blind[c]) > 0 {
				row := ns.Cin * taps
				for o := 0; o < os.Cout; o++ {
					before := sumSquares(nv[o*row : (o+1)*row])
					for _, ci := range blind[c] {
						clear(nv[(o*ns.Cin+ci)*taps : (o*ns.Cin+ci+1)*taps])
					}
					if weights && before > 0 {
						// weight normalization: keep the effective weights of the rest
						ng[o] = float32(float64(ng[o]) * math.Sqrt(sumSquares(nv[o*row:(o+1)*row])/before))
					}
				}
			}
			out = append(out, nv, ng, nb)
		}
		return out, nil
	}
	init := func(c *nn.Conv) [][]float32 {
		p, _ := c.Params()
		return cloneSlices(p)
	}
	zero := func(c *nn.Conv) [][]float32 {
		p, _ := c.Params()
		return zerosLike(p)
	}
	up := *ck
	up.Config = cfg
	if up.Params, err = convert(ck.Params, init, true); err != nil {
		return nil, err
	}
	if ck.EMA != nil {
		if up.EMA, err = convert(ck.EMA, init, true); err != nil {
			return nil, err
		}
		if up.AdamM, err = convert(ck.AdamM, zero, false); err != nil {
			return nil, err
		}
		if up.AdamV, err = convert(ck.AdamV, zero, false); err != nil {
			return nil, err
		}
	}
	up.BestVal = math.Inf(1)
	up.BestEMA = up.EMA
	up.Notes = append(append([]string(nil), ck.Notes...), fmt.Sprintf("step %d: upgraded from %+v", ck.Step, old))
	return &up, nil
}

// stageMap returns, for each stage s > 0 of plan newS, the stage of plan oldS whose
// networks it starts from (-1: new networks), or nil if there is no such upgrade.
func stageMap(oldS, newS int) []int {
	id := make([]int, newS)
	for i := range id {
		id[i] = i
	}
	switch {
	case oldS == newS:
		return id
	case oldS == vae.CoarseStages && newS == vae.PyramidStages:
		return []int{0, -1, -1, 1, 2, 3, 4, 5, 6}
	case oldS == vae.PyramidStages && newS == vae.SplitStages:
		return []int{0, 1, 2, 3, 4, 5, 6, 6, 7, 8}
	case oldS == vae.SplitStages && newS == vae.DeepStages:
		return []int{0, -1, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	}
	return nil
}

// fewerBlocks tells whether some stage network of b has fewer residual blocks than the
// network of a that it continues (from: stageMap).
func fewerBlocks(a, b vae.Config, from []int) bool {
	for s := 1; s < len(from); s++ {
		if o := from[s]; o > 0 && b.StageBlocksOf(s) < a.StageBlocksOf(o) {
			return true
		}
	}
	return false
}

// sameConfig reports whether two configurations are equal.
func sameConfig(a, b vae.Config) bool { return reflect.DeepEqual(a, b) }
