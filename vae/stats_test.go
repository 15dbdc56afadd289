package vae

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bitswap-codec/bitswap/internal/dmath"
	"github.com/bitswap-codec/bitswap/vae/nn"
)

// statsInput returns the statChannels channels of stage s's input for the one-patch batch
// bt with context c (flags has), after checking that each is constant over the patch.
func statsInput(t *testing.T, m *Model, s int, bt *Batch, c *Context, has uint8) [statChannels]float64 {
	t.Helper()
	c.Has[0] = has
	var q sqCtx
	q.squeeze(c, 1, nil)
	feat := nn.NewTensor(m.Cfg.Width, 1, LatentHW, LatentHW)
	var in nn.Tensor
	m.stageInput(s, feat, squeezedPatch(bt), &in, &q)
	base := m.Cfg.Width + m.knownChannels(s) - statChannels
	var v [statChannels]float64
	for i := range v {
		ch := in.Data[(base+i)*hw : (base+i+1)*hw]
		for _, x := range ch {
			if x != ch[0] {
				t.Fatalf("stage %d: statistics channel %d not constant over the patch", s, i)
			}
		}
		v[i] = float64(ch[0])
	}
	return v
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-5 }

// TestPatchStats: the statistics channels measure the interpolation errors of the previous
// stage per colour and of all earlier stages, and the finest-scale noise of the row above
// and the column to the left, each only where it is there.
func TestPatchStats(t *testing.T) {
	cfg := contextConfig()
	cfg.PatchStats = true
	m, err := New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	S := m.Cfg.PixelStages
	bt := NewBatch(1)
	for i := range bt.X {
		bt.X[i] = 100
	}
	c := NewContext(1)
	for i := range c.Pix {
		c.Pix[i] = 100
	}
	floor := dmath.Log(activityFloor)
	// Flat patch, no context: no errors; stage 1 has no earlier stage to measure.
	if v := statsInput(t, m, 1, bt, c, 0); v[3] != 0 || v[4] != 0 || v[6] != 0 || v[7] != 0 {
		t.Fatalf("stage 1, flat: %v", v)
	}
	for s := 2; s < S; s++ {
		v := statsInput(t, m, s, bt, c, 0)
		if !near(v[0], floor) || !near(v[2], floor) || !near(v[3], floor) || v[4] != 1 || v[7] != 0 {
			t.Fatalf("stage %d, flat: %v", s, v)
		}
	}
	// Red +-10 on the pixels of stage s-1 only: their interpolation (from earlier stages,
	// all 100) misses by 10 levels in red, by nothing in green and blue.
	for s := 2; s < S; s++ {
		for i := range bt.X {
			bt.X[i] = 100
		}
		k, par := StageGroups(S, s-1)[0], StageParity(S, s-1)
		cnt := 0
		for pos := 0; pos < hw; pos++ {
			if InStage(par, pos) {
				y, x := 2*(pos/LatentHW)+k/2, 2*(pos%LatentHW)+k%2
				bt.X[y*PatchSize+x] = uint8(100 + 10*(1-2*(cnt&1)))
				cnt++
			}
		}
		total := 0
		for u := 1; u < s; u++ {
			for pos := 0; pos < hw; pos++ {
				if InStage(StageParity(S, u), pos) {
					total++
				}
			}
		}
		e := 10 / 127.5
		v := statsInput(t, m, s, bt, c, 0)
		if !near(v[0], dmath.Log(activityFloor+e)) || !near(v[1], floor) || !near(v[2], floor) ||
			!near(v[3], dmath.Log(activityFloor+e*float64(cnt)/float64(3*total))) {
			t.Fatalf("stage %d, red noise on stage %d: %v", s, s-1, v)
		}
	}
	// Context: the row just above alternates 100/140 (every inner pixel misses the mean of
	// its neighbours by 40 levels), the column to the left is flat.
	for col := 0; col < 3; col++ {
		for x := 0; x < PatchSize; x++ {
			c.Pix[col*CtxPlane+PatchSize+x] = uint8(100 + 40*(x&1))
		}
	}
	e := 40 / 127.5
	for _, tc := range []struct {
		has  uint8
		want float64
	}{{CtxUp, e}, {CtxLeft, 0}, {CtxUp | CtxLeft, e / 2}} {
		v := statsInput(t, m, 3, bt, c, tc.has)
		if !near(v[6], dmath.Log(activityFloor+tc.want)) || v[7] != 1 {
			t.Fatalf("context %d: %v, want log(floor + %v)", tc.has, v, tc.want)
		}
	}
}

// TestErrorMaps: the error maps hold, at the position of every pixel of an earlier stage,
// how far its stage's interpolation missed it, and nothing elsewhere.
func TestErrorMaps(t *testing.T) {
	cfg := contextConfig()
	cfg.PatchStats, cfg.ErrorMaps = true, true
	m, err := New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	S := m.Cfg.PixelStages
	const s = 6 // stage 5 is the last one known
	bt := NewBatch(1)
	for i := range bt.X {
		bt.X[i] = 100
	}
	// Red +-10 on the pixels of stage 5 (their interpolation, from earlier stages, gives 100).
	k5, par5 := StageGroups(S, 5)[0], StageParity(S, 5)
	for pos, i := 0, 0; pos < hw; pos++ {
		if InStage(par5, pos) {
			y, x := 2*(pos/LatentHW)+k5/2, 2*(pos%LatentHW)+k5%2
			bt.X[y*PatchSize+x] = uint8(100 + 10*(1-2*(i&1)))
			i++
		}
	}
	var q sqCtx
	q.squeeze(NewContext(1), 1, nil)
	feat := nn.NewTensor(m.Cfg.Width, 1, LatentHW, LatentHW)
	var in nn.Tensor
	m.stageInput(s, feat, squeezedPatch(bt), &in, &q)
	base := m.Cfg.Width + m.knownChannels(s) - errChannels
	want := float32(dmath.Log(1 + (10/127.5)/activityFloor))
	marked := 0
	for ch := 0; ch < errChannels; ch++ {
		for pos := 0; pos < hw; pos++ {
			got := in.Data[(base+ch)*hw+pos]
			w := float32(0)
			if ch == k5 && InStage(par5, pos) {
				w = want
				marked++
			}
			if math.Abs(float64(got-w)) > 1e-5 {
				t.Fatalf("error map %d at %d: %v, want %v", ch, pos, got, w)
			}
		}
	}
	if marked == 0 {
		t.Fatal("stage 5 has no pixels")
	}
}

// TestCtxScales: the context-scale channels measure, at 2, 4 and 8 pixels, how far the
// row just above and the column just left are from the mean of their pixels that far to
// either side, over whichever of the two is there, and are 0 without context.
func TestCtxScales(t *testing.T) {
	cfg := contextConfig()
	cfg.PatchStats, cfg.ErrorMaps, cfg.CtxScales = true, true, true
	m, err := New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	bt := NewBatch(1)
	c := NewContext(1)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range c.Pix {
		c.Pix[i] = uint8(rng.IntN(256))
	}
	line := func(col int, up bool, i int) float64 {
		if up {
			return float64(c.Pix[col*CtxPlane+PatchSize+i]) / 127.5
		}
		return float64(c.Pix[col*CtxPlane+CtxLeftOffset+2*i+1]) / 127.5
	}
	for _, has := range []uint8{0, CtxUp, CtxLeft, CtxUp | CtxLeft} {
		c.Has[0] = has
		var q sqCtx
		q.squeeze(c, 1, nil)
		feat := nn.NewTensor(m.Cfg.Width, 1, LatentHW, LatentHW)
		for s := 1; s < m.Cfg.PixelStages; s++ {
			var in nn.Tensor
			m.stageInput(s, feat, squeezedPatch(bt), &in, &q)
			base := m.Cfg.Width + m.knownChannels(s) - ctxScaleChannels
			for k, d := range []int{2, 4, 8} {
				sum, cnt := 0.0, 0
				for _, up := range []bool{true, false} {
					if up && has&CtxUp == 0 || !up && has&CtxLeft == 0 {
						continue
					}
					for col := 0; col < 3; col++ {
						for i := d; i < PatchSize-d; i++ {
							sum += math.Abs(line(col, up, i) - (line(col, up, i-d)+line(col, up, i+d))/2)
							cnt++
						}
					}
				}
				want := 0.0
				if cnt > 0 {
					want = math.Log(activityFloor + sum/float64(cnt))
				}
				ch := in.Data[(base+k)*hw : (base+k+1)*hw]
				for _, x := range ch {
					if math.Abs(float64(x)-want) > 1e-5 {
						t.Fatalf("has %d, stage %d, %d px: %v, want %v", has, s, d, x, want)
					}
				}
			}
		}
	}
}
