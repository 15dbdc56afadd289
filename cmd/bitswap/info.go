package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/bitswap-codec/bitswap/bsw"
	"github.com/bitswap-codec/bitswap/container"
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
	in, err := bsw.Inspect(r, &bsw.Options{MaxPixels: maxPixels(c)})
	if in == nil {
		return err
	}
	// A payload of another length than the header's (err) is shown before it is reported.
	printInfo(c.App.Writer, name, in)
	return err
}

// printInfo prints in, the description of the file name.
func printInfo(w io.Writer, name string, in *bsw.Info) {
	h := &in.Header
	fmt.Fprintf(w, "file:       %s\n", name)
	fmt.Fprintf(w, "format:     .bsw version %d\n", h.Version)
	avail := ""
	if bsw.CheckCoder(h.Coder.String()) != nil {
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
	rest := uint64(in.Size - container.HeaderSize)
	status := "complete"
	switch {
	case rest < h.PayloadLen:
		status = fmt.Sprintf("TRUNCATED: %d bytes present", rest)
	case rest > h.PayloadLen:
		status = fmt.Sprintf("%d bytes of TRAILING DATA", rest-h.PayloadLen)
	}
	fmt.Fprintf(w, "payload:    %d bytes, %s\n", h.PayloadLen, status)
	if h.Coder != container.Fallback {
		fmt.Fprintf(w, "%s\n", modelCoded(in))
	}
	dims := float64(h.Width) * float64(h.Height) * float64(h.Color.Channels())
	raw := dims * float64(h.Depth) / 8
	fmt.Fprintf(w, "size:       %d bytes, %.4f bits/subpixel, ratio %.3f to raw\n", in.Size, float64(in.Size)*8/dims, raw/float64(in.Size))
}

// modelCoded describes how many patches of a model coder's payload the model coded.
func modelCoded(in *bsw.Info) string {
	P := in.Patches
	switch {
	case in.ModeErr != nil:
		return fmt.Sprintf("model-coded patches: unknown (%v)", in.ModeErr)
	case in.Mode == bsw.ModeYCC:
		return fmt.Sprintf("model-coded patches: 0 of %d (0%%): the fallback coder coded the Y'CbCr planes behind the pixels (a decoded JPEG or WebP)", P)
	case in.Mode == bsw.ModeFallback:
		return fmt.Sprintf("model-coded patches: 0 of %d (0%%): the fallback coder coded the whole image", P)
	}
	n := in.ModelPatches
	return fmt.Sprintf("model-coded patches: %d of %d (%.0f%%)", n, P, 100*float64(n)/float64(P))
}
