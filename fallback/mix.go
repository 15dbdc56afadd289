package fallback

// Logistic mixing of bit predictions, in integers only (so that every platform computes
// the same probabilities): predictions are "stretched" to the logit domain, combined
// with adaptive weights, and "squashed" back.

// squashTab[i] = 4096/(1+exp(-(i-16)/2)), rounded: the logistic function at 33 points.
var squashTab = [33]int32{1, 2, 4, 6, 10, 17, 27, 45, 74, 120, 194, 311, 488, 747, 1102, 1546,
	2048, 2550, 2994, 3349, 3608, 3785, 3902, 3976, 4022, 4051, 4069, 4079, 4086, 4090, 4092, 4094, 4095}

// squash maps a logit in 1/256 units (clamped to +-2047) to a 12-bit probability by
// linear interpolation in squashTab.
func squash(d int32) int32 {
	d = max(-2047, min(2047, d))
	w := d & 127
	i := d>>7 + 16
	return (squashTab[i]*(128-w) + squashTab[i+1]*w + 64) >> 7
}

// stretchTab is the inverse of squash: stretchTab[p] is the smallest d with squash(d) >= p.
var stretchTab = func() (t [probOne]int16) {
	pi := int32(0)
	for x := int32(-2047); x <= 2047; x++ {
		v := squash(x)
		for j := pi; j <= v; j++ {
			t[j] = int16(x)
		}
		pi = v + 1
	}
	for j := pi; j < probOne; j++ {
		t[j] = 2047
	}
	return
}()

func stretch(p uint32) int32 { return int32(stretchTab[p]) }

const (
	nMix     = 3
	mixInit  = 1 << 16 * 2 / 5 // initial weight 0.4 for each input
	mixShift = 16
	mixRate  = 6
	mixMaxW  = 1 << 22 // weights stay within +-64
)

// mixer combines nMix predictions with weights in 16.16 fixed point.
type mixer struct {
	w [nMix]int32
}

func newMixer() mixer {
	var m mixer
	for i := range m.w {
		m.w[i] = mixInit
	}
	return m
}

// mixBits codes or decodes one bit predicted by the models ms, mixed by mx, and updates
// them all. With enc set it encodes bit; otherwise it decodes and returns the bit.
func mixBit(enc *rcEncoder, dec *rcDecoder, bit int, mx *mixer, ms *[nMix]*bitModel) int {
	var st [nMix]int32
	var dot int64
	for i, m := range ms {
		st[i] = stretch(m.p12())
		dot += int64(mx.w[i]) * int64(st[i])
	}
	p := squash(int32(dot >> mixShift))
	p = max(1, min(probOne-1, p))
	if enc != nil {
		enc.encode(bit, uint32(p))
	} else {
		bit = dec.decode(uint32(p))
	}
	y := int32(0)
	if bit == 0 {
		y = probOne
	}
	err := (y - p) * mixRate
	for i := range ms {
		// Clamped so that no input, however hostile, can overflow the weights.
		mx.w[i] = max(-mixMaxW, min(mixMaxW, mx.w[i]+(st[i]*err+0x8000)>>16))
		ms[i].update(bit, rateLimit)
	}
	return bit
}
