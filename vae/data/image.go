// Package data is the training data of the VAE (package vae): images decoded to planar 8-bit
// RGB, with their decoded pixels cached beside them, random crops for the training steps and
// the aligned patches of the images' grids for validation and measurements, cut into
// vae.Batch values by the functions that cut the coders' patches (vae.PutPatch,
// vae.PutContext).
package data

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // register decoders for training images
	_ "image/jpeg" //
	_ "image/png"  //
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	_ "golang.org/x/image/webp"

	"github.com/bitswap-codec/bitswap/internal/atomicfile"
	"github.com/bitswap-codec/bitswap/vae"
)

// RGB is an 8-bit RGB image, planar: Pix[c*W*H + y*W + x].
type RGB struct {
	Name string
	W, H int
	Pix  []uint8
	// YCC: R, G, B hold Y', Cb, Cr planes (datatool ycc, whose files LoadDir knows by
	// their names, *.ycc.png).
	YCC bool
	// Flags are context flags for its crops: RepX and RepY (for Y'CbCr planes,
	// vae.ChromaRepeats, set by LoadDir) for crops on its 2x2 grid, ChromaKnown for every
	// crop.
	Flags uint8
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

// Planes returns r's R, G and B planes (views of Pix).
func (r *RGB) Planes() [][]uint8 {
	n := r.W * r.H
	return [][]uint8{r.Pix[:n], r.Pix[n : 2*n], r.Pix[2*n : 3*n]}
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
				if im := out[i]; im != nil && strings.HasSuffix(im.Name, ".ycc.png") {
					// Here, on the workers: a pass over every pixel of the planes.
					im.YCC, im.Flags = true, vae.ChromaRepeats(im.Planes(), im.W, im.H)
				}
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
		if im.W >= vae.PatchSize && im.H >= vae.PatchSize {
			imgs = append(imgs, im)
		}
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("no usable images (at least %dx%d) in %s", vae.PatchSize, vae.PatchSize, dir)
	}
	return imgs, nil
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
		_ = atomicfile.WriteFile(cpath, append(buf, im.Pix...)) // best effort
	}
	return im, nil
}

// MarkChromaKnown flags every crop of the Y'CbCr planes among imgs as having its chroma
// known before its Y' (vae.ChromaKnown): a model of Y' alone, given chroma coded on its own.
// RGB images keep all three colours (a data directory may hold both).
func MarkChromaKnown(imgs []*RGB) {
	for _, im := range imgs {
		if im.YCC {
			im.Flags |= vae.ChromaKnown
		}
	}
}
