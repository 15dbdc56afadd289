package vae

import (
	"math"

	"github.com/bitswap-codec/bitswap/internal/dmath"
)

// Patch statistics (Config.PatchStats). A stage network sees about 10x10 pixels around the
// pixel it predicts, so it cannot tell how noisy the patch as a whole is, nor how noisy the
// image is at the finest scale before the finest stages are coded. These channels, constant
// over the patch, summarise what the pixels already known say about that: the errors that a
// fixed interpolation made on the pixels of the earlier stages (the patch's own noise level
// at coarser scales), the patch's mean activity at this stage's scale, and the finest-scale
// noise of the context rows and columns (pixels of the neighbouring patches the decoder
// already has). They depend on known pixels only, so they respect the bits-back ordering
// (DEVELOPERS.md): nothing carried between patches comes from latents or network outputs.
//
// Channels, each the same at all 256 positions of a patch:
//
//	0-2  per colour, log(activityFloor + mean |x - m|) over the pixels of stage s-1, where m
//	     is that stage's plain interpolation (hints channel 0-2); 0 for stage 1
//	3    the same over the pixels of all stages 1..s-1 and the colours; 0 for stage 1
//	4    1 if channels 0-3 are there (s >= 2)
//	5    the mean of stage s's activity hint (log) over the stage's pixels
//	6    log(activityFloor + mean |x - (a+b)/2|) over the colours and the inner pixels of
//	     the row just above (a, b its left and right neighbours) and of the column just to
//	     the left (above and below), whichever is there; 0 if neither
//	7    1 if channel 6 is there
const statChannels = 8

// errChannels is the number of error-map channels (Config.ErrorMaps), laid out like the
// squeezed pixels (channel 4c+k: colour c of sub-position k): at the position of every pixel
// of an earlier stage t >= 1, log(1 + |x - m|/activityFloor) with m the plain interpolation
// of t's taps (the error that stage's hint made there); 0 elsewhere. The stage networks see
// how wrong the interpolation was right around the pixel they predict, the kind of local
// error feedback that the fallback coder's predictors adapt to.
const errChannels = 12

// ctxScaleChannels is the number of context-scale channels (Config.CtxScales), each the
// same at all 256 positions of a patch: for d = 2, 4 and 8 pixels (ctxScale), log(
// activityFloor + mean |x - (a+b)/2|) over the colours and the pixels of the context row
// just above and column just left, a and b the pixels d away on either side; 0 without
// context (statChannels' channel 7 tells). They say how smooth the image next to the patch
// is at the distances the coarse stages interpolate over: a stage network in the middle
// of the patch sees neither the context nor, early on, enough of the patch to tell.
const ctxScaleChannels = 3

// ctxScale returns the distance of context-scale channel i.
func ctxScale(i int) int { return 2 << i }

// stageErr calls f with |x - m| for every colour c of every pixel of stage t in patch b
// (at squeezed position pos, sub-position k), m the plain interpolation of t's taps that are
// known, and returns the number of pixels. Deterministic: float64 in a fixed order, one
// division per pixel.
func (m *Model) stageErr(t int, px []float32, n, b int, cx *sqCtx, f func(k, pos, c int, e float64)) int {
	S := m.Cfg.PixelStages
	k, par := StageGroups(S, t)[0], StageParity(S, t)
	taps := m.skipTaps(t)
	count := 0
	for pos := 0; pos < hw; pos++ {
		if !InStage(par, pos) {
			continue
		}
		y, x := pos/LatentHW, pos%LatentHW
		for c := 0; c < 3; c++ {
			s, kn := 0.0, 0
			for _, tp := range taps[c] {
				if v, ok := knownTap(px, n, b, cx, tp[0], y+tp[1], x+tp[2]); ok {
					s += v
					kn++
				}
			}
			mean := 0.0
			if kn > 0 {
				mean = s / float64(kn)
			}
			f(k, pos, c, math.Abs(float64(px[(4*c+k)*n+b*hw+pos])-mean))
		}
		count++
	}
	return count
}

// ctxNoise returns the mean |x - (a+b)/2| over the pixels of the context row just above
// and column just left of patch b (a and b the pixels d away on either side) and the
// colours (see statChannels, ctxScaleChannels), and whether there was any. It reads the
// raw context c (valid parts as sqCtx.squeeze sets them).
func ctxNoise(cx *sqCtx, b, d int) (float64, bool) {
	if cx == nil || cx.has[b] == 0 {
		return 0, false
	}
	sum, cnt := 0.0, 0
	// line returns pixel i (0..31) of the line: the row just above (squeezed row -1, i.e.
	// sub-positions 2, 3 of up) or the column just left (sub-positions 1, 3 of left).
	add := func(vals func(c, i int) float64) {
		for c := 0; c < 3; c++ {
			for i := d; i < PatchSize-d; i++ {
				sum += math.Abs(vals(c, i) - (vals(c, i-d)+vals(c, i+d))/2)
				cnt++
			}
		}
	}
	B := cx.B
	if cx.has[b]&CtxUp != 0 {
		add(func(c, i int) float64 { return float64(cx.up[((4*c+2+i%2)*B+b)*LatentHW+i/2]) })
	}
	if cx.has[b]&CtxLeft != 0 {
		add(func(c, i int) float64 { return float64(cx.left[((4*c+2*(i%2)+1)*B+b)*LatentHW+i/2]) })
	}
	return sum / float64(cnt), true
}

// patchStats writes stage s's statChannels channels (dst, [8][B][256]) from px, the 12
// pixel channels of the stage input (known pixels only), act, the stage's activity hint
// channel ([B][256]), and the context cx (nil: none); with emap (ErrorMaps; nil: none,
// [12][B][256]) also the error maps, with scales (CtxScales; nil: none, [3][B][256]) the
// context scales. Only patches [lo, hi) of the B.
func (m *Model) patchStats(s int, px, act, dst, emap, scales []float32, B int, cx *sqCtx, lo, hi int) {
	n := B * hw
	for ch := 0; ch < errChannels && emap != nil; ch++ {
		clear(emap[ch*n+lo*hw : ch*n+hi*hw])
	}
	S := m.Cfg.PixelStages
	par := StageParity(S, s)
	for b := lo; b < hi; b++ {
		var v [statChannels]float64
		if s >= 2 {
			var last, all [3]float64
			cnt, lastCnt := 0, 0
			for t := 1; t < s; t++ {
				var e [3]float64
				c := m.stageErr(t, px, n, b, cx, func(k, pos, col int, d float64) {
					e[col] += d
					if emap != nil {
						emap[(4*col+k)*n+b*hw+pos] = float32(dmath.Log(1 + d/activityFloor))
					}
				})
				for col := range e {
					all[col] += e[col]
				}
				cnt += c
				if t == s-1 {
					last, lastCnt = e, c
				}
			}
			tot := 0.0
			for col := 0; col < 3; col++ {
				v[col] = dmath.Log(activityFloor + last[col]/float64(lastCnt))
				tot += all[col]
			}
			v[3] = dmath.Log(activityFloor + tot/float64(3*cnt))
			v[4] = 1
		}
		a, na := 0.0, 0
		for pos := 0; pos < hw; pos++ {
			if InStage(par, pos) {
				a += float64(act[b*hw+pos])
				na++
			}
		}
		v[5] = a / float64(na)
		if e, ok := ctxNoise(cx, b, 1); ok {
			v[6] = dmath.Log(activityFloor + e)
			v[7] = 1
		}
		for i, x := range v {
			fill(dst[i*n+b*hw:i*n+(b+1)*hw], float32(x))
		}
		for i := 0; i < ctxScaleChannels && scales != nil; i++ {
			x := 0.0
			if e, ok := ctxNoise(cx, b, ctxScale(i)); ok {
				x = dmath.Log(activityFloor + e)
			}
			fill(scales[i*n+b*hw:i*n+(b+1)*hw], float32(x))
		}
	}
}

func fill(d []float32, v float32) {
	for j := range d {
		d[j] = v
	}
}
