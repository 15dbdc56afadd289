// Command bitswap compresses images losslessly into .bsw files and back.
//
//	bitswap encode IN [-o OUT] [-f] [--coder NAME] [--max-pixels N] [--model FILE]
//	bitswap decode IN [-o OUT] [-f] [--max-pixels N] [--model FILE]
//	bitswap info FILE...
//
// encode, decode and info are users of package bsw, the codec's Go API (which also links
// in the model coders); the files they read and write besides .bsw files go through
// package imageio. Each command lives in its own file as a function returning a
// *cli.Command; this file only assembles the app.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:    "bitswap",
		Usage:   "lossless image compression with bits-back coding and a hierarchical VAE",
		Version: version,
		Commands: []*cli.Command{
			encodeCommand(),
			decodeCommand(),
			infoCommand(),
			benchCommand(),
			trainCommand(),
		},
		Reader:          stdin,
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		// Errors are reported by run, which also picks the exit status; never os.Exit here.
		ExitErrHandler: func(*cli.Context, error) {},
	}
	// A mistyped flag gets a one-line error, not the whole help text.
	for _, cmd := range app.Commands {
		if cmd.OnUsageError == nil {
			cmd.OnUsageError = func(c *cli.Context, err error, _ bool) error {
				return usagef("%s: %v (see bitswap %s --help)", c.Command.Name, err, c.Command.Name)
			}
		}
	}
	return app
}

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// run runs the app with the given arguments and streams and returns the exit status:
// 0 on success, the code of a cli.ExitCoder error, 2 for usage errors, 1 otherwise.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := newApp(stdin, stdout, stderr)
	err := app.Run(interspersed(app, args))
	if err == nil {
		return 0
	}
	code := 1
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		code = ec.ExitCode()
	}
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "flag provided but not defined") ||
		strings.HasPrefix(err.Error(), "invalid value") {
		code = 2
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "bitswap: %s\n", msg)
	}
	return code
}

// usageError marks errors in how a command was called (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// interspersed moves a command's flags in front of its positional arguments, so that
// "encode in.png -o out.bsw" works: urfave/cli v2 stops parsing flags at the first
// positional argument. "-" alone is positional (stdin/stdout); "--" ends the flags.
func interspersed(app *cli.App, args []string) []string {
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "-" {
		i++
	}
	if i >= len(args) {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil {
		return args
	}
	var flags, pos []string
	rest := args[i+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			pos = append(pos, rest[j:]...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && takesValue(cmd, name) && j+1 < len(rest) {
				j++
				flags = append(flags, rest[j])
			}
			continue
		}
		pos = append(pos, a)
	}
	out := append([]string{}, args[:i+1]...)
	out = append(out, flags...)
	return append(out, pos...)
}

// takesValue reports whether the named flag of cmd takes a value (is not boolean).
func takesValue(cmd *cli.Command, name string) bool {
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*cli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}
