package bbcore

import (
	"fmt"
	"testing"
)

// CheckScheme is checkScheme, for the tests of the real schemes (package bbcore_test).
var CheckScheme = checkScheme

// checkScheme reports whether sc's list for L layers is a bits-back scheme: the encoder pops
// each latent once and later pushes it back, pushes the pixels once, and every operation of
// the encoder and of the decoder (the inverses, backwards) finds its distribution's
// conditioning variables known.
func checkScheme(sc Scheme, L int) error {
	ops := sc.Ops(L)
	if err := checkEncoder(ops, L); err != nil {
		return fmt.Errorf("encoder: %v", err)
	}
	if err := checkDecoder(ops, L); err != nil {
		return fmt.Errorf("decoder: %v", err)
	}
	return nil
}

// cond is the index (in known, the pixels at L) of the variable that op o's distribution is
// conditioned on, or -1.
func cond(o Op, L int) int {
	switch {
	case o.layer == pixels:
		return 0
	case o.pop && o.layer == 0:
		return L
	case o.pop:
		return o.layer - 1
	case o.layer == L-1:
		return -1
	}
	return o.layer + 1
}

func checkEncoder(ops []Op, L int) error {
	known, pushed := make([]bool, L+1), make([]bool, L+1)
	known[L] = true
	for i, o := range ops {
		v := o.layer
		if v == pixels {
			v = L
		}
		if c := cond(o, L); c >= 0 && !known[c] {
			return fmt.Errorf("op %d: variable %d unknown", i, c)
		}
		switch {
		case o.pop && known[v]:
			return fmt.Errorf("op %d pops layer %d twice", i, v)
		case o.pop:
			known[v] = true
		case pushed[v] || !known[v]:
			return fmt.Errorf("op %d pushes variable %d unknown or twice", i, v)
		default:
			pushed[v] = true
		}
	}
	for v, p := range pushed {
		if !p {
			return fmt.Errorf("variable %d never pushed", v)
		}
	}
	return nil
}

func checkDecoder(ops []Op, L int) error {
	known := make([]bool, L+1)
	for i := len(ops) - 1; i >= 0; i-- {
		o := ops[i]
		if c := cond(o, L); c >= 0 && !known[c] {
			return fmt.Errorf("op %d: variable %d unknown", i, c)
		}
		if o.layer == pixels {
			known[L] = true
		} else if !o.pop {
			known[o.layer] = true
		} else if !known[o.layer] {
			return fmt.Errorf("op %d pushes unknown layer %d", i, o.layer)
		}
	}
	if !known[L] {
		return fmt.Errorf("pixels never decoded")
	}
	return nil
}

type opList []Op

func (l opList) Ops(int) []Op { return l }

// TestCheckSchemeRejects: the check catches lists that no decoder could undo.
func TestCheckSchemeRejects(t *testing.T) {
	if err := checkScheme(testScheme{}, 3); err != nil {
		t.Fatal(err)
	}
	for name, ops := range map[string]opList{
		"prior before its condition": {PopPosterior(0), PushPixels(), PushPrior(0), PopPosterior(1), PushPrior(1)},
		"pixels before z_1":          {PushPixels(), PopPosterior(0), PopPosterior(1), PushPrior(0), PushPrior(1)},
		"layer never pushed":         {PopPosterior(0), PushPixels(), PopPosterior(1), PushPrior(1)},
		"layer popped twice":         {PopPosterior(0), PopPosterior(0), PushPixels(), PopPosterior(1), PushPrior(0), PushPrior(1)},
	} {
		if checkScheme(ops, 2) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
