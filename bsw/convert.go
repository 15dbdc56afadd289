package bsw

import (
	"image"

	"github.com/bitswap-codec/bitswap/imageio"
)

// fromImage converts m to the planar image that Encode stores (see the package comment).
func fromImage(m image.Image) (*imageio.Image, error) {
	// The straight-alpha types keep their alpha plane even when opaque, so that an RGBA or
	// gray+alpha file decoded and encoded again keeps its color type.
	var keepAlpha bool
	switch m.(type) {
	case *image.NRGBA, *image.NRGBA64:
		keepAlpha = true
	}
	img, err := imageio.FromImage(m, false, keepAlpha)
	if err != nil {
		return nil, err
	}
	toGray(img)
	return img, nil
}

// toGray turns an RGB(A) image whose pixels all have R = G = B into gray(+alpha): the same
// pixels in fewer planes, and the only way a gray+alpha image (an NRGBA image in Go) keeps
// its color type.
func toGray(img *imageio.Image) {
	if img.Color != imageio.RGB && img.Color != imageio.RGBA {
		return
	}
	r, g, b := img.Planes[0], img.Planes[1], img.Planes[2]
	for i := range r {
		if r[i] != g[i] || r[i] != b[i] {
			return
		}
	}
	if img.Color == imageio.RGB {
		img.Color, img.Planes = imageio.Gray, img.Planes[:1]
	} else {
		img.Color, img.Planes = imageio.GrayAlpha, [][]uint16{r, img.Planes[3]}
	}
}

// toImage converts a decoded image to the Go type of the table in the package comment.
func toImage(img *imageio.Image) image.Image {
	rect := image.Rect(0, 0, img.Width, img.Height)
	p := img.Planes
	switch {
	case img.Color == imageio.Gray && img.Depth == 8:
		m := image.NewGray(rect)
		for i, v := range p[0] {
			m.Pix[i] = uint8(v)
		}
		return m
	case img.Color == imageio.Gray:
		m := image.NewGray16(rect)
		for i, v := range p[0] {
			m.Pix[2*i], m.Pix[2*i+1] = uint8(v>>8), uint8(v)
		}
		return m
	}
	pix := interleave(img)
	stride := len(pix) / img.Height
	switch {
	case img.Color == imageio.RGB && img.Depth == 8:
		return &image.RGBA{Pix: pix, Stride: stride, Rect: rect}
	case img.Color == imageio.RGB:
		return &image.RGBA64{Pix: pix, Stride: stride, Rect: rect}
	case img.Depth == 8:
		return &image.NRGBA{Pix: pix, Stride: stride, Rect: rect}
	}
	return &image.NRGBA64{Pix: pix, Stride: stride, Rect: rect}
}

// interleave returns the pixels of img as R, G, B, A samples, one byte each at depth 8 and
// two (big-endian) at depth 16: the layout of image.RGBA, NRGBA, RGBA64 and NRGBA64. Gray
// is repeated into R, G and B; a missing alpha is opaque.
func interleave(img *imageio.Image) []byte {
	p := img.Planes
	var src [4][]uint16 // nil alpha: opaque
	switch img.Color {
	case imageio.GrayAlpha:
		src = [4][]uint16{p[0], p[0], p[0], p[1]}
	case imageio.RGB:
		src = [4][]uint16{p[0], p[1], p[2], nil}
	case imageio.RGBA:
		src = [4][]uint16{p[0], p[1], p[2], p[3]}
	}
	opaque := uint16(1)<<img.Depth - 1
	size := img.Depth / 8 // bytes per sample
	pix := make([]byte, img.Pixels()*4*size)
	for i := range img.Pixels() {
		for c, s := range src {
			v := opaque
			if s != nil {
				v = s[i]
			}
			k := (4*i + c) * size
			if size == 2 {
				pix[k], pix[k+1] = uint8(v>>8), uint8(v)
			} else {
				pix[k] = uint8(v)
			}
		}
	}
	return pix
}
