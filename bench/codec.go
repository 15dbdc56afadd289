package bench

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bitswap-codec/bitswap/codec"
	"github.com/bitswap-codec/bitswap/imageio"
)

// Codec is one row of the comparison: a compressor together with its exact decoder.
type Codec interface {
	// Key is the short name used to select the codec (--codecs), e.g. "gzip".
	Key() string
	// Label is the row label. It names the implementation and its settings, e.g.
	// "gzip -9 (compress/gzip)", because a Go port need not match the C tool's output.
	Label() string
	// Encode compresses img. It must not modify img.
	Encode(img *Image) ([]byte, error)
	// Decode reverses Encode. s is the shape of the original image, for formats that do not
	// store it (raw-byte baselines). The runner compares the result with the original
	// pixel for pixel.
	Decode(data []byte, s Shape) (*Image, error)
}

// NegELBOer may be implemented by a Codec (or by a coder registered in the codec package)
// backed by a latent-variable model: NegELBO returns the model's negative evidence lower bound
// for img in bits per subpixel, the rate bits-back coding approaches. When a codec implements
// it, the comparison shows it next to the achieved rate.
type NegELBOer interface {
	NegELBO(img *imageio.Image) (bitsPerDim float64, err error)
}

// MultiCore may be implemented by a Codec that runs on more than one core: Cores is the
// number of goroutines it runs at once, at most. A codec without it runs on one (all the
// baselines do). The rows show it next to the timings.
type MultiCore interface {
	Cores() int
}

// coresOf returns how many cores c runs on (see MultiCore).
func coresOf(c Codec) int {
	if m, ok := c.(MultiCore); ok {
		return max(1, m.Cores())
	}
	return 1
}

// Settings select the baselines' speed/size trade-off.
type Settings struct {
	// Slow selects the slowest, strongest settings where a library has them: WebP lossless
	// -z 9 (method 6, quality 100) instead of -z 6 (method 4, quality 75), JPEG XL effort 9
	// instead of 7. gzip, bzip2, LZMA and PNG always use their strongest level.
	Slow bool
	// CoderWorkers is the number of goroutines the codec package's coders may use
	// (codec.Options.Workers; 0 counts as 1, like the baselines).
	CoderWorkers int
	// NoNegELBO leaves out the −ELBO column (a pass of the model over every patch, which
	// costs more than coding an image that the model does not code).
	NoNegELBO bool
	// Coders replace the registered coders of the same name (codec.Options.Coders): a model
	// coder with other weights, for instance.
	Coders []codec.Coder
}

// Unavailable lists baselines that are known but not built into this binary, with the
// reason (e.g. WebP and JPEG XL need the nodynamic build tag).
func Unavailable() map[string]string {
	out := map[string]string{}
	for k, v := range unavailable {
		out[k] = v
	}
	return out
}

var unavailable = map[string]string{}

// Baselines returns the general-purpose codecs compared against, in table order.
func Baselines(s Settings) []Codec {
	cs := []Codec{gzipCodec{}, bzip2Codec{}, lzmaCodec{}, pngCodec{}}
	return append(cs, extraBaselines(s)...)
}

// AllCodecs returns the codec package's coders (see Registered) followed by the baselines.
func AllCodecs(s Settings) []Codec {
	return append(Registered(s), Baselines(s)...)
}

// extraBaselines is set by optional files (gen2brain.go under the nodynamic tag).
var extraBaselines = func(Settings) []Codec { return nil }

// Select returns the codecs whose keys are listed in keys (comma-separated names are accepted
// too), in the order of all. An empty list selects everything. Unknown names are an error that
// lists the known ones.
func Select(all []Codec, keys []string) ([]Codec, error) {
	want := map[string]bool{}
	for _, k := range keys {
		for _, p := range strings.Split(k, ",") {
			if p = strings.TrimSpace(p); p != "" {
				want[strings.ToLower(p)] = true
			}
		}
	}
	if len(want) == 0 {
		return all, nil
	}
	var out []Codec
	known := map[string]bool{}
	for _, c := range all {
		k := strings.ToLower(c.Key())
		known[k] = true
		if want[k] {
			out = append(out, c)
		}
	}
	var bad []string
	for k := range want {
		if !known[k] {
			if why, ok := unavailable[k]; ok {
				bad = append(bad, fmt.Sprintf("%s (%s)", k, why))
			} else {
				bad = append(bad, k)
			}
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		names := make([]string, 0, len(all))
		for _, c := range all {
			names = append(names, c.Key())
		}
		return nil, fmt.Errorf("bench: unknown codec %s; known: %s", strings.Join(bad, ", "), strings.Join(names, ", "))
	}
	return out, nil
}
