package codec

import (
	"fmt"

	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/fallback"
	"github.com/bitswap-codec/bitswap/imageio"
)

// fallbackCoder codes the whole image with package fallback. Its payload is exactly one
// fallback stream (length prefix included) covering all planes.
type fallbackCoder struct{}

func init() { Register(fallbackCoder{}) }

func (fallbackCoder) ID() container.CoderID { return container.Fallback }
func (fallbackCoder) Name() string          { return "fallback" }
func (fallbackCoder) ModelID() [8]byte      { return [8]byte{} }

func (fallbackCoder) Encode(img *imageio.Image, opt *Options) ([]byte, error) {
	out, err := fallback.Encode(nil, img.Planes, img.Width, img.Height, img.Depth)
	if err == nil && opt != nil && opt.Progress != nil {
		opt.Progress(1, 1)
	}
	return out, err
}

func (fallbackCoder) Decode(h *container.Header, payload []byte, opt *Options) (*imageio.Image, error) {
	img := imageio.New(h.Width, h.Height, h.Color, h.Depth)
	n, err := fallback.DecodeInto(payload, img.Planes, h.Width, h.Height, h.Depth)
	if err != nil {
		return nil, err
	}
	if n != len(payload) {
		return nil, fmt.Errorf("%w: %d bytes after the fallback stream", container.ErrCorrupt, len(payload)-n)
	}
	if opt != nil && opt.Progress != nil {
		opt.Progress(1, 1)
	}
	return img, nil
}
