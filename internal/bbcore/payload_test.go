package bbcore

import (
	"reflect"
	"testing"

	"github.com/bitswap-codec/bitswap/vae"
)

// TestInfoVersions: a mode-1 header reads back as written, and the older versions' headers
// (4: no mixture and anchor-scale offsets, 3: no colour scales either, 2: no calibration)
// read as the same header with those values zero.
func TestInfoVersions(t *testing.T) {
	const S, patches = 12, 21
	in := Info{Version: payloadVersion, VAE: true, LatentBits: 10, Lanes: 4, Chains: 2, Starts: []int{0, 3},
		CleanBytes: 40, MessageBytes: 900, Bitmap: []byte{0x05, 0, 0x10}, Clean: 3, Calib: padCalib(vae.Calib{}, S)}
	for s := 0; s < S; s++ {
		in.Calib.Scale[s], in.Calib.Anchor[s] = int8(s-6), int8(3-s)
		in.Calib.Colour[s] = [3]int8{int8(s % 3), -1, int8(-s)}
		in.Calib.Mix[s], in.Calib.AnchorScale[s] = int8(2*s-9), int8(s/2)
	}
	v5 := in.Append(nil)
	calib := v5[4 : 5+7*S]
	zeros := func(c vae.Calib) vae.Calib {
		c.Mix, c.AnchorScale = make([]int8, S), make([]int8, S)
		return c
	}
	for _, tc := range []struct {
		version byte
		calib   []byte
		want    vae.Calib
	}{
		{5, calib, in.Calib},
		{4, calib[:1+5*S], zeros(vae.Calib{Scale: in.Calib.Scale, Anchor: in.Calib.Anchor, Colour: in.Calib.Colour})},
		{3, calib[:1+2*S], zeros(vae.Calib{Scale: in.Calib.Scale, Anchor: in.Calib.Anchor, Colour: make([][3]int8, S)})},
		{2, nil, vae.Calib{}},
	} {
		p := append(append([]byte{tc.version}, v5[1:4]...), tc.calib...)
		p = append(p, v5[5+7*S:]...)
		got, rest, err := parseInfo(p, patches)
		if err != nil || len(rest) != 0 {
			t.Fatalf("version %d: %v (%d bytes left)", tc.version, err, len(rest))
		}
		want := in
		want.Version, want.Calib = tc.version, tc.want
		if !reflect.DeepEqual(got, want) {
			t.Errorf("version %d: read %+v, want %+v", tc.version, got, want)
		}
	}
}
