package vae

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // register decoders for training images
	_ "image/jpeg" //
	_ "image/png"  //
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	_ "golang.org/x/image/webp"
)

// RGB is an 8-bit RGB image, planar: Pix[c*W*H + y*W + x].
type RGB struct {
	Name string
	W, H int
	Pix  []uint8
}

// FromImage converts any image.Image to planar 8-bit RGB (alpha is dropped: the colour of
// non-premultiplied pixels is kept).
func FromImage(name string, im image.Image) *RGB {
	b := im.Bounds()
	w, h := b.Dx(), b.Dy()
	r := &RGB{Name: name, W: w, H: h, Pix: make([]uint8, 3*w*h)}
	switch src := im.(type) {
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := src.YCbCrAt(b.Min.X+x, b.Min.Y+y)
				rr, gg, bb := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
				r.set(x, y, rr, gg, bb)
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := color.NRGBAModel.Convert(im.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				r.set(x, y, c.R, c.G, c.B)
			}
		}
	}
	return r
}

func (r *RGB) set(x, y int, cr, cg, cb uint8) {
	n := r.W * r.H
	i := y*r.W + x
	r.Pix[i], r.Pix[n+i], r.Pix[2*n+i] = cr, cg, cb
}

// LoadRGB decodes an image file.
func LoadRGB(path string) (*RGB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	im, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return FromImage(filepath.Base(path), im), nil
}

// LoadDir decodes every image in dir (sorted by name, using up to workers goroutines). Images
// smaller than a patch are skipped.
func LoadDir(dir string, workers int) ([]*RGB, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, e := range ents {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if !e.IsDir() && (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".webp" || ext == ".gif") {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(paths)
	out := make([]*RGB, len(paths))
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < max(1, workers); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i], errs[i] = loadCached(paths[i])
			}
		}()
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	var imgs []*RGB
	for i, im := range out {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if im.W >= PatchSize && im.H >= PatchSize {
			imgs = append(imgs, im)
		}
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("no usable images (at least %dx%d) in %s", PatchSize, PatchSize, dir)
	}
	return imgs, nil
}

// Sampler draws random 32x32 crops, uniformly over all crop positions of all images, with
// random horizontal flips; or, with Align > 1, only at positions that are multiples of
// Align and without flips, so that every crop sits on the image's pixel grid the way the
// coders' patches do (which start at multiples of 32): the 8x8 blocks and 2x2 chroma
// samples of a JPEG source, for instance, fall on the same positions in every crop.
type Sampler struct {
	imgs  []*RGB
	cum   []float64
	Align int
}

// NewSampler makes a sampler over imgs.
func NewSampler(imgs []*RGB) *Sampler {
	s := &Sampler{imgs: imgs}
	t := 0.0
	for _, im := range imgs {
		t += float64(im.W-PatchSize+1) * float64(im.H-PatchSize+1)
		s.cum = append(s.cum, t)
	}
	return s
}

// Fill fills bt with random crops.
func (s *Sampler) Fill(bt *Batch, rng *rand.Rand) {
	total := s.cum[len(s.cum)-1]
	for b := 0; b < bt.B; b++ {
		u := rng.Float64() * total
		i := sort.SearchFloat64s(s.cum, u)
		if i >= len(s.imgs) {
			i = len(s.imgs) - 1
		}
		im := s.imgs[i]
		if s.Align > 1 {
			x0 := s.Align * rng.IntN((im.W-PatchSize)/s.Align+1)
			y0 := s.Align * rng.IntN((im.H-PatchSize)/s.Align+1)
			// Each side of the context is left out now and then, as it is at the image's
			// top and left edges and wherever the coder's decoder has no neighbour yet.
			want := uint8(0)
			if rng.Float64() >= CtxDrop {
				want |= CtxUp
			}
			if rng.Float64() >= CtxDrop {
				want |= CtxLeft
			}
			bt.put(b, im, x0, y0, false, want)
			continue
		}
		x0 := rng.IntN(im.W - PatchSize + 1)
		y0 := rng.IntN(im.H - PatchSize + 1)
		flip := rng.IntN(2) == 1
		bt.put(b, im, x0, y0, flip, 0) // no context for unaligned crops
	}
}

// CtxDrop is the probability with which an aligned training crop goes without either side
// of its context.
const CtxDrop = 0.15

// PatchRef names an aligned patch of an image.
type PatchRef struct {
	Img    int
	X0, Y0 int
}

// GridPatches lists the full aligned patches (inside the image) of every image in raster
// order, taking every stride-th one (counted across images), at most limit (0: no limit).
func GridPatches(imgs []*RGB, stride, limit int) []PatchRef {
	var refs []PatchRef
	k := 0
	for i, im := range imgs {
		for y := 0; y+PatchSize <= im.H; y += PatchSize {
			for x := 0; x+PatchSize <= im.W; x += PatchSize {
				if k%stride == 0 && (limit == 0 || len(refs) < limit) {
					refs = append(refs, PatchRef{i, x, y})
				}
				k++
			}
		}
	}
	return refs
}

// CountGridPatches is the number of full aligned patches of imgs.
func CountGridPatches(imgs []*RGB) int {
	n := 0
	for _, im := range imgs {
		n += (im.W / PatchSize) * (im.H / PatchSize)
	}
	return n
}

// loadCached decodes path, keeping the decoded pixels in DIR/.cache/NAME.rgb (keyed by the
// source's size and modification time) so that later training runs start fast.
func loadCached(path string) (*RGB, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	cdir := filepath.Join(filepath.Dir(path), ".cache")
	key := fmt.Sprintf("%s.%d.%d.rgb", filepath.Base(path), fi.Size(), fi.ModTime().UnixNano())
	cpath := filepath.Join(cdir, key)
	if data, err := os.ReadFile(cpath); err == nil && len(data) >= 8 {
		w := int(binary.LittleEndian.Uint32(data))
		h := int(binary.LittleEndian.Uint32(data[4:]))
		if len(data) == 8+3*w*h {
			return &RGB{Name: filepath.Base(path), W: w, H: h, Pix: data[8:]}, nil
		}
	}
	im, err := LoadRGB(path)
	if err != nil {
		return nil, err
	}
	if os.MkdirAll(cdir, 0o755) == nil {
		buf := make([]byte, 8, 8+len(im.Pix))
		binary.LittleEndian.PutUint32(buf, uint32(im.W))
		binary.LittleEndian.PutUint32(buf[4:], uint32(im.H))
		_ = writeFileAtomic(cpath, append(buf, im.Pix...)) // best effort
	}
	return im, nil
}
