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
		if m.Cfg.CtxScales {
			return coarseKnown + edgeHints + posChannels + ctxChannels + statChannels + errChannels + ctxScaleChannels
		}
		if m.Cfg.ErrorMaps {
			return coarseKnown + edgeHints + posChannels + ctxChannels + statChannels + errChannels
		}
		if m.Cfg.PatchStats {
			return coarseKnown + edgeHints + posChannels + ctxChannels + statChannels
		}
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
	m.stageInputPar(s, feat, xs, dst, cx, nil)
}

// inputPar spreads the per-patch work of stage inputs (inputJob) over a parallel runner
// (nn.Ctx.Parallel) without allocating: the job's method value is made once.
type inputPar struct {
	par func(n, grain int, fn func(w, lo, hi int))
	job inputJob
	run func(w, lo, hi int)
}

func newInputPar(par func(n, grain int, fn func(w, lo, hi int))) *inputPar {
	p := &inputPar{par: par}
	p.run = p.job.run
	return p
}

// inputJob is the per-patch work of stage s's input that costs: the hints, then the patch
// statistics and error maps (which read the hints' activity), for a range of the B patches
// of dst, the input being written, whose first W channels are the features.
type inputJob struct {
	m       *Model
	s, W, B int
	dst     []float32
	cx      *sqCtx
}

func (j *inputJob) run(_, lo, hi int) {
	m, W, n := j.m, j.W, j.B*hw
	px := j.dst[W*n : (W+12)*n]
	if m.Cfg.StageHints {
		cx := j.cx
		if !m.Cfg.Context {
			cx = nil
		}
		m.hints(j.s, px, j.dst[(W+coarseKnown)*n:], j.B, cx, lo, hi)
	}
	if m.Cfg.Context && m.Cfg.PatchStats {
		end := W + coarseKnown + edgeHints + posChannels + ctxChannels
		var emap, scales []float32
		if m.Cfg.ErrorMaps {
			emap = j.dst[(end+statChannels)*n : (end+statChannels+errChannels)*n]
		}
		if m.Cfg.CtxScales {
			scales = j.dst[(end+statChannels+errChannels)*n : (end+statChannels+errChannels+ctxScaleChannels)*n]
		}
		m.patchStats(j.s, px, j.dst[(W+hintAct)*n:(W+hintAct+1)*n], j.dst[end*n:], emap, scales, j.B, j.cx, lo, hi)
	}
}

// stageInputPar is stageInput with the hints and the patch statistics spread over the
// patches by ip (nil: serially). The result is the same.
func (m *Model) stageInputPar(s int, feat, xs, dst *nn.Tensor, cx *sqCtx, ip *inputPar) {
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
					if c > 0 && m.Cfg.Context && cx.chromaKnown(b) {
						copy(d[b*hw:(b+1)*hw], src[b*hw:(b+1)*hw]) // all known
						continue
					}
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
			end := W + coarseKnown + edgeHints + posChannels + ctxChannels
			cx.channels(dst.Data[(end-ctxChannels)*n:], B)
		}
		job := inputJob{m: m, s: s, W: W, B: B, dst: dst.Data, cx: cx}
		if ip == nil {
			job.run(0, 0, B)
		} else {
			ip.job = job
			ip.par(B, 1, ip.run)
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
// The per-stage terms (nats) are written into stages. Training keeps every stage's input
// for the backward pass; an evaluation scores each stage as soon as its parameters are
// there, in one input buffer, and adds the terms up in the same order as training.
func (m *Model) pixelTerm(t *trainer, bt *Batch, grad bool, norm float64, stages []float64) float64 {
	S := m.Cfg.PixelStages
	B := bt.B
	if len(t.xq) != 12*B*hw {
		t.xq = make([]uint8, 12*B*hw)
	}
	squeezeU8(bt.X, B, t.xq)
	t.has = nil
	if bt.Ctx != nil {
		t.has = bt.Ctx.Has
	}
	if len(t.sp) != S {
		t.sp = make([]nn.Tensor, S)
		t.sin = make([]nn.Tensor, S)
	}
	if m.Cfg.Context {
		t.cx.squeeze(bt.Ctx, B, nil)
	}
	var parts []float64 // evaluation: [S][B] per-patch terms, added up at the end
	if !grad && t.perPatch != nil {
		parts = make([]float64, S*B)
	}
	out := m.Gen[0].Forward(&t.ctx, &t.z[0])
	t.sp[0].Resize(out.C, out.B, out.H, out.W)
	copy(t.sp[0].Data, out.Data)
	t.cal.apply(&t.sp[0], 0)
	feat := m.Gen[0].Features()
	if !grad {
		stages[0] = m.stageTerm(t, 0, nil, feat.C, false, 0, parts)
	}
	for s := 1; s < S; s++ {
		in := &t.sin[s]
		if !grad {
			in = &t.sin[1]
		}
		m.stageParams(t, s, feat, in)
		if !grad {
			stages[s] = m.stageTerm(t, s, in, feat.C, false, 0, parts)
		}
	}
	if !grad {
		total := 0.0
		for s := S - 1; s >= 0; s-- {
			total += stages[s]
			if parts != nil {
				for b := 0; b < B; b++ {
					t.perPatch[b] += parts[s*B+b]
				}
			}
		}
		return total
	}
	total := 0.0
	t.dfeat.Resize(feat.C, feat.B, feat.H, feat.W)
	t.dfeat.Zero()
	for s := S - 1; s >= 0; s-- {
		var in *nn.Tensor
		if s > 0 {
			in = &t.sin[s]
		}
		part := m.stageTerm(t, s, in, feat.C, true, norm, nil)
		total += part
		stages[s] = part
		if s == 0 {
			m.Gen[0].BackwardExtra(&t.ctx, &t.dsp, &t.dfeat, &t.dz[0])
			continue
		}
		t.dsin.Resize(in.C, in.B, in.H, in.W)
		t.dsin.Zero()
		m.Stage[s-1].Backward(&t.ctx, &t.dsp, &t.dsin)
		if m.Skip != nil {
			m.Skip[s-1].Backward(&t.ctx, knownView(in, t.dfeat.C, &t.known), &t.dsp, nil)
		}
		nn.AddTo(t.dsin.Data[:len(t.dfeat.Data)], t.dfeat.Data)
	}
	return total
}

// stageParams computes the parameters of pixel stage s >= 1 into t.sp[s] (calibrated by
// t.cal), its network input into in.
func (m *Model) stageParams(t *trainer, s int, feat, in *nn.Tensor) {
	m.stageInputPar(s, feat, &t.xs, in, &t.cx, t.ip)
	o := m.Stage[s-1].Forward(&t.ctx, in)
	t.sp[s].Resize(o.C, o.B, o.H, o.W)
	copy(t.sp[s].Data, o.Data)
	if m.Skip != nil {
		known := knownView(in, feat.C, &t.known)
		t.skipOut.Resize(o.C, o.B, o.H, o.W)
		m.Skip[s-1].Forward(&t.ctx, known, &t.skipOut)
		nn.AddTo(t.skipOut.Data, t.sp[s].Data)
	}
	t.cal.apply(&t.sp[s], s)
}

// stageTerm returns -log p (nats) of stage s's pixels of the batch under t.sp[s] (stage
// input in, nil for stage 0; featC feature channels); with grad it writes their gradients
// (times norm) into t.dsp, and with parts ([S][B]) each patch's term into parts[s]. With a
// calibration search (t.search) it searches stage s first.
func (m *Model) stageTerm(t *trainer, s int, in *nn.Tensor, featC int, grad bool, norm float64, parts []float64) float64 {
	S := m.Cfg.PixelStages
	groups := StageGroups(S, s)
	parity := StageParity(S, s)
	P := &t.sp[s]
	B := P.B
	if grad {
		t.dsp.Resize(P.C, P.B, P.H, P.W)
		if parity >= 0 {
			t.dsp.Zero()
		}
	}
	var anc []float32
	if m.Cfg.Anchors && s > 0 {
		anc = m.stageAnchors(s, in, featC, &t.cx, &t.anc)
	}
	if t.search != nil {
		t.calibrate(s, anc, groups, parity, B)
		if !grad && parts == nil {
			acc := 0.0
			for b, v := range t.calib0 {
				acc += v
				if t.perPatch != nil {
					t.perPatch[b] += v
				}
			}
			return acc
		}
	}
	return t.parallelSum(B, func(lo, hi int) float64 {
		acc := 0.0
		for b := lo; b < hi; b++ {
			v := stageLoss(P, &t.dsp, t.xq, anc, groups, parity, B, b, t.flagsOf(b), grad, norm)
			acc += v
			if parts != nil {
				parts[s*B+b] = v
			} else if t.perPatch != nil {
				t.perPatch[b] += v
			}
		}
		return acc
	})
}

// flagsOf returns patch b's flags that decide which colours the loss takes (RepX, RepY,
// ChromaKnown).
func (t *trainer) flagsOf(b int) uint8 {
	if t.has == nil {
		return 0
	}
	return t.has[b] & (RepX | RepY | ChromaKnown)
}

// stageLoss returns -log p of the pixels of patch b in the given groups (in the blocks of
// the given parity) under the stage parameters P (and anchor values anc, nil: none; see
// Model.anchors), leaving out the chroma that the flags make known (ChromaKnown) or a copy
// (RepX, RepY), and with grad writes their gradients (times norm) into dP.
func stageLoss(P, dP *nn.Tensor, xq []uint8, anc []float32, groups []int, parity, B, b int, flags uint8, grad bool, norm float64) float64 {
	total := 0.0
	for gi, k := range groups {
		nc := 3
		if flags&ChromaKnown != 0 || chromaCopy(flags, k) {
			nc = 1
		}
		for pos := 0; pos < hw; pos++ {
			if InStage(parity, pos) {
				total += pixelLoss(P, dP, xq, anc, gi, k, B, b, pos, nc, grad, norm)
			}
		}
	}
	return total
}

// pixelLoss is stageLoss for the first nc colours (3, or 1 when the chroma is a copy) of the
// pixel at squeezed position pos of sub-position k (group gi of the stage); for a Mixture
// model under the two-component mixture, and with anchors under the mixture over whole
// pixels of that base and the anchor components (Config.Anchors). Leaving out the last
// colours marginalizes them: each of them is conditioned only on those before it.
func pixelLoss(P, dP *nn.Tensor, xq []uint8, anc []float32, gi, k, B, b, pos, nc int, grad bool, norm float64) float64 {
	n := B * hw
	gp := paramsPerGroup(P)
	ch := func(i int) int { return (gp*gi+i)*n + b*hw }
	at := func(kind, c int) int { return ch(3*kind + c) }
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
	// The base component per colour: log-probability lp and its derivatives by the mean,
	// the log-scale and (mixture) the second log-scale and the weight logit.
	var lp, dmu, dls, dls2, dt [3]float64
	for c := 0; c < nc; c++ {
		ls := float64(P.Data[at(1, c)+pos])
		clamped := ls < logScaleLo
		if clamped {
			ls = logScaleLo
		}
		lp[c], dmu[c], dls[c] = discLogistic(xi[c], xv[c], mu[c], ls)
		if clamped {
			dls[c] = 0
		}
		if gp > GroupParams {
			// p = (1-w) p1 + w p2, w = sigmoid(t): with the responsibilities r1, r2 of the
			// components, d log p/d mu = r1 dm1 + r2 dm2, d/d ls_k = r_k dls_k, d/dt = r2 - w.
			ls2 := float64(P.Data[at(3, c)+pos])
			clamped2 := ls2 < logScaleLo
			if clamped2 {
				ls2 = logScaleLo
			}
			t := float64(P.Data[at(4, c)+pos])
			lp2, dm2, d2 := discLogistic(xi[c], xv[c], mu[c], ls2)
			if clamped2 {
				d2 = 0
			}
			u1, u2 := lp[c]-softplus(t), lp2-softplus(-t) // log((1-w) p1), log(w p2)
			lmix := logAddExp(u1, u2)
			r1, r2 := math.Exp(u1-lmix), math.Exp(u2-lmix)
			lp[c], dmu[c], dls[c], dls2[c], dt[c] = lmix, r1*dmu[c]+r2*dm2, r1*dls[c], r2*d2, r2-sigmoid(t)
		}
	}
	total := -(lp[0] + lp[1] + lp[2])
	// r0 is the base component's responsibility (1 without anchors): its gradients scale by it.
	r0 := 1.0
	if gp == GroupParams+MixParams+AnchorParams && anc != nil {
		// p(x) = sum_j pi_j prod_c p_j(x_c), pi = softmax(0, logits of the known taps): with
		// u_j = logit_j + sum_c log p_j(x_c), log p = lse(u) - lse(logits), responsibilities
		// r_j = exp(u_j - lse(u)); d log p/d logit_j = r_j - pi_j, d/d (component j's
		// parameters) = r_j times its own derivative.
		var u, lg [1 + AnchorTaps]float64
		var dla [AnchorTaps][3]float64
		var known [AnchorTaps]bool
		var lsa, inva [3]float64
		var lsaClamped [3]bool
		for c := 0; c < 3; c++ {
			lsa[c] = float64(P.Data[ch(anchorLogScales+c)+pos])
			if lsa[c] < anchorLogScaleLo {
				lsa[c], lsaClamped[c] = anchorLogScaleLo, true
			}
			inva[c] = math.Exp(-lsa[c]) // shared by the colour's anchor components
		}
		for c := nc; c < 3; c++ {
			lsaClamped[c] = true // no gradient for a colour left out
		}
		// Anchors often share a value (neighbours that agree): a colour's log-probability
		// under an anchor at value v is computed once per distinct v.
		var seenV [AnchorTaps][3]float32
		var seenL, seenD [AnchorTaps][3]float64
		nseen := 0
		u[0], lg[0] = -total, 0
		hu, hl := u[0], 0.0
		for i := 0; i < AnchorTaps; i++ {
			if anc[(i*3)*n+b*hw+pos] < 0 {
				continue
			}
			known[i] = true
			lg[i+1] = float64(P.Data[ch(anchorLogits+i)+pos])
			u[i+1] = lg[i+1]
			for c := 0; c < nc; c++ {
				v := anc[(i*3+c)*n+b*hw+pos]
				var l, d float64
				j := 0
				for j < nseen && seenV[j][c] != v {
					j++
				}
				if j < nseen {
					l, d = seenL[j][c], seenD[j][c]
				} else {
					l, _, d = discLogisticInv(xi[c], xv[c], float64(v)/127.5-1, lsa[c], inva[c])
				}
				seenV[nseen][c], seenL[nseen][c], seenD[nseen][c] = v, l, d
				u[i+1] += l
				if !lsaClamped[c] {
					dla[i][c] = d
				}
			}
			nseen++
			hu, hl = math.Max(hu, u[i+1]), math.Max(hl, lg[i+1])
		}
		su, sl := 0.0, 0.0
		for j := range u {
			if j == 0 || known[j-1] {
				su += math.Exp(u[j] - hu)
				sl += math.Exp(lg[j] - hl)
			}
		}
		lu, ll := hu+math.Log(su), hl+math.Log(sl)
		total = ll - lu
		r0 = math.Exp(u[0] - lu)
		if grad {
			var gsa [3]float64
			for i := 0; i < AnchorTaps; i++ {
				g := 0.0
				if known[i] {
					r := math.Exp(u[i+1] - lu)
					g = -(r - math.Exp(lg[i+1]-ll))
					for c := 0; c < 3; c++ {
						gsa[c] -= r * dla[i][c]
					}
				}
				dP.Data[ch(anchorLogits+i)+pos] = float32(g * norm)
			}
			for c := 0; c < 3; c++ {
				dP.Data[ch(anchorLogScales+c)+pos] = float32(gsa[c] * norm)
			}
		}
	}
	if grad {
		var gmu [3]float64
		for c := 0; c < 3; c++ {
			gmu[c] = -r0 * dmu[c] * norm
			dP.Data[at(0, c)+pos] = float32(gmu[c])
			dP.Data[at(1, c)+pos] = float32(-r0 * dls[c] * norm)
			if gp > GroupParams {
				dP.Data[at(3, c)+pos] = float32(-r0 * dls2[c] * norm)
				dP.Data[at(4, c)+pos] = float32(-r0 * dt[c] * norm)
			}
		}
		dP.Data[at(2, 0)+pos] = float32(gmu[1] * xv[0] * (1 - ta*ta))
		dP.Data[at(2, 1)+pos] = float32(gmu[2] * xv[0] * (1 - tb*tb))
		dP.Data[at(2, 2)+pos] = float32(gmu[2] * xv[1] * (1 - tc*tc))
	}
	return total
}

// stageAnchors computes stage s's anchor values (Model.anchors) from its stage input in
// (featC feature channels first) and the context cx (used only by a Context model) into
// *buf, sized as needed, and returns it.
func (m *Model) stageAnchors(s int, in *nn.Tensor, featC int, cx *sqCtx, buf *[]float32) []float32 {
	B := in.B
	n := B * hw
	if len(*buf) != AnchorTaps*3*n {
		*buf = make([]float32, AnchorTaps*3*n)
	}
	if !m.Cfg.Context {
		cx = nil
	}
	m.anchors(s, in.Data[featC*n:(featC+12)*n], B, cx, *buf)
	return *buf
}

// logAddExp returns log(exp(a) + exp(b)).
func logAddExp(a, b float64) float64 {
	hi := math.Max(a, b)
	return hi + math.Log(math.Exp(a-hi)+math.Exp(b-hi))
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
// dmath.Log. Only patches [lo, hi) of the B.
func (m *Model) hints(s int, px, dst []float32, B int, cx *sqCtx, lo, hi int) {
	taps := m.skipTaps(s)
	extra, hasExtra := m.extraTaps(s)
	n := B * hw
	for b := lo; b < hi; b++ {
		// tap returns the value of squeezed channel ch at (yy, xx) and whether it is known.
		tap := func(ch, yy, xx int) (float64, bool) { return knownTap(px, n, b, cx, ch, yy, xx) }
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

// knownTap returns the value of squeezed channel ch at (yy, xx) of patch b and whether a
// stage may use it: inside the patch from px (the 12 pixel channels of a stage input, n =
// B*256 per channel), outside it from the context cx (nil: none). The hints and the anchors
// share this rule.
func knownTap(px []float32, n, b int, cx *sqCtx, ch, yy, xx int) (float64, bool) {
	if uint(yy) < LatentHW && uint(xx) < LatentHW {
		return float64(px[ch*n+b*hw+yy*LatentHW+xx]), true
	}
	return cx.at(ch, b, yy, xx)
}

// anchors writes stage s's anchor values (Config.Anchors) into dst, [AnchorTaps][3][B][256]:
// at every squeezed position the pixel value (0..255) of each interpolation tap (skipTaps,
// then extraTaps) per colour, or -1 where the tap is not known (a stage without extra taps) (outside the patch and not in the context
// cx; nil: none). px are the 12 pixel channels of the stage input ([-1, 1] values of 8-bit
// pixels, so the rounding recovers them exactly). Deterministic.
func (m *Model) anchors(s int, px []float32, B int, cx *sqCtx, dst []float32) {
	taps := m.skipTaps(s)
	extra, hasExtra := m.extraTaps(s)
	n := B * hw
	for i := 0; i < AnchorTaps; i++ {
		for c := 0; c < 3; c++ {
			d := dst[(i*3+c)*n : (i*3+c+1)*n]
			var tp [3]int
			switch {
			case i < 4:
				tp = taps[c][i]
			case hasExtra:
				tp = extra[c][i-4]
			default:
				for j := range d {
					d[j] = -1
				}
				continue
			}
			for b := 0; b < B; b++ {
				for y := 0; y < LatentHW; y++ {
					for x := 0; x < LatentHW; x++ {
						v, ok := knownTap(px, n, b, cx, tp[0], y+tp[1], x+tp[2])
						a := float32(-1)
						if ok {
							a = float32(math.Round((v + 1) * 127.5))
						}
						d[b*hw+y*LatentHW+x] = a
					}
				}
			}
		}
	}
}
