package vae

import (
	"math"

	"github.com/bitswap-codec/bitswap/internal/dmath"
	"github.com/bitswap-codec/bitswap/vae/nn"
)

// The pixel model p(x | z_1). In squeezed space a patch is 12 channels at 16x16: channel
// 4c+k is colour c of sub-position k (pixel (k/2, k%2) of each 2x2 block). The four
// sub-positions are coded in PixelStages stages (StageGroups): stage 0 from the features of
// the pixel network Gen[0] alone, stage s > 0 by network Stage[s-1] from those features and
// the pixels of the earlier stages. Within a pixel, G is conditioned on R and B on R and G.
// Every stage is parallel over its pixels.

const hw = LatentHW * LatentHW

// squeezeU8 rearranges planar patches [3][B][32][32] into [12][B][256] like nn.Squeeze.
func squeezeU8(x []uint8, B int, dst []uint8) {
	for c := 0; c < 3; c++ {
		for b := 0; b < B; b++ {
			src := x[(c*B+b)*PatchSize*PatchSize:]
			for k := 0; k < 4; k++ {
				i, j := k/2, k%2
				d := dst[((4*c+k)*B+b)*hw:]
				for y := 0; y < LatentHW; y++ {
					for xx := 0; xx < LatentHW; xx++ {
						d[y*LatentHW+xx] = src[(2*y+i)*PatchSize+2*xx+j]
					}
				}
			}
		}
	}
}

// knownChannels is the number of pixel channels stage s sees.
func (m *Model) knownChannels(s int) int {
	if isCoarse(m.Cfg.PixelStages) {
		if m.Cfg.Context {
			return coarseKnown + edgeHints + posChannels + ctxChannels
		}
		if m.Cfg.PosChannels {
			return coarseKnown + edgeHints + posChannels
		}
		if m.Cfg.EdgeHints {
			return coarseKnown + edgeHints
		}
		if m.Cfg.StageHints {
			return coarseKnown + plainHints
		}
		return coarseKnown
	}
	return 3 * s * 4 / m.Cfg.PixelStages
}

// stageInput writes the input of stage net s: the features, then for every sub-position of
// the earlier stages its three colours from xs (squeezed [-1,1] values, [12][B][16][16]);
// with Config.Context the context cx (which must be set then) enters the hints and the last
// ctxChannels channels.
func (m *Model) stageInput(s int, feat, xs, dst *nn.Tensor, cx *sqCtx) {
	W, B := feat.C, feat.B
	n := B * hw
	dst.Resize(W+m.knownChannels(s), B, LatentHW, LatentHW)
	copy(dst.Data, feat.Data)
	ch := W
	if S := m.Cfg.PixelStages; isCoarse(S) {
		// The 12 pixel channels, zero where not known yet, then the mask of the known
		// top-left pixels: a pixel is known if an earlier stage codes its sub-position in
		// its block's class.
		var known [4][hw]float32
		for t := 0; t < s; t++ {
			k := StageGroups(S, t)[0]
			for pos := range known[k] {
				if InStage(StageParity(S, t), pos) {
					known[k][pos] = 1
				}
			}
		}
		mask := dst.Data[(W+12)*n : (W+13)*n]
		for b := 0; b < B; b++ {
			copy(mask[b*hw:(b+1)*hw], known[0][:])
		}
		for c := 0; c < 3; c++ {
			for k := 0; k < 4; k++ {
				d := dst.Data[(W+4*c+k)*n : (W+4*c+k+1)*n]
				src := xs.Data[(4*c+k)*n : (4*c+k+1)*n]
				for b := 0; b < B; b++ {
					for pos, v := range known[k] {
						if v != 0 {
							d[b*hw+pos] = src[b*hw+pos]
						} else {
							d[b*hw+pos] = 0
						}
					}
				}
			}
		}
		if m.Cfg.StageHints {
			if !m.Cfg.Context {
				cx = nil
			}
			m.hints(s, dst.Data[W*n:(W+12)*n], dst.Data[(W+coarseKnown)*n:], B, cx)
		}
		if m.Cfg.PosChannels {
			pc := dst.Data[(W+coarseKnown+edgeHints)*n : (W+coarseKnown+edgeHints+posChannels)*n]
			clear(pc)
			for b := 0; b < B; b++ {
				for pos := 0; pos < hw; pos++ {
					y, x := pos/LatentHW, pos%LatentHW
					pc[(y&3)*n+b*hw+pos] = 1
					pc[(4+x&3)*n+b*hw+pos] = 1
				}
			}
		}
		if m.Cfg.Context {
			cx.channels(dst.Data[(W+m.knownChannels(s)-ctxChannels)*n:], B)
		}
		return
	}
	for t := 0; t < s; t++ {
		for _, k := range StageGroups(m.Cfg.PixelStages, t) {
			for c := 0; c < 3; c++ {
				copy(dst.Data[ch*n:(ch+1)*n], xs.Data[(4*c+k)*n:(4*c+k+1)*n])
				ch++
			}
		}
	}
}

// pixelTerm runs the pixel networks and returns -log p(x|z_1) in nats summed over the batch;
// with grad it also back-propagates (gradients scaled by norm) into the networks and t.dz[0].
// The per-stage terms (nats) are written into stages.
func (m *Model) pixelTerm(t *trainer, bt *Batch, grad bool, norm float64, stages []float64) float64 {
	S := m.Cfg.PixelStages
	B := bt.B
	if len(t.xq) != 12*B*hw {
		t.xq = make([]uint8, 12*B*hw)
	}
	squeezeU8(bt.X, B, t.xq)
	if len(t.sp) != S {
		t.sp = make([]nn.Tensor, S)
		t.sin = make([]nn.Tensor, S)
	}
	if m.Cfg.Context {
		t.cx.squeeze(bt.Ctx, B, nil)
	}
	out := m.Gen[0].Forward(&t.ctx, &t.z[0])
	t.sp[0].Resize(out.C, out.B, out.H, out.W)
	copy(t.sp[0].Data, out.Data)
	feat := m.Gen[0].Features()
	for s := 1; s < S; s++ {
		m.stageInput(s, feat, &t.xs, &t.sin[s], &t.cx)
		o := m.Stage[s-1].Forward(&t.ctx, &t.sin[s])
		t.sp[s].Resize(o.C, o.B, o.H, o.W)
		copy(t.sp[s].Data, o.Data)
		if m.Skip != nil {
			known := knownView(&t.sin[s], feat.C, &t.known)
			t.skipOut.Resize(o.C, o.B, o.H, o.W)
			m.Skip[s-1].Forward(&t.ctx, known, &t.skipOut)
			nn.AddTo(t.skipOut.Data, t.sp[s].Data)
		}
	}
	total := 0.0
	if grad {
		t.dfeat.Resize(feat.C, feat.B, feat.H, feat.W)
		t.dfeat.Zero()
	}
	for s := S - 1; s >= 0; s-- {
		groups := StageGroups(S, s)
		parity := StageParity(S, s)
		P := &t.sp[s]
		if grad {
			t.dsp.Resize(P.C, P.B, P.H, P.W)
			if parity >= 0 {
				t.dsp.Zero()
			}
		}
		part := parallelSum(B, func(lo, hi int) float64 {
			acc := 0.0
			for b := lo; b < hi; b++ {
				v := stageLoss(P, &t.dsp, t.xq, groups, parity, B, b, grad, norm)
				acc += v
				if t.perPatch != nil {
					t.perPatch[b] += v
				}
			}
			return acc
		})
		total += part
		stages[s] = part
		if !grad {
			continue
		}
		if s == 0 {
			m.Gen[0].BackwardExtra(&t.ctx, &t.dsp, &t.dfeat, &t.dz[0])
			continue
		}
		in := &t.sin[s]
		t.dsin.Resize(in.C, in.B, in.H, in.W)
		t.dsin.Zero()
		m.Stage[s-1].Backward(&t.ctx, &t.dsp, &t.dsin)
		if m.Skip != nil {
			m.Skip[s-1].Backward(&t.ctx, knownView(&t.sin[s], t.dfeat.C, &t.known), &t.dsp, nil)
		}
		nn.AddTo(t.dsin.Data[:len(t.dfeat.Data)], t.dfeat.Data)
	}
	return total
}

// stageLoss returns -log p of the pixels of patch b in the given groups (in the blocks of
// the given parity) under the stage parameters P, and with grad writes their gradients
// (times norm) into dP.
func stageLoss(P, dP *nn.Tensor, xq []uint8, groups []int, parity, B, b int, grad bool, norm float64) float64 {
	total := 0.0
	for gi, k := range groups {
		for pos := 0; pos < hw; pos++ {
			if InStage(parity, pos) {
				total += pixelLoss(P, dP, xq, gi, k, B, b, pos, grad, norm)
			}
		}
	}
	return total
}

// pixelLoss is stageLoss for the pixel at squeezed position pos of sub-position k (group
// gi of the stage); for a Mixture model, under the two-component mixture.
func pixelLoss(P, dP *nn.Tensor, xq []uint8, gi, k, B, b, pos int, grad bool, norm float64) float64 {
	n := B * hw
	gp := paramsPerGroup(P)
	at := func(kind, c int) int { return (gp*gi+3*kind+c)*n + b*hw }
	total := 0.0
	var xv [3]float64
	var xi [3]int
	for c := 0; c < 3; c++ {
		xi[c] = int(xq[((4*c+k)*B+b)*hw+pos])
		xv[c] = float64(xi[c])/127.5 - 1
	}
	ta := math.Tanh(float64(P.Data[at(2, 0)+pos]))
	tb := math.Tanh(float64(P.Data[at(2, 1)+pos]))
	tc := math.Tanh(float64(P.Data[at(2, 2)+pos]))
	mu := [3]float64{
		float64(P.Data[at(0, 0)+pos]),
		float64(P.Data[at(0, 1)+pos]) + ta*xv[0],
		float64(P.Data[at(0, 2)+pos]) + tb*xv[0] + tc*xv[1],
	}
	var dmu [3]float64
	for c := 0; c < 3; c++ {
		ls := float64(P.Data[at(1, c)+pos])
		clamped := ls < logScaleLo
		if clamped {
			ls = logScaleLo
		}
		lp, dm, dls := discLogistic(xi[c], xv[c], mu[c], ls)
		if gp > GroupParams {
			// p = (1-w) p1 + w p2, w = sigmoid(t): with the responsibilities r1, r2 of the
			// components, d log p/d mu = r1 dm1 + r2 dm2, d/d ls_k = r_k dls_k, d/dt = r2 - w.
			ls2 := float64(P.Data[at(3, c)+pos])
			clamped2 := ls2 < logScaleLo
			if clamped2 {
				ls2 = logScaleLo
			}
			t := float64(P.Data[at(4, c)+pos])
			lp2, dm2, dls2 := discLogistic(xi[c], xv[c], mu[c], ls2)
			u1, u2 := lp-softplus(t), lp2-softplus(-t) // log((1-w) p1), log(w p2)
			hi := math.Max(u1, u2)
			lmix := hi + math.Log(math.Exp(u1-hi)+math.Exp(u2-hi))
			r1, r2 := math.Exp(u1-lmix), math.Exp(u2-lmix)
			if grad {
				if clamped2 {
					dls2 = 0
				}
				dP.Data[at(3, c)+pos] = float32(-r2 * dls2 * norm)
				dP.Data[at(4, c)+pos] = float32(-(r2 - sigmoid(t)) * norm)
			}
			lp, dm, dls = lmix, r1*dm+r2*dm2, r1*dls
		}
		total -= lp
		if grad {
			dmu[c] = -dm * norm
			if clamped {
				dls = 0
			}
			dP.Data[at(1, c)+pos] = float32(-dls * norm)
		}
	}
	if grad {
		for c := 0; c < 3; c++ {
			dP.Data[at(0, c)+pos] = float32(dmu[c])
		}
		dP.Data[at(2, 0)+pos] = float32(dmu[1] * xv[0] * (1 - ta*ta))
		dP.Data[at(2, 1)+pos] = float32(dmu[2] * xv[0] * (1 - tb*tb))
		dP.Data[at(2, 2)+pos] = float32(dmu[2] * xv[1] * (1 - tc*tc))
	}
	return total
}

// knownView sets dst to the known-pixel part of a stage input (the channels after the
// features; shared data) and returns it.
func knownView(in *nn.Tensor, featC int, dst *nn.Tensor) *nn.Tensor {
	n := in.B * in.H * in.W
	*dst = nn.Tensor{C: in.C - featC, B: in.B, H: in.H, W: in.W, Data: in.Data[featC*n:]}
	return dst
}

// hints writes stage s's four hint channels (StageHints) into dst: at every squeezed
// position, per colour the mean of the position's interpolation taps (skipTaps) that are
// known (inside the patch, or in the context cx when there is one), then log(activityFloor +
// the mean of |x(t0) - x(t1)| and |x(t2) - x(t3)| over the colours and the opposite pairs
// that are known; noActivity if there is none), from px, the 12 pixel channels of the stage
// input. Deterministic: exact float64 sums in a fixed order, one division each, and
// dmath.Log.
func (m *Model) hints(s int, px, dst []float32, B int, cx *sqCtx) {
	taps := m.skipTaps(s)
	extra, hasExtra := m.extraTaps(s)
	n := B * hw
	for b := 0; b < B; b++ {
		// tap returns the value of squeezed channel ch at (yy, xx) and whether it is known.
		tap := func(ch, yy, xx int) (float64, bool) {
			if uint(yy) < LatentHW && uint(xx) < LatentHW {
				return float64(px[ch*n+b*hw+yy*LatentHW+xx]), true
			}
			return cx.at(ch, b, yy, xx)
		}
		for y := 0; y < LatentHW; y++ {
			for x := 0; x < LatentHW; x++ {
				o := b*hw + y*LatentHW + x
				var in [4]bool
				var v [3][4]float64
				k := 0
				for i := range taps[0] {
					for c := 0; c < 3; c++ {
						tp := taps[c][i]
						v[c][i], in[i] = tap(tp[0], y+tp[1], x+tp[2])
					}
					if in[i] {
						k++
					}
				}
				act, pairs := 0.0, 0
				for c := 0; c < 3; c++ {
					sum := 0.0
					for i := range taps[c] {
						if in[i] {
							sum += v[c][i]
						}
					}
					mean := 0.0
					if k > 0 {
						mean = sum / float64(k)
					}
					dst[c*n+o] = float32(mean)
					for p := 0; p < 4; p += 2 {
						if in[p] && in[p+1] {
							act += math.Abs(v[c][p] - v[c][p+1])
							pairs++
						}
					}
				}
				a := noActivity
				if pairs > 0 {
					a = act / float64(pairs)
				}
				dst[3*n+o] = float32(dmath.Log(a + activityFloor))
				if m.Cfg.EdgeHints {
					var ev [3][2]float64
					useExtra := hasExtra
					if hasExtra {
						for c := 0; c < 3; c++ {
							for i, tp := range extra[c] {
								var ok bool
								ev[c][i], ok = tap(tp[0], y+tp[1], x+tp[2])
								useExtra = useExtra && ok
							}
						}
					}
					edgeHint(&v, &ev, useExtra, dst, in, a, n, o)
				}
			}
		}
	}
}

// edgeEps is the offset of the pair differences in the edge-directed weights: one level
// (in [-1, 1] units), summed over the three colours.
const edgeEps = 2.0 / 255

// edgeHint writes the EdgeHints channels (dst channels 4-9 of the hints) of the squeezed
// position at offset o from the values v of its taps (per colour; known where in says) and
// the plain activity a. With both opposite pairs known, pair p (taps 2p, 2p+1) has the
// colour-summed difference d_p and weight 1/(d_p + edgeEps); the interpolation is the
// weighted mean of the pair means and the activity the weighted mean of d_p/3; a stage with
// an extra pair (stagePlan.extra, values ev) adds it to both weighted means when useExtra (it
// is known). Otherwise the plain hints are repeated; a pair not known has activity
// noActivity.
// Deterministic like hints: float64, products rounded before they are added (no fused
// multiply-add), one division per weight and per mean, dmath.Log.
func edgeHint(v *[3][4]float64, ev *[3][2]float64, useExtra bool, dst []float32, in [4]bool, a float64, n, o int) {
	var d2, w2 float64
	var m2 [3]float64
	if useExtra {
		for c := 0; c < 3; c++ {
			v0, v1 := ev[c][0], ev[c][1]
			d2 += math.Abs(v0 - v1)
			m2[c] = (v0 + v1) / 2
		}
		w2 = 1 / (d2 + edgeEps)
	}
	var d [2]float64
	pairIn := [2]bool{in[0] && in[1], in[2] && in[3]}
	for p := 0; p < 2; p++ {
		if !pairIn[p] {
			continue
		}
		for c := 0; c < 3; c++ {
			d[p] += math.Abs(v[c][2*p] - v[c][2*p+1])
		}
	}
	ea := a
	if pairIn[0] && pairIn[1] {
		w0 := 1 / (d[0] + edgeEps)
		w1 := 1 / (d[1] + edgeEps)
		ws := w0 + w1
		if useExtra {
			ws += w2
		}
		for c := 0; c < 3; c++ {
			m0 := (v[c][0] + v[c][1]) / 2
			m1 := (v[c][2] + v[c][3]) / 2
			num := float64(w0*m0) + float64(w1*m1)
			if useExtra {
				num += float64(w2 * m2[c])
			}
			dst[(4+c)*n+o] = float32(num / ws)
		}
		num := float64(w0*d[0]) + float64(w1*d[1])
		if useExtra {
			num += float64(w2 * d2)
		}
		ea = num / ws / 3
	} else {
		for c := 0; c < 3; c++ {
			dst[(4+c)*n+o] = dst[c*n+o]
		}
	}
	dst[7*n+o] = float32(dmath.Log(ea + activityFloor))
	for p := 0; p < 2; p++ {
		pa := noActivity
		if pairIn[p] {
			pa = d[p] / 3
		}
		dst[(8+p)*n+o] = float32(dmath.Log(pa + activityFloor))
	}
}
