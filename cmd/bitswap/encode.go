package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/bitswap-codec/bitswap/bbans"
	"github.com/bitswap-codec/bitswap/bitswap"
	"github.com/bitswap-codec/bitswap/codec"
	"github.com/bitswap-codec/bitswap/imageio"
	"github.com/bitswap-codec/bitswap/internal/bbcore"
)

// defaultCoder is the best registered coder: bitswap, then bbans, then fallback.
func defaultCoder() string {
	for _, name := range []string{"bitswap", "bbans"} {
		if _, err := codec.Lookup(name); err == nil {
			return name
		}
	}
	return "fallback"
}

// modelFlag selects a weights file instead of the embedded model.
func modelFlag() cli.Flag {
	return &cli.StringFlag{Name: "model", Usage: "use the weights `FILE` (from bitswap train --export) instead of the embedded model; decoding needs the same one"}
}

// modelCoders returns the model-based coders on the --model weights, to use instead of the
// registered ones (codec.Options.Coders), or nil without the flag.
func modelCoders(c *cli.Context) ([]codec.Coder, error) {
	path := c.String("model")
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []codec.Coder
	for _, mk := range []func([]byte) (*bbcore.CodecCoder, error){bitswap.WithWeights, bbans.WithWeights} {
		cd, err := mk(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, cd)
	}
	return out, nil
}

func maxPixelsFlag() cli.Flag {
	return &cli.Int64Flag{Name: "max-pixels", Value: imageio.DefaultMaxPixels,
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
			&cli.StringFlag{Name: "coder", Value: defaultCoder(),
				Usage: "coder `NAME`: bitswap, bbans or fallback (registered: " + strings.Join(codec.Names(), ", ") + ")"},
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
	name := c.String("coder")
	if _, err := codec.Lookup(name); err != nil {
		return err
	}
	coders, err := modelCoders(c)
	if err != nil {
		return err
	}
	r, err := openInput(c, in)
	if err != nil {
		return err
	}
	defer r.Close()
	img, _, err := imageio.Decode(r, &imageio.DecodeOptions{MaxPixels: maxPixels(c)})
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	bar := newCodingBar(c.Context, c.App.ErrWriter, "encode")
	data, err := codec.Encode(img, name, &codec.Options{MaxPixels: maxPixels(c), Progress: bar.callback(), Coders: coders})
	bar.close(err == nil)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	return writeOutput(c, out, data, c.Bool("force"))
}
