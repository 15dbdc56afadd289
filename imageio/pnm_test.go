package imageio

import (
	"bufio"
	"bytes"
	"fmt"
	"testing"
)

// encodePNM writes img (gray or RGB) as P5/P6 with maxval 255 or 65535.
func encodePNM(img *Image) []byte {
	magic := "P5"
	if img.Color == RGB {
		magic = "P6"
	}
	b := fmt.Appendf(nil, "%s %d %d %d\n", magic, img.Width, img.Height, 1<<img.Depth-1)
	for i := 0; i < img.Width*img.Height; i++ {
		for _, p := range img.Planes {
			if img.Depth == 16 {
				b = append(b, byte(p[i]>>8))
			}
			b = append(b, byte(p[i]))
		}
	}
	return b
}

// FuzzPNM: any bytes decode to an error or to a valid image of the header's shape, which
// survives a round trip through encodePNM; never a panic.
func FuzzPNM(f *testing.F) {
	f.Add([]byte("P6\n# a comment\n3 1\n255\n\x01\x02\x03\x04\x05\x06\x07\x08\x09"))
	f.Add([]byte("P5 2 2 65535\t\x00\x01\xff\xff\x12\x34\x00\x00"))
	f.Add([]byte("P5 3 1 15\n\x00\x07\x0f"))
	f.Add([]byte("P5 1 1 1023\r\x03\xff"))
	f.Add([]byte("P6 2 1 255 \x00\x00\x00\xff\xff\xff"))
	f.Add([]byte("P6 2 2 255\n\x01\x02\x03"))
	f.Add([]byte("P5 16777216 16777216 255\n"))
	f.Add([]byte("P5 1 1 100\n\x65"))
	f.Add([]byte("P5#x\n1#y\r1 1\n\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, format, err := Decode(bytes.NewReader(data), &DecodeOptions{MaxPixels: 1 << 16})
		if err != nil {
			return
		}
		if format != FormatPNM {
			return // another format's magic
		}
		if err := img.Validate(); err != nil {
			t.Fatalf("accepted image is invalid: %v", err)
		}
		h, err := readPNMHeader(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatalf("accepted image, header error %v", err)
		}
		wantColor, wantDepth := Gray, 8
		if h.channels == 3 {
			wantColor = RGB
		}
		if h.maxval > 255 {
			wantDepth = 16
		}
		if img.Width != h.width || img.Height != h.height || img.Color != wantColor || img.Depth != wantDepth {
			t.Fatalf("header %+v decoded as %dx%d %v/%d", h, img.Width, img.Height, img.Color, img.Depth)
		}
		again, _, err := Decode(bytes.NewReader(encodePNM(img)), nil)
		if err != nil || !Equal(again, img) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
