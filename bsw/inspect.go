package bsw

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/bbcore"
)

// Mode says how a file's payload codes the image: the payload mode of the model coders
// (docs/format.md). The fallback coder's files are all ModeFallback.
type Mode uint8

const (
	// ModeFallback: the fallback coder coded the whole image.
	ModeFallback Mode = 0
	// ModeModel: the model coded Info.ModelPatches of the patches, the fallback coder the
	// others (the clean bits that start the bits-back chain).
	ModeModel Mode = 1
	// ModeYCC: the fallback coder coded the Y'CbCr planes behind the pixels (of a decoded
	// JPEG or WebP image; payload modes 2 to 6, docs/format.md).
	ModeYCC Mode = 2
)

// Info describes a .bsw file, as Inspect reads it without decoding the pixels.
type Info struct {
	Header container.Header // the file's header
	// Size is the length of the file: the header and the payload bytes present, which are
	// Header.PayloadLen of them unless the file is damaged.
	Size int64
	// Patches is the number of 32x32 patches of the image, the unit of the model coders.
	Patches int
	// Mode is how the payload codes the image, and ModelPatches how many of the Patches the
	// model coded (0 unless Mode is ModeModel).
	Mode         Mode
	ModelPatches int
	// ModeErr, if not nil, says why the mode of a model coder's payload could not be read
	// (a damaged payload, or one of a later version); Mode and ModelPatches are then 0.
	ModeErr error
}

// Inspect reads a .bsw file from r to its end without decoding the pixels: the header,
// whose CRC and fields it checks (with o's size limit; not the coder or the model id, which
// only matter to decoding), the start of a model coder's payload, and the length of the
// rest, which is not kept. A payload shorter or longer than
// the header says is an error wrapping ErrCorrupt, returned with the Info; any other error
// comes with a nil Info.
func Inspect(r io.Reader, o *Options) (*Info, error) {
	h, err := container.Read(r, container.Limits{MaxPixels: o.maxPixels()})
	if err != nil {
		return nil, fmt.Errorf("bsw: %w", err)
	}
	in := &Info{Header: *h, Patches: imageio.NewGrid(h.Width, h.Height).Len()}
	var head []byte
	if h.Coder == container.BitSwap || h.Coder == container.BBANS {
		// Enough for the payload's header (bbcore.Info): mode, calibration, the per-patch
		// bitmap and the chains' varints.
		n := min(h.PayloadLen, uint64(64+in.Patches/8+64*binary.MaxVarintLen64))
		if head, err = io.ReadAll(io.LimitReader(r, int64(n))); err != nil {
			return nil, fmt.Errorf("bsw: %w", err)
		}
		in.readMode(head)
	}
	rest, err := io.Copy(io.Discard, r)
	if err != nil {
		return nil, fmt.Errorf("bsw: %w", err)
	}
	in.Size = container.HeaderSize + int64(len(head)) + rest
	if uint64(in.Size-container.HeaderSize) != h.PayloadLen {
		return in, fmt.Errorf("bsw: %w: payload length does not match the header", ErrCorrupt)
	}
	return in, nil
}

// readMode sets the mode of in from head, the start of a model coder's payload.
func (in *Info) readMode(head []byte) {
	p, err := bbcore.Inspect(head, in.Patches)
	switch {
	case err != nil:
		in.ModeErr = err
	case p.YCC:
		in.Mode = ModeYCC
	case p.VAE:
		in.Mode, in.ModelPatches = ModeModel, in.Patches-p.Clean
	}
}
