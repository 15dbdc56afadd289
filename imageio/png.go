package imageio

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"io"
)

// EncodePNG writes img as a non-interlaced PNG with img's own color type and bit depth:
// gray (PNG color type 0), gray+alpha (4), RGB (2) or RGBA (6), at 8 or 16 bits. Unlike
// image/png it never changes the color type (an opaque RGBA image stays RGBA), and it never
// premultiplies, so decoding the file with [Decode] gives back exactly img.
func EncodePNG(w io.Writer, img *Image) error {
	if err := img.Validate(); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString("\x89PNG\r\n\x1a\n"); err != nil {
		return err
	}
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(img.Width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(img.Height))
	ihdr[8] = byte(img.Depth)
	ihdr[9] = map[ColorType]byte{Gray: 0, GrayAlpha: 4, RGB: 2, RGBA: 6}[img.Color]
	if err := writeChunk(bw, "IHDR", ihdr[:]); err != nil {
		return err
	}
	cw := &chunkWriter{w: bw, buf: make([]byte, 0, 1<<16)}
	zw, err := zlib.NewWriterLevel(cw, zlib.DefaultCompression)
	if err != nil {
		return err
	}
	nc := len(img.Planes)
	bpp := nc * img.Depth / 8 // bytes per pixel
	stride := img.Width * bpp
	prev := make([]byte, stride)
	cur := make([]byte, stride)
	var filtered [5][]byte
	for f := range filtered {
		filtered[f] = make([]byte, 1+stride)
		filtered[f][0] = byte(f)
	}
	for y := 0; y < img.Height; y++ {
		k := 0
		for x := 0; x < img.Width; x++ {
			i := y*img.Width + x
			for c := 0; c < nc; c++ {
				v := img.Planes[c][i]
				if img.Depth == 16 {
					cur[k], cur[k+1] = byte(v>>8), byte(v)
					k += 2
				} else {
					cur[k] = byte(v)
					k++
				}
			}
		}
		best := filterRow(filtered, cur, prev, bpp)
		if _, err := zw.Write(filtered[best]); err != nil {
			return err
		}
		prev, cur = cur, prev
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := cw.flush(); err != nil {
		return err
	}
	if err := writeChunk(bw, "IEND", nil); err != nil {
		return err
	}
	return bw.Flush()
}

// filterRow fills out[f][1:] with the row filtered by each of PNG's five filters and returns
// the one with the smallest sum of absolute (signed byte) values, the usual heuristic.
func filterRow(out [5][]byte, cur, prev []byte, bpp int) int {
	best, bestSum := 0, -1
	for f := 0; f < 5; f++ {
		o := out[f][1:]
		sum := 0
		for i := range cur {
			var a, b, c byte
			if i >= bpp {
				a, c = cur[i-bpp], prev[i-bpp]
			}
			b = prev[i]
			var p byte
			switch f {
			case 1:
				p = a
			case 2:
				p = b
			case 3:
				p = byte((int(a) + int(b)) / 2)
			case 4:
				p = paeth(a, b, c)
			}
			d := cur[i] - p
			o[i] = d
			if d < 128 {
				sum += int(d)
			} else {
				sum += 256 - int(d)
			}
		}
		if bestSum < 0 || sum < bestSum {
			best, bestSum = f, sum
		}
	}
	return best
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	if pa <= pb && pa <= pc {
		return a
	}
	if pb <= pc {
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func writeChunk(w io.Writer, typ string, data []byte) error {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], typ)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:])
	crc.Write(data)
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], crc.Sum32())
	for _, b := range [][]byte{hdr[:], data, tail[:]} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// chunkWriter collects the zlib stream into IDAT chunks of up to 64 KiB.
type chunkWriter struct {
	w   io.Writer
	buf []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(cap(c.buf)-len(c.buf), len(p))
		c.buf = append(c.buf, p[:k]...)
		p = p[k:]
		if len(c.buf) == cap(c.buf) {
			if err := c.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (c *chunkWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	err := writeChunk(c.w, "IDAT", c.buf)
	c.buf = c.buf[:0]
	return err
}
