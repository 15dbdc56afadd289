package vae

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/bitswap-codec/bitswap/vae/nn"
)

// digestModel is a small random model with non-trivial weights, of the default plan with
// position channels, context, the pixel mixture and its anchor components.
func digestModel(t testing.TB) *Model {
	cfg := digestConfig(DeepStages)
	cfg.PosChannels, cfg.Context, cfg.Mixture, cfg.Anchors = true, true, true, true
	return digestModelOf(t, cfg)
}

func digestConfig(stages int) Config {
	return Config{Layers: 2, ZC: 4, Width: 16, BlocksInf: []int{1, 1}, BlocksGen: []int{1, 1}, InKernel: 5, PixelStages: stages, StageBlocks: 1, StageSkip: true, StageHints: isCoarse(stages), EdgeHints: isCoarse(stages)}
}

func digestModelStages(t testing.TB, stages int) *Model {
	return digestModelOf(t, digestConfig(stages))
}

func digestModelOf(t testing.TB, cfg Config) *Model {
	m, err := New(cfg, 42)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for _, c := range m.Convs() {
		for i := range c.G {
			c.G[i] = float32(0.5 + rng.Float64())
		}
		for i := range c.Bias {
			c.Bias[i] = float32(rng.NormFloat64() * 0.1)
		}
	}
	m.Refresh()
	return m
}

// inferenceDigest runs every network of m on b patches (computed as batches of size batch)
// and hashes all outputs, including the derived float64 scales and pixel logistics, patch by
// patch, so that the digest does not depend on the batching.
func inferenceDigest(m *Model, b, batch int) string {
	return inferenceDigestWith(m, b, batch, nn.Config{})
}

// inferenceDigestWith is inferenceDigest with the networks run on the engine configuration
// cfg.
func inferenceDigestWith(m *Model, b, batch int, cfg nn.Config) string {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]uint8, 3*b*PatchSize*PatchSize)
	for i := range x {
		x[i] = uint8(rng.IntN(256))
	}
	cx := NewContext(b) // random context, each patch with other sides there
	for i := range cx.Pix {
		cx.Pix[i] = uint8(rng.IntN(256))
	}
	for i := range cx.Has {
		cx.Has[i] = uint8(i % 4)
	}
	hs := make([]hash.Hash, b)
	for i := range hs {
		hs[i] = sha256.New()
	}
	r := m.NewInferenceWith(cfg)
	const P = PatchSize * PatchSize
	const P2 = P
	for b0 := 0; b0 < b; b0 += batch {
		n := min(batch, b-b0)
		ph := hs[b0 : b0+n]
		xb := make([]uint8, 3*n*P)
		for c := 0; c < 3; c++ {
			copy(xb[c*n*P:(c+1)*n*P], x[(c*b+b0)*P:(c*b+b0+n)*P])
		}
		q := r.Posterior0(xb, n)
		hashPerPatch(ph, q)
		zc := m.Cfg.ZC
		z := r.LatentTensor(n)
		for i := range z.Data {
			z.Data[i] = q.Data[i] * 0.7
		}
		for i := 1; i < m.Cfg.Layers; i++ {
			hashPerPatch(ph, r.Posterior(i, z))
			p := r.Prior(i, z)
			hashPerPatch(ph, p)
			for bb := 0; bb < n; bb++ {
				for c := 0; c < zc; c++ {
					for j := 0; j < 256; j++ {
						binary.Write(ph[bb], binary.LittleEndian, LatentScale(p.Data[((zc+c)*n+bb)*256+j]))
					}
				}
			}
		}
		cb := &Context{Pix: cx.Pix[b0*CtxLen : (b0+n)*CtxLen], Has: cx.Has[b0 : b0+n]}
		valid := make([][2]int, n)
		for i := range valid {
			valid[i] = [2]int{PatchSize, PatchSize - (b0+i)%5} // some padding too
		}
		S := m.Cfg.PixelStages
		for st := 0; st < S; st++ {
			var P *nn.Tensor
			if st == 0 {
				P = r.PixelStage0(z)
			} else {
				P = r.PixelStage(st, xb, valid, cb)
			}
			hashPerPatch(ph, P)
			for gi, k := range StageGroups(S, st) {
				for bb := 0; bb < n; bb++ {
					for pos := 0; pos < 256; pos++ {
						y, x := 2*(pos/16)+k/2, 2*(pos%16)+k%2
						var px [3]uint8
						for c := 0; c < 3; c++ {
							px[c] = xb[(c*n+bb)*P2+y*PatchSize+x]
						}
						for c := 0; c < 3; c++ {
							var comp Components
							r.PixelComponents(st, P, gi, bb, pos, c, px, &comp)
							binary.Write(ph[bb], binary.LittleEndian, comp.W[:comp.K])
							binary.Write(ph[bb], binary.LittleEndian, comp.Mu[:comp.K])
							binary.Write(ph[bb], binary.LittleEndian, comp.S[:comp.K])
						}
					}
				}
			}
		}
	}
	all := sha256.New()
	for _, h := range hs {
		all.Write(h.Sum(nil))
	}
	return hex.EncodeToString(all.Sum(nil))
}

// hashPerPatch hashes patch b of t into hs[b].
func hashPerPatch(hs []hash.Hash, t *nn.Tensor) {
	n := len(hs)
	hw := t.H * t.W
	for b := 0; b < n; b++ {
		for c := 0; c < t.C; c++ {
			binary.Write(hs[b], binary.LittleEndian, t.Data[(c*n+b)*hw:(c*n+b+1)*hw])
		}
	}
}

// TestInferenceDeterministic: the same bits for batch sizes 1/7/64, worker counts 1/2/3 and
// the assembly and pure-Go kernels.
func TestInferenceDeterministic(t *testing.T) {
	for _, stages := range []int{4, CoarseStages, PyramidStages, SplitStages, DeepStages} {
		t.Run(fmt.Sprintf("stages%d", stages), func(t *testing.T) { testDeterministic(t, digestModelStages(t, stages)) })
	}
	t.Run("context", func(t *testing.T) { testDeterministic(t, digestModel(t)) })
	t.Run("integer", func(t *testing.T) { testDeterministic(t, quantizedModel(t, digestModel(t))) })
}

// quantizedModel returns m read back from its weights: its networks on the integer path.
func quantizedModel(t testing.TB, m *Model) *Model {
	q, err := UnmarshalWeights(m.MarshalWeights())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// buildDigest hashes the digests of the digest model in float32 and on the integer path.
func buildDigest(t testing.TB) string {
	m := digestModel(t)
	h := sha256.Sum256([]byte(inferenceDigest(m, 3, 2) + inferenceDigest(quantizedModel(t, m), 3, 2)))
	return hex.EncodeToString(h[:])
}

func testDeterministic(t *testing.T, m *Model) {
	ref := inferenceDigest(m, 9, 9)
	for _, batch := range []int{1, 7, 64} {
		for _, workers := range []int{1, 2, 3} {
			for _, kn := range nn.Kernels() {
				got := inferenceDigestWith(m, 9, batch, nn.Config{Workers: workers, Kernel: kn})
				if got != ref {
					t.Fatalf("batch %d, workers %d, kernel %s: digest %s, want %s", batch, workers, kn, got, ref)
				}
			}
		}
	}
}

// TestInferenceAcrossBuilds compiles this test for GOAMD64=v1 and v3 (where the compiler may
// fuse multiply-adds) and checks that both give the digest computed here.
func TestInferenceAcrossBuilds(t *testing.T) {
	if os.Getenv("BITSWAP_PRINT_DIGEST") != "" {
		fmt.Printf("DIGEST=%s\n", buildDigest(t))
		return
	}
	if testing.Short() {
		t.Skip("builds the package twice")
	}
	if runtime.GOARCH != "amd64" {
		t.Skip("GOAMD64 levels are an amd64 matter")
	}
	want := buildDigest(t)
	for _, level := range []string{"v1", "v3"} {
		cmd := exec.Command("go", "test", "-v", "-count=1", "-run", "^TestInferenceAcrossBuilds$", ".")
		cmd.Env = append(os.Environ(), "GOAMD64="+level, "BITSWAP_PRINT_DIGEST=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("GOAMD64=%s: %v\n%s", level, err, out)
		}
		i := strings.Index(string(out), "DIGEST=")
		if i < 0 {
			t.Fatalf("GOAMD64=%s: no digest in\n%s", level, out)
		}
		if got := string(out[i+7 : i+7+64]); got != want {
			t.Fatalf("GOAMD64=%s gives digest %s, this build %s", level, got, want)
		}
	}
}

func TestWeightsRoundTrip(t *testing.T) {
	m := digestModel(t)
	m.Bins[3] = BinRef{M: 0.25, S: 1.5}
	data := m.MarshalWeights()
	m2, err := UnmarshalWeights(data)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Bins[3] != m.Bins[3] {
		t.Fatalf("bins %v, want %v", m2.Bins[3], m.Bins[3])
	}
	// Read back, the networks run on the integer path; in float32 they compute what m does.
	if a, b := inferenceDigest(m, 2, 2), inferenceDigestWith(m2, 2, 2, nn.Config{Float32: true}); a != b {
		t.Fatal("a model read back from its weights computes differently in float32")
	}
	if inferenceDigest(m, 2, 2) == inferenceDigest(m2, 2, 2) {
		t.Fatal("a model read back from its weights does not run on the integer path")
	}
	for _, c := range m2.Convs() {
		if skip := slices.Contains(m2.Skip, c); c.Quantized() == skip {
			t.Fatalf("conv %v: integer path %v (skip %v)", c.Shape, c.Quantized(), skip)
		}
	}
	// A training model with integer networks computes what the loaded model does, also
	// after its weights change (Refresh quantizes them again).
	m.SetIntegerNets(true)
	if inferenceDigest(m, 2, 2) != inferenceDigest(m2, 2, 2) {
		t.Fatal("SetIntegerNets does not compute as a loaded model")
	}
	m.Gen[0].Out.G[0] *= 1.5
	m.Refresh()
	m3, err := UnmarshalWeights(m.MarshalWeights())
	if err != nil {
		t.Fatal(err)
	}
	if inferenceDigest(m, 2, 2) != inferenceDigest(m3, 2, 2) {
		t.Fatal("after Refresh, SetIntegerNets does not compute as a loaded model")
	}
	if !bytes.Equal(m2.MarshalWeights(), data) {
		t.Fatal("re-marshalled weights differ")
	}
	if ModelID(data) == ModelID(digestModel(t).MarshalWeights()[1:]) {
		t.Fatal("model ids collide")
	}
	// Every truncation and a flipped bit are refused.
	for _, n := range []int{0, 3, 10, len(data) / 2, len(data) - 1} {
		if _, err := UnmarshalWeights(data[:n]); !errors.Is(err, ErrBadWeights) {
			t.Fatalf("truncated to %d bytes: err %v", n, err)
		}
	}
	bad := append([]byte(nil), data...)
	bad[len(bad)/2] ^= 4
	if _, err := UnmarshalWeights(bad); !errors.Is(err, ErrBadWeights) {
		t.Fatalf("flipped bit: err %v", err)
	}
	// Past the checksum (resealed): a missing or an extra weight, a non-finite one.
	body := data[:len(data)-4]
	seal := func(b []byte) []byte { return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b)) }
	nan := append([]byte(nil), body...)
	binary.LittleEndian.PutUint32(nan[len(nan)-4:], math.Float32bits(float32(math.NaN())))
	for name, b := range map[string][]byte{
		"short":      seal(append([]byte(nil), body[:len(body)-4]...)),
		"trailing":   seal(append(append([]byte(nil), body...), 0, 0, 0, 0)),
		"not finite": seal(nan),
	} {
		if _, err := UnmarshalWeights(b); !errors.Is(err, ErrBadWeights) {
			t.Fatalf("%s: err %v", name, err)
		}
		// CheckWeights reads no weight, so it finds all but the non-finite one.
		if err := CheckWeights(b); (err == nil) != (name == "not finite") || err != nil && !errors.Is(err, ErrBadWeights) {
			t.Fatalf("CheckWeights, %s: err %v", name, err)
		}
	}
	if err := CheckWeights(data); err != nil {
		t.Fatalf("CheckWeights of good weights: %v", err)
	}
	if err := CheckWeights(bad); !errors.Is(err, ErrBadWeights) {
		t.Fatalf("CheckWeights, flipped bit: err %v", err)
	}
}

func TestLatentScaleRange(t *testing.T) {
	for _, h := range []float32{-1e30, -50, -2, 0, 3, 1e30} {
		s := LatentScale(h)
		if !(s >= 0.1 && s <= 1) {
			t.Fatalf("LatentScale(%v) = %v", h, s)
		}
	}
	if math.Abs(LatentScale(-2)-0.55) > 1e-15 {
		t.Fatalf("LatentScale(-2) = %v", LatentScale(-2))
	}
}

// TestInferenceNoAllocs: in steady state, a pass of every network allocates nothing (with
// the work split over several workers).
func TestInferenceNoAllocs(t *testing.T) {
	t.Run("float32", func(t *testing.T) { testNoAllocs(t, digestModel(t)) })
	t.Run("integer", func(t *testing.T) { testNoAllocs(t, quantizedModel(t, digestModel(t))) })
}

func testNoAllocs(t *testing.T, m *Model) {
	const B = 3
	x := make([]uint8, 3*B*PatchSize*PatchSize)
	for i := range x {
		x[i] = uint8(i * 7)
	}
	run := inferencePassWith(m, x, B, nn.Config{Workers: 2})
	run()
	if a := testing.AllocsPerRun(10, run); a != 0 {
		t.Fatalf("%v allocations per inference pass", a)
	}
}
