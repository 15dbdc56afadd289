package fallback

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// synth makes test planes of several kinds.
func synth(kind string, nplanes, w, h, depth int, seed uint64) [][]uint16 {
	rng := rand.New(rand.NewPCG(seed, 7))
	maxv := 1<<depth - 1
	planes := make([][]uint16, nplanes)
	for c := range planes {
		p := make([]uint16, w*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var v int
				switch kind {
				case "noise":
					v = rng.IntN(maxv + 1)
				case "extremes":
					v = maxv * ((x + y + c) & 1)
				case "constant":
					v = (maxv / 3) * (c + 1) % (maxv + 1)
				case "smooth":
					v = (x*7 + y*3 + c*40) * maxv / (7*w + 3*h + 160)
					v += rng.IntN(3) - 1
				case "edges":
					v = maxv / 4
					if (x/5+y/3)%2 == 0 {
						v = maxv - maxv/5
					}
				}
				p[y*w+x] = uint16(max(0, min(maxv, v)))
			}
		}
		planes[c] = p
	}
	return planes
}

func roundTrip(t *testing.T, planes [][]uint16, w, h, depth int) []byte {
	t.Helper()
	prefix := []byte("prefix")
	enc, err := Encode(append([]byte(nil), prefix...), planes, w, h, depth)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	if !bytes.HasPrefix(enc, prefix) {
		t.Fatal("Encode did not append to dst")
	}
	enc = enc[len(prefix):]
	// Self-delimiting: trailing bytes are not consumed.
	withTail := append(append([]byte(nil), enc...), 0xde, 0xad, 0xbe, 0xef)
	dec, n, err := Decode(withTail, len(planes), w, h, depth)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if n != len(enc) {
		t.Fatalf("decode used %d bytes, encoding has %d", n, len(enc))
	}
	for c := range planes {
		for i := range planes[c] {
			if dec[c][i] != planes[c][i] {
				t.Fatalf("plane %d sample %d: got %d want %d", c, i, dec[c][i], planes[c][i])
			}
		}
	}
	return enc
}

func TestRoundTrip(t *testing.T) {
	sizes := [][2]int{{1, 1}, {1, 9}, {9, 1}, {2, 2}, {7, 5}, {32, 32}, {33, 31}, {64, 3}}
	for _, kind := range []string{"noise", "extremes", "constant", "smooth", "edges"} {
		for _, depth := range []int{8, 16} {
			for np := 1; np <= 5; np++ {
				for _, sz := range sizes {
					name := fmt.Sprintf("%s/d%d/p%d/%dx%d", kind, depth, np, sz[0], sz[1])
					t.Run(name, func(t *testing.T) {
						planes := synth(kind, np, sz[0], sz[1], depth, uint64(np*1000+sz[0]))
						roundTrip(t, planes, sz[0], sz[1], depth)
					})
				}
			}
		}
	}
}

func TestCoderReuse(t *testing.T) {
	var c Coder
	for i, kind := range []string{"smooth", "noise", "edges", "smooth"} {
		w, h := 20+i*13, 10+i*7
		planes := synth(kind, 3, w, h, 8, uint64(i))
		enc, err := c.Encode(nil, planes, w, h, 8)
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := Encode(nil, planes, w, h, 8)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, fresh) {
			t.Fatalf("reused Coder gives different bytes for image %d", i)
		}
		out := make([][]uint16, 3)
		for j := range out {
			out[j] = make([]uint16, w*h)
		}
		if _, err := c.DecodeInto(enc, out, w, h, 8); err != nil {
			t.Fatal(err)
		}
		for j := range out {
			if !equal16(out[j], planes[j]) {
				t.Fatalf("image %d plane %d differs", i, j)
			}
		}
	}
}

func equal16(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The fixed overhead must be small: a constant image costs a handful of bytes.
func TestOverhead(t *testing.T) {
	enc := roundTrip(t, [][]uint16{{42}}, 1, 1, 8)
	if len(enc) > 4 {
		t.Errorf("1x1 gray image takes %d bytes, want at most 4", len(enc))
	}
	planes := synth("constant", 3, 32, 32, 8, 1)
	enc = roundTrip(t, planes, 32, 32, 8)
	if len(enc) > 6 {
		t.Errorf("constant 32x32 RGB patch takes %d bytes, want at most 6", len(enc))
	}
	// Noise cannot be compressed: the cost must stay near 8 bits per sample (the adaptive
	// models pay some learning cost on a single patch).
	planes = synth("noise", 3, 32, 32, 8, 1)
	enc = roundTrip(t, planes, 32, 32, 8)
	if raw := 3 * 32 * 32; len(enc) > raw*112/100 {
		t.Errorf("noise patch takes %d bytes, raw is %d", len(enc), raw)
	}
}

func TestSmoothCompresses(t *testing.T) {
	planes := synth("smooth", 3, 64, 64, 8, 3)
	enc := roundTrip(t, planes, 64, 64, 8)
	if bpd := float64(len(enc)*8) / (3 * 64 * 64); bpd > 2.5 {
		t.Errorf("smooth image with +-1 noise costs %.2f bits/dim, want < 2.5", bpd)
	}
}

func TestInvalidArgs(t *testing.T) {
	p := [][]uint16{make([]uint16, 4)}
	cases := []struct {
		name   string
		planes [][]uint16
		w, h   int
		depth  int
	}{
		{"zero width", p, 0, 4, 8},
		{"bad depth", p, 2, 2, 12},
		{"short plane", p, 3, 2, 8},
		{"no planes", nil, 2, 2, 8},
		{"too many planes", make([][]uint16, MaxPlanes+1), 2, 2, 8},
		{"8-bit overflow", [][]uint16{{1, 2, 256, 3}}, 2, 2, 8},
	}
	for _, tc := range cases {
		if _, err := Encode(nil, tc.planes, tc.w, tc.h, tc.depth); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Encode error %v, want ErrInvalid", tc.name, err)
		}
	}
	if _, _, err := Decode([]byte{0}, 1, 0, 1, 8); !errors.Is(err, ErrInvalid) {
		t.Errorf("Decode with zero width: %v", err)
	}
}

func TestCorruptInput(t *testing.T) {
	planes := synth("smooth", 3, 40, 30, 8, 9)
	enc := roundTrip(t, planes, 40, 30, 8)
	// Truncation: the length prefix no longer matches.
	for n := 0; n < len(enc); n += 1 + n/16 {
		if _, _, err := Decode(enc[:n], 3, 40, 30, 8); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d of %d bytes: err %v, want ErrCorrupt", n, len(enc), err)
		}
	}
	// Bit flips in the coded stream must never panic; they give an error or other pixels
	// (the container's CRC catches the latter).
	rng := rand.New(rand.NewPCG(1, 2))
	detected := 0
	for i := 0; i < 300; i++ {
		bad := append([]byte(nil), enc...)
		k := 1 + rng.IntN(len(bad)-5) // not the last bytes, whose low bits may be slack
		bad[k] ^= 1 << rng.IntN(8)
		dec, _, err := Decode(bad, 3, 40, 30, 8)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("flip: error %v does not wrap ErrCorrupt", err)
			}
			detected++
			continue
		}
		same := true
		for c := range dec {
			same = same && equal16(dec[c], planes[c])
		}
		if same {
			t.Fatalf("flipping a bit of byte %d decoded to the original image", k)
		}
	}
	t.Logf("%d of 300 bit flips detected by the fallback decoder itself", detected)
}

// TestEncodeCosts: the per-block costs come with the same bytes as Encode, add up to the
// encoding's size, and put the bits where the content is hard.
func TestEncodeCosts(t *testing.T) {
	const w, h, blk = 100, 70, 32
	rng := rand.New(rand.NewPCG(5, 5))
	planes := make([][]uint16, 3)
	for c := range planes {
		planes[c] = make([]uint16, w*h)
		for i := range planes[c] {
			x, y := i%w, i/w
			planes[c][i] = uint16(80 + x/4 + y/8)
			if x >= 64 && y < 32 { // block (2, 0) is noise
				planes[c][i] = uint16(rng.IntN(256))
			}
		}
	}
	want, err := Encode(nil, planes, w, h, 8)
	if err != nil {
		t.Fatal(err)
	}
	got, costs, err := EncodeCosts(nil, planes, w, h, 8, blk)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("EncodeCosts: %v, same bytes %v", err, bytes.Equal(got, want))
	}
	if len(costs) != 4*3 {
		t.Fatalf("%d blocks, want 12", len(costs))
	}
	sum := 0.0
	for _, c := range costs {
		sum += c
	}
	if bits := float64(8 * len(want)); math.Abs(sum-bits) > 64+0.01*bits {
		t.Fatalf("costs add up to %.0f bits, the encoding has %.0f", sum, bits)
	}
	for i, c := range costs {
		if i != 2 && c > costs[2]/4 {
			t.Fatalf("block %d cost %.0f bits, the noise block %.0f", i, c, costs[2])
		}
	}
	if _, _, err := EncodeCosts(nil, planes, w, h, 8, 0); err == nil {
		t.Fatal("block size 0 accepted")
	}
}
