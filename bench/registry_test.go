package bench

import (
	"errors"
	"strings"
	"testing"

	"github.com/bitswap-codec/bitswap/codec"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
)

func TestRegisteredCodersAreRows(t *testing.T) {
	names := codec.Names()
	if len(names) == 0 {
		t.Fatal("no coder registered")
	}
	all := AllCodecs(Settings{})
	for i, n := range names {
		if all[i].Key() != n || !strings.Contains(all[i].Label(), n) {
			t.Errorf("row %d is %q (%s), want coder %q first", i, all[i].Key(), all[i].Label(), n)
		}
	}
	fb, err := Select(all, []string{"fallback"})
	if err != nil {
		t.Fatal(err)
	}
	var in []Input
	for ch := 1; ch <= 4; ch++ {
		in = append(in, memInput("img", testImage(40, 24, ch, int64(20+ch))))
	}
	rep := run(t, in, Options{Codecs: fb, Uncropped: true})
	for _, r := range rep.Results {
		if !r.OK() {
			t.Errorf("fallback, %d channels: %s", r.Channels, r.Err)
		}
		// The .bsw header alone is HeaderSize bytes: the row counts the whole file.
		if r.Bytes <= container.HeaderSize {
			t.Errorf("fallback: %d bytes", r.Bytes)
		}
	}
	// A .bsw file of another coder, or garbage, is refused.
	data, err := fb[0].Encode(in[2].mustLoad(t))
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), data...)
	bad[len(bad)-1] ^= 0xff
	if m, err := fb[0].Decode(bad, Shape{40, 24, 3}); err == nil && Equal(in[2].mustLoad(t), m) == nil {
		t.Error("corrupted file decoded to the original")
	}
	if _, err := fb[0].Decode([]byte("nonsense"), Shape{40, 24, 3}); err == nil {
		t.Error("garbage accepted")
	}
}

func (in Input) mustLoad(t *testing.T) *Image {
	m, err := in.Load()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fakeVAE is a registered coder with a −ELBO: it stores the planes' bytes.
type fakeVAE struct{ id container.CoderID }

func (f fakeVAE) ID() container.CoderID { return f.id }
func (fakeVAE) Name() string            { return "fakevae" }
func (fakeVAE) ModelID() [8]byte        { return [8]byte{1} }
func (fakeVAE) Encode(img *imageio.Image, _ *codec.Options) ([]byte, error) {
	var out []byte
	for _, p := range img.Planes {
		for _, v := range p {
			out = append(out, byte(v))
		}
	}
	return out, nil
}
func (fakeVAE) Decode(h *container.Header, payload []byte, _ *codec.Options) (*imageio.Image, error) {
	img := imageio.New(h.Width, h.Height, h.Color, h.Depth)
	n := h.Width * h.Height
	if len(payload) != n*len(img.Planes) {
		return nil, errors.New("bad payload")
	}
	for k, p := range img.Planes {
		for i := range p {
			p[i] = uint16(payload[k*n+i])
		}
	}
	return img, nil
}
func (fakeVAE) NegELBO(img *imageio.Image) (float64, error) {
	return 2.5 + float64(img.Width)/1000, nil
}

func TestRegisteredNegELBO(t *testing.T) {
	if _, err := codec.Lookup("fakevae"); err != nil { // not yet registered (-count > 1)
		free := container.CoderID(255)
		for id := container.CoderID(0); id.Valid(); id++ {
			if _, err := codec.LookupID(id); err != nil {
				free = id
				break
			}
		}
		if !free.Valid() {
			t.Skip("every coder id is taken in this test binary")
		}
		codec.Register(fakeVAE{free})
	}
	cs, err := Select(Registered(Settings{}), []string{"fakevae"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cs[0].(NegELBOer); !ok {
		t.Fatal("registered coder with NegELBO lost it")
	}
	rep := run(t, []Input{memInput("a", testImage(70, 40, 3, 1))}, Options{Codecs: cs})
	r := rep.Results[0]
	if !r.OK() || !r.HasNegELBO || r.NegELBO != 2.5+64.0/1000 || r.Bytes != 64*32*3+container.HeaderSize {
		t.Errorf("%+v", r)
	}
	if !rep.Codecs[0].HasNegELBO || !rep.Codecs[0].Own {
		t.Errorf("codec info %+v", rep.Codecs[0])
	}
	rep = run(t, []Input{memInput("a", testImage(64, 32, 3, 1))}, Options{Codecs: []Codec{gzipCodec{}}})
	if rep.Codecs[0].Own || rep.Codecs[0].HasNegELBO {
		t.Errorf("gzip info %+v", rep.Codecs[0])
	}
	// fallback has no −ELBO.
	for _, c := range Registered(Settings{}) {
		if _, ok := c.(NegELBOer); ok != (c.Key() == "fakevae") {
			t.Errorf("%s: NegELBOer = %v", c.Key(), ok)
		}
	}
}

// multiCoder is a registered-style coder that says it runs on opt.Workers goroutines.
type multiCoder struct{ codec.Coder }

func (multiCoder) Cores(opt *codec.Options) int { return opt.Workers }

// TestRegisteredCores: a registry row's cores are what its coder says for the bench's
// CoderWorkers (at least 1), and one for a coder that does not say.
func TestRegisteredCores(t *testing.T) {
	fb, err := codec.Lookup("fallback")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{0, 1, 3} {
		for _, tc := range []struct {
			c    codec.Coder
			want int
		}{{fb, 1}, {multiCoder{fb}, max(w, 1)}} {
			rc := registryCodec{name: "fallback", id: container.Fallback, workers: max(w, 1)}
			rc.cores = codec.Cores(tc.c, rc.opts())
			if rc.Cores() != tc.want {
				t.Errorf("%T, CoderWorkers %d: %d cores, want %d", tc.c, w, rc.Cores(), tc.want)
			}
		}
	}
	for _, c := range Registered(Settings{CoderWorkers: 3}) {
		if c.Key() == "fallback" && coresOf(c) != 1 {
			t.Errorf("fallback row on %d cores", coresOf(c))
		}
	}
}

// TestNoNegELBO: Settings.NoNegELBO leaves the −ELBO out of every registered coder.
func TestNoNegELBO(t *testing.T) {
	for _, c := range Registered(Settings{NoNegELBO: true}) {
		if _, ok := c.(NegELBOer); ok {
			t.Errorf("%s still has the -ELBO column", c.Key())
		}
	}
}
