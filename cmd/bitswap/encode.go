package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/bitswap-codec/bitswap/bsw"
	"github.com/bitswap-codec/bitswap/imageio"
)

// modelFlag selects a weights file instead of the embedded model.
func modelFlag() cli.Flag {
	return &cli.StringFlag{Name: "model", Usage: "use the weights `FILE` (from bitswap train --export) instead of the embedded model; decoding needs the same one"}
}

// loadModel returns the model of the --model weights file, or nil (the embedded model)
// without the flag.
func loadModel(c *cli.Context) (*bsw.Model, error) {
	path := c.String("model")
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := bsw.LoadModel(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func maxPixelsFlag() cli.Flag {
	return &cli.Int64Flag{Name: "max-pixels", Value: bsw.DefaultMaxPixels,
		Usage: "refuse images of more than `N` pixels (width*height), checked before decoding them; " +
			"0 or less: no limit (images this machine cannot hold are still refused)"}
}

// maxPixels returns the --max-pixels limit as the library takes it: a non-positive value
// is "no limit", the library's -1 (its 0 would mean the default limit).
func maxPixels(c *cli.Context) int64 {
	if n := c.Int64("max-pixels"); n > 0 {
		return n
	}
	return -1
}

// codingOptions returns the options that the flags of encode or decode give (decode has no
// --coder). The caller sets Progress when the coding starts, which starts the bar's clock.
func codingOptions(c *cli.Context) (*bsw.Options, error) {
	m, err := loadModel(c)
	if err != nil {
		return nil, err
	}
	return &bsw.Options{Coder: c.String("coder"), MaxPixels: maxPixels(c), Model: m}, nil
}

func encodeCommand() *cli.Command {
	return &cli.Command{
		Name:      "encode",
		Usage:     "compress an image losslessly into a .bsw file",
		ArgsUsage: "IN",
		Description: `Reads IN (PNG, JPEG, GIF, BMP, TIFF, WebP, PPM/PGM; "-" for stdin) and writes
a .bsw file, by default IN with its extension replaced by .bsw ("-" for stdout).
Decoding it gives back exactly IN's pixels (see docs/format.md). When stderr is a
terminal, a progress bar shows the patches coded for large or slow images.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `OUT` (\"-\" for stdout)"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "overwrite OUT if it exists"},
			&cli.StringFlag{Name: "coder", Value: bsw.DefaultCoder(),
				Usage: "coder `NAME`: bitswap, bbans or fallback (registered: " + strings.Join(bsw.Coders(), ", ") + ")"},
			maxPixelsFlag(),
			modelFlag(),
		},
		Action: runEncode,
	}
}

func runEncode(c *cli.Context) error {
	in, err := oneArg(c, "input image")
	if err != nil {
		return err
	}
	out := c.String("output")
	if out == "" {
		out = defaultOutput(in, ".bsw")
	}
	if err := bsw.CheckCoder(c.String("coder")); err != nil {
		return err
	}
	opts, err := codingOptions(c)
	if err != nil {
		return err
	}
	bsw.Preload(opts) // the model loads on the other core while the input is decoded
	r, err := openInput(c, in)
	if err != nil {
		return err
	}
	defer r.Close()
	// imageio keeps the input's color type and depth, which EncodeImage stores as they are.
	img, _, err := imageio.Decode(r, &imageio.DecodeOptions{MaxPixels: maxPixels(c)})
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	bar := newCodingBar(c.Context, c.App.ErrWriter, "encode")
	opts.Progress = bar.callback()
	var buf bytes.Buffer
	err = bsw.EncodeImage(&buf, img, opts)
	bar.close(err == nil)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	return writeOutput(c, out, buf.Bytes(), c.Bool("force"))
}
