package vae

import "testing"

// TestPlansPartition: every coarse plan codes every pixel exactly once, and every
// interpolation tap of a stage (inside the patch) is a pixel of an earlier stage.
func TestPlansPartition(t *testing.T) {
	for S := range plans {
		var stage [4][hw]int
		for k := range stage {
			for pos := range stage[k] {
				stage[k][pos] = -1
			}
		}
		for s := 0; s < S; s++ {
			k := StageGroups(S, s)[0]
			for pos := 0; pos < hw; pos++ {
				if !InStage(StageParity(S, s), pos) {
					continue
				}
				if stage[k][pos] >= 0 {
					t.Fatalf("plan %d: sub-position %d at %d coded in stages %d and %d", S, k, pos, stage[k][pos], s)
				}
				stage[k][pos] = s
			}
		}
		for k := range stage {
			for pos, s := range stage[k] {
				if s < 0 {
					t.Fatalf("plan %d: sub-position %d at %d never coded", S, k, pos)
				}
			}
		}
		for s := 1; s < S; s++ {
			p := plans[S][s]
			taps := p.taps[:]
			if p.extra != nil {
				taps = append(taps, p.extra[:]...)
			}
			for pos := 0; pos < hw; pos++ {
				if stage[p.k][pos] != s {
					continue
				}
				y, x := pos/LatentHW, pos%LatentHW
				for _, tp := range taps {
					yy, xx := y+tp[1], x+tp[2]
					if uint(yy) >= LatentHW || uint(xx) >= LatentHW {
						continue
					}
					if ts := stage[tp[0]][yy*LatentHW+xx]; ts >= s {
						t.Fatalf("plan %d stage %d at (%d,%d): tap %v is coded in stage %d", S, s, y, x, tp, ts)
					}
				}
			}
		}
	}
}
