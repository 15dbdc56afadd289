package main

import (
	"bytes"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/bitswap-codec/bitswap/bsw"
	"github.com/bitswap-codec/bitswap/imageio"
)

func decodeCommand() *cli.Command {
	return &cli.Command{
		Name:      "decode",
		Usage:     "decompress a .bsw file into a PNG",
		ArgsUsage: "IN",
		Description: `Reads the .bsw file IN ("-" for stdin) and writes a PNG with the original color
type and bit depth, by default IN with its extension replaced by .png ("-" for
stdout). The pixels are checked against the CRC-32C stored in the file; on any
error nothing is written. When stderr is a terminal, a progress bar shows the
patches decoded for large or slow images.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `OUT` (\"-\" for stdout)"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "overwrite OUT if it exists"},
			maxPixelsFlag(),
			modelFlag(),
		},
		Action: runDecode,
	}
}

func runDecode(c *cli.Context) error {
	in, err := oneArg(c, ".bsw file")
	if err != nil {
		return err
	}
	out := c.String("output")
	if out == "" {
		out = defaultOutput(in, ".png")
	}
	opts, err := codingOptions(c)
	if err != nil {
		return err
	}
	r, err := openInput(c, in)
	if err != nil {
		return err
	}
	defer r.Close()
	bar := newCodingBar(c.Context, c.App.ErrWriter, "decode")
	opts.Progress = bar.callback()
	img, err := bsw.DecodeImage(r, opts)
	bar.close(err == nil)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	// In the file's color type and depth, which image/png would not always keep.
	var buf bytes.Buffer
	if err := imageio.EncodePNG(&buf, img); err != nil {
		return err
	}
	return writeOutput(c, out, buf.Bytes(), c.Bool("force"))
}
