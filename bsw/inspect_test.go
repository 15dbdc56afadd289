package bsw_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/bitswap-codec/bitswap/bsw"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/bbcore"
)

// TestInspect: the header, size and payload mode of each golden file, with the model-coded
// patches counted from the payload's bitmap.
func TestInspect(t *testing.T) {
	modes := map[string]bsw.Mode{"rgb-bitswap": bsw.ModeModel, "rgb-bbans": bsw.ModeModel, "rgb-jpeg-bitswap": bsw.ModeYCC,
		"rgb-djpeg-bitswap": bsw.ModeYCC, "rgb-dwebp-bitswap": bsw.ModeYCC, "rgb-djpeg420-bitswap": bsw.ModeYCC, "rgb-dwebp420-bitswap": bsw.ModeYCC}
	for _, g := range goldens {
		data := readFile(t, g.name+".bsw")
		in, err := bsw.Inspect(bytes.NewReader(data), nil)
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		h := header(t, data)
		P := imageio.NewGrid(h.Width, h.Height).Len()
		if in.Header != *h || in.Size != int64(len(data)) || in.Patches != P || in.Mode != modes[g.name] || in.ModeErr != nil {
			t.Errorf("%s: %+v", g.name, in)
		}
		want := 0
		if in.Mode == bsw.ModeModel {
			p, err := bbcore.Inspect(data[container.HeaderSize:], P)
			if err != nil {
				t.Fatal(err)
			}
			want = P - p.Clean
		}
		if in.ModelPatches != want || (in.Mode == bsw.ModeModel) != (want > 0) {
			t.Errorf("%s: %d model-coded patches, want %d", g.name, in.ModelPatches, want)
		}
	}
}

// TestInspectDamaged: a payload of the wrong length comes with its Info and ErrCorrupt; a
// damaged payload header is told in ModeErr; a bad header is only an error.
func TestInspectDamaged(t *testing.T) {
	data := readFile(t, "rgb-bitswap.bsw")
	for name, b := range map[string][]byte{"truncated": data[:len(data)-3], "trailing": append(bytes.Clone(data), 1, 2)} {
		in, err := bsw.Inspect(bytes.NewReader(b), nil)
		if !errors.Is(err, bsw.ErrCorrupt) || in == nil || in.Size != int64(len(b)) || in.Mode != bsw.ModeModel {
			t.Errorf("%s: %+v, %v", name, in, err)
		}
	}
	b := bytes.Clone(data)
	b[container.HeaderSize] = 99 // the payload's version
	if in, err := bsw.Inspect(bytes.NewReader(b), nil); err != nil || in.ModeErr == nil || in.ModelPatches != 0 {
		t.Errorf("payload version 99: %+v, %v", in, err)
	}
	for _, c := range []struct {
		name string
		data []byte
		o    *bsw.Options
		want error
	}{
		{"not bsw", []byte("GIF89a"), nil, bsw.ErrFormat},
		{"short header", data[:20], nil, bsw.ErrCorrupt},
		{"too large", data, &bsw.Options{MaxPixels: 96*96 - 1}, bsw.ErrTooLarge},
	} {
		if in, err := bsw.Inspect(bytes.NewReader(c.data), c.o); !errors.Is(err, c.want) || in != nil {
			t.Errorf("%s: %+v, %v; want %v", c.name, in, err, c.want)
		}
	}
}
