package imageio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

var errPNM = errors.New("malformed PNM")

type pnmHeader struct {
	channels      int // 1 for P5, 3 for P6
	width, height int
	maxval        int
}

// readPNMHeader parses "P5" or "P6", whitespace, width, height, maxval and exactly one
// whitespace byte; '#' starts a comment running to the end of the line.
func readPNMHeader(r *bufio.Reader) (pnmHeader, error) {
	var h pnmHeader
	var magic [2]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return h, fmt.Errorf("%w: %v", errPNM, err)
	}
	switch string(magic[:]) {
	case "P5":
		h.channels = 1
	case "P6":
		h.channels = 3
	default:
		return h, fmt.Errorf("%w: magic %q (only binary P5 and P6 are supported)", errPNM, magic[:])
	}
	var fields [3]int
	for i := range fields {
		v, err := readPNMInt(r)
		if err != nil {
			return h, err
		}
		fields[i] = v
	}
	// Exactly one whitespace character separates maxval from the raster.
	c, err := r.ReadByte()
	if err != nil || !isPNMSpace(c) {
		return h, fmt.Errorf("%w: no whitespace after maxval", errPNM)
	}
	h.width, h.height, h.maxval = fields[0], fields[1], fields[2]
	if h.width < 1 || h.height < 1 {
		return h, fmt.Errorf("%w: size %dx%d", errPNM, h.width, h.height)
	}
	if h.maxval < 1 || h.maxval > 65535 {
		return h, fmt.Errorf("%w: maxval %d not in 1..65535", errPNM, h.maxval)
	}
	return h, nil
}

func isPNMSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// readPNMInt skips whitespace and comments, then reads a decimal number.
func readPNMInt(r *bufio.Reader) (int, error) {
	for {
		c, err := r.ReadByte()
		if err != nil {
			return 0, fmt.Errorf("%w: truncated header", errPNM)
		}
		if isPNMSpace(c) {
			continue
		}
		if c == '#' {
			for c != '\n' && c != '\r' {
				if c, err = r.ReadByte(); err != nil {
					return 0, fmt.Errorf("%w: truncated header", errPNM)
				}
			}
			continue
		}
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: unexpected byte %q in header", errPNM, c)
		}
		v := int(c - '0')
		for {
			c, err := r.ReadByte()
			if err != nil {
				return 0, fmt.Errorf("%w: truncated header", errPNM)
			}
			if c < '0' || c > '9' {
				if err := r.UnreadByte(); err != nil {
					return 0, err
				}
				return v, nil
			}
			v = v*10 + int(c-'0')
			if v > 1<<30 {
				return 0, fmt.Errorf("%w: number too large", errPNM)
			}
		}
	}
}

// decodePNM decodes a P5/P6 image (see Decode for the rescaling of maxval).
func decodePNM(r io.Reader, maxPixels int64) (*Image, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	h, err := readPNMHeader(br)
	if err != nil {
		return nil, err
	}
	if err := CheckSize(int64(h.width), int64(h.height), maxPixels); err != nil {
		return nil, err
	}
	depth, bps := 8, 1
	if h.maxval > 255 {
		depth, bps = 16, 2
	}
	ct := Gray
	if h.channels == 3 {
		ct = RGB
	}
	if n := ImageBytes(int64(h.width), int64(h.height), ct); allocFails(n) != "" {
		return nil, fmt.Errorf("%w: a %dx%d %v image needs %s of memory, %s", ErrTooLarge, h.width, h.height, ct, byteSize(n), allocFails(n))
	}
	img := New(h.width, h.height, ct, depth)
	full := (1 << depth) - 1
	mv := h.maxval
	row := make([]byte, h.width*h.channels*bps)
	for y := 0; y < h.height; y++ {
		if _, err := io.ReadFull(br, row); err != nil {
			return nil, fmt.Errorf("%w: truncated raster at row %d", errPNM, y)
		}
		for x := 0; x < h.width; x++ {
			for c := 0; c < h.channels; c++ {
				k := x*h.channels + c
				var v int
				if bps == 1 {
					v = int(row[k])
				} else {
					v = int(row[2*k])<<8 | int(row[2*k+1])
				}
				if v > mv {
					return nil, fmt.Errorf("%w: sample %d above maxval %d", errPNM, v, mv)
				}
				if mv != full {
					v = (v*full + mv/2) / mv
				}
				img.Planes[c][y*h.width+x] = uint16(v)
			}
		}
	}
	return img, nil
}
