// Command datatool pulls the photographs out of the containers that Debian's photographic
// packages store them in, and makes the downscaled training copies. It is run by
// scripts/fetch-data.sh; see ../shared/DATA.md for which packages and entries.
//
//	datatool eet FILE.edj OUT.jpg        the largest JPEG entry edje/images/N of an Eet file
//	datatool rcc FILE.rcc OUTDIR PREFIX MINSIDE
//	                                     every WebP of a Qt resource file whose shorter side is
//	                                     >= MINSIDE, as OUTDIR/PREFIX + its base name
//	datatool down IN OUTPREFIX MINSIDE   2x and 4x area-filtered copies (8-bit PNG) of IN whose
//	                                     shorter side stays >= MINSIDE: OUTPREFIX.d2.png, .d4.png
//	datatool ppm IN.ppm OUT.png          a binary PPM or PGM (djpeg's, dwebp's output) as PNG
//	datatool ycc IN OUT.png              the Y'CbCr planes of a JPEG or lossy WebP as Go decodes
//	                                     them, as an RGB PNG: R = Y', G = Cb, B = Cr, each
//	                                     chroma sample repeated over its block
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"

	"github.com/bitswap-codec/bitswap/imageio"

	_ "golang.org/x/image/webp"
)

func main() {
	var err error
	switch {
	case len(os.Args) == 4 && os.Args[1] == "eet":
		err = eet(os.Args[2], os.Args[3])
	case len(os.Args) == 6 && os.Args[1] == "rcc":
		var min int
		if _, err = fmt.Sscan(os.Args[5], &min); err == nil {
			err = rcc(os.Args[2], os.Args[3], os.Args[4], min)
		}
	case len(os.Args) == 5 && os.Args[1] == "down":
		var min int
		if _, err = fmt.Sscan(os.Args[4], &min); err == nil {
			err = down(os.Args[2], os.Args[3], min)
		}
	case len(os.Args) == 4 && os.Args[1] == "ppm":
		err = ppm(os.Args[2], os.Args[3])
	case len(os.Args) == 4 && os.Args[1] == "ycc":
		err = yccPlanes(os.Args[2], os.Args[3])
	default:
		err = errors.New("usage: datatool eet FILE OUT | rcc FILE OUTDIR PREFIX MINSIDE | down IN OUTPREFIX MINSIDE | ppm IN OUT | ycc IN OUT")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "datatool:", err)
		os.Exit(1)
	}
}

// eet writes the largest plain-JPEG image entry of an Eet file. The Eet header is big-endian:
// magic, entry count, dictionary size, then six int32 per entry (offset, size, data size,
// name offset, name length, flags); names are NUL-terminated strings at name offset.
func eet(path, out string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	be := binary.BigEndian
	if len(b) < 12 || be.Uint32(b) != 0x1EE70F42 {
		return fmt.Errorf("%s: not an Eet file", path)
	}
	n := int(be.Uint32(b[4:]))
	var best []byte
	bestPix := 0
	for i := 0; i < n; i++ {
		e := 12 + 24*i
		if e+24 > len(b) {
			return fmt.Errorf("%s: truncated directory", path)
		}
		off, size := int(be.Uint32(b[e:])), int(be.Uint32(b[e+4:]))
		noff, nlen, flags := int(be.Uint32(b[e+12:])), int(be.Uint32(b[e+16:])), be.Uint32(b[e+20:])
		if off < 0 || size < 0 || off+size > len(b) || noff < 0 || noff+nlen > len(b) {
			return fmt.Errorf("%s: entry %d out of range", path, i)
		}
		name := strings.TrimRight(string(b[noff:noff+nlen]), "\x00")
		data := b[off : off+size]
		if flags != 0 || !strings.HasPrefix(name, "edje/images/") || !bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}) {
			continue
		}
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err == nil && cfg.Width*cfg.Height > bestPix {
			best, bestPix = data, cfg.Width*cfg.Height
		}
	}
	if best == nil {
		return fmt.Errorf("%s: no JPEG image entry", path)
	}
	return os.WriteFile(out, best, 0o644)
}

// rcc writes every uncompressed WebP file of a Qt binary resource file under its own name.
// Layout: "qres", version, tree/data/names offsets (big-endian uint32); a tree node is the
// name offset, flags, then for a directory its child count and first child, for a file
// locale and data offset (and from version 2 a modification time); a name is a uint16
// length, a hash and UTF-16 characters; a data entry is a uint32 length and the bytes.
func rcc(path, outdir, prefix string, min int) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	be := binary.BigEndian
	if len(b) < 20 || string(b[:4]) != "qres" {
		return fmt.Errorf("%s: not a Qt resource file", path)
	}
	ver := be.Uint32(b[4:])
	tree, data, names := int(be.Uint32(b[8:])), int(be.Uint32(b[12:])), int(be.Uint32(b[16:]))
	nodeSize := 14
	if ver >= 2 {
		nodeSize = 22
	}
	u32 := func(o int) (int, bool) {
		if o < 0 || o+4 > len(b) {
			return 0, false
		}
		return int(be.Uint32(b[o:])), true
	}
	name := func(o int) string {
		o += names
		if o < 0 || o+6 > len(b) {
			return ""
		}
		l := int(be.Uint16(b[o:]))
		if o+6+2*l > len(b) {
			return ""
		}
		u := make([]uint16, l)
		for i := range u {
			u[i] = be.Uint16(b[o+6+2*i:])
		}
		return string(utf16.Decode(u))
	}
	var walk func(node int, dir string, depth int) error
	walk = func(node int, dir string, depth int) error {
		o := tree + node*nodeSize
		if depth > 32 || o < 0 || o+nodeSize > len(b) {
			return fmt.Errorf("%s: bad tree node %d", path, node)
		}
		nm, _ := u32(o)
		flags := be.Uint16(b[o+4:])
		p := filepath.Join(dir, name(nm))
		if flags&2 != 0 { // directory
			count, _ := u32(o + 6)
			first, _ := u32(o + 10)
			for i := 0; i < count; i++ {
				if err := walk(first+i, p, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		doff, _ := u32(o + 10)
		size, ok := u32(data + doff)
		start := data + doff + 4
		if !ok || start+size > len(b) || flags != 0 || !strings.HasSuffix(strings.ToLower(p), ".webp") {
			return nil // compressed entries and other files are not photographs
		}
		img := b[start : start+size]
		cfg, _, err := image.DecodeConfig(bytes.NewReader(img))
		if err != nil || cfg.Width < min || cfg.Height < min {
			return nil
		}
		return os.WriteFile(filepath.Join(outdir, prefix+filepath.Base(p)), img, 0o644)
	}
	return walk(0, "", 0)
}

// down writes the 2x and 4x area-filtered (box) downscales of an image as 8-bit RGB PNGs,
// each rounded to nearest, as long as the shorter side stays at least min.
func down(in, outPrefix string, min int) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	src, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	for _, k := range []int{2, 4} {
		b := src.Bounds()
		w, h := b.Dx()/k, b.Dy()/k
		if w < min || h < min {
			break
		}
		dst := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var s [3]uint32
				for dy := 0; dy < k; dy++ {
					for dx := 0; dx < k; dx++ {
						c := color.NRGBAModel.Convert(src.At(b.Min.X+k*x+dx, b.Min.Y+k*y+dy)).(color.NRGBA)
						s[0] += uint32(c.R)
						s[1] += uint32(c.G)
						s[2] += uint32(c.B)
					}
				}
				kk := uint32(k * k)
				dst.SetNRGBA(x, y, color.NRGBA{uint8((s[0] + kk/2) / kk), uint8((s[1] + kk/2) / kk), uint8((s[2] + kk/2) / kk), 255})
			}
		}
		var buf bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, dst); err != nil {
			return err
		}
		if err := os.WriteFile(fmt.Sprintf("%s.d%d.png", outPrefix, k), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ppm converts an 8-bit binary PPM or PGM (P6 or P5, maxval 255: djpeg writes a grayscale
// JPEG as P5) into a PNG, through imageio's PNM decoder and exact PNG writer.
func ppm(in, out string) error {
	img, format, err := imageio.DecodeFile(in, nil)
	if err != nil {
		return err
	}
	if format != imageio.FormatPNM || (img.Color != imageio.RGB && img.Color != imageio.Gray) || img.Depth != 8 {
		return fmt.Errorf("%s: not an 8-bit binary PPM or PGM", in)
	}
	var buf bytes.Buffer
	if err := imageio.EncodePNG(&buf, img); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// yccPlanes writes the Y'CbCr planes behind a JPEG or lossy WebP as an RGB PNG (R = Y', G = Cb,
// B = Cr, chroma repeated over its block as Go's decoders repeat it): the data of a model of
// the planes that payload mode 2 codes. Other images (PNG, grayscale or CMYK JPEG) are an
// error.
func yccPlanes(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	m, _, err := image.Decode(f)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	var y *image.YCbCr
	switch v := m.(type) {
	case *image.YCbCr:
		y = v
	case *image.NYCbCrA:
		y = &v.YCbCr
	default:
		return fmt.Errorf("%s: a %T, not Y'CbCr planes", in, m)
	}
	b := y.Rect
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for yy := b.Min.Y; yy < b.Max.Y; yy++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			yi, ci := y.YOffset(x, yy), y.COffset(x, yy)
			dst.SetRGBA(x-b.Min.X, yy-b.Min.Y, color.RGBA{y.Y[yi], y.Cb[ci], y.Cr[ci], 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, dst); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}
