package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/bitswap-codec/bitswap/codec"
	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/bbcore"
)

func infoCommand() *cli.Command {
	return &cli.Command{
		Name:      "info",
		Usage:     "show the header of .bsw files",
		ArgsUsage: "FILE...",
		Description: `Prints the header fields of each .bsw file ("-" for stdin), its size in bits per
subpixel, and whether the payload has the length the header claims. It does not
decode the pixels (use decode for a full check).`,
		Flags:  []cli.Flag{maxPixelsFlag()},
		Action: runInfo,
	}
}

func runInfo(c *cli.Context) error {
	if c.NArg() == 0 {
		return usagef("info: missing .bsw file (see --help)")
	}
	var errs []error
	for i, name := range c.Args().Slice() {
		if i > 0 {
			fmt.Fprintln(c.App.Writer)
		}
		if err := info(c, name); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func info(c *cli.Context, name string) error {
	r, err := openInput(c, name)
	if err != nil {
		return err
	}
	defer r.Close()
	h, err := container.Read(r, container.Limits{MaxPixels: maxPixels(c)})
	if err != nil {
		return err
	}
	// Keep what a model coder's payload header needs (the per-patch bitmap), count the rest.
	var head []byte
	if h.Coder == container.BitSwap || h.Coder == container.BBANS {
		grid := imageio.NewGrid(h.Width, h.Height)
		if head, err = io.ReadAll(io.LimitReader(r, int64(min(h.PayloadLen, uint64(64+grid.Len()/8+64*binary.MaxVarintLen64))))); err != nil {
			return err
		}
	}
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return err
	}
	rest := int64(len(head)) + n
	w := c.App.Writer
	channels := h.Color.Channels()
	size := container.HeaderSize + rest
	fmt.Fprintf(w, "file:       %s\n", name)
	fmt.Fprintf(w, "format:     .bsw version %d\n", h.Version)
	avail := ""
	if _, err := codec.LookupID(h.Coder); err != nil {
		avail = " (not available in this build)"
	}
	fmt.Fprintf(w, "coder:      %v%s\n", h.Coder, avail)
	if h.ModelID == [8]byte{} {
		fmt.Fprintf(w, "model:      none\n")
	} else {
		fmt.Fprintf(w, "model:      %x\n", h.ModelID)
	}
	fmt.Fprintf(w, "image:      %dx%d %v, %d bits per sample\n", h.Width, h.Height, h.Color, h.Depth)
	fmt.Fprintf(w, "pixel crc:  %08x (CRC-32C)\n", h.PixelCRC)
	status := "complete"
	switch {
	case uint64(rest) < h.PayloadLen:
		status = fmt.Sprintf("TRUNCATED: %d bytes present", rest)
	case uint64(rest) > h.PayloadLen:
		status = fmt.Sprintf("%d bytes of TRAILING DATA", uint64(rest)-h.PayloadLen)
	}
	fmt.Fprintf(w, "payload:    %d bytes, %s\n", h.PayloadLen, status)
	if head != nil {
		fmt.Fprintf(w, "%s\n", modelCoded(head, h))
	}
	dims := float64(h.Width) * float64(h.Height) * float64(channels)
	raw := dims * float64(h.Depth) / 8
	fmt.Fprintf(w, "size:       %d bytes, %.4f bits/subpixel, ratio %.3f to raw\n", size, float64(size)*8/dims, raw/float64(size))
	if status != "complete" {
		return fmt.Errorf("%w: payload length does not match the header", container.ErrCorrupt)
	}
	return nil
}

// modelCoded describes how many patches of a model coder's payload the model coded.
func modelCoded(head []byte, h *container.Header) string {
	P := imageio.NewGrid(h.Width, h.Height).Len()
	in, err := bbcore.Inspect(head, P)
	switch {
	case err != nil:
		return fmt.Sprintf("model-coded patches: unknown (%v)", err)
	case in.YCC:
		return fmt.Sprintf("model-coded patches: 0 of %d (0%%): the fallback coder coded the Y'CbCr planes behind the pixels (a decoded JPEG or WebP)", P)
	case !in.VAE:
		return fmt.Sprintf("model-coded patches: 0 of %d (0%%): the fallback coder coded the whole image", P)
	}
	n := P - in.Clean
	return fmt.Sprintf("model-coded patches: %d of %d (%.0f%%)", n, P, 100*float64(n)/float64(P))
}
