package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
)

// openInput opens name for reading; "-" is the app's standard input.
func openInput(c *cli.Context, name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(c.App.Reader), nil
	}
	return os.Open(name)
}

// defaultOutput derives an output name from the input name: its extension (if any) is
// replaced by ext; "-" gives "-".
func defaultOutput(in, ext string) string {
	if in == "-" {
		return "-"
	}
	base := strings.TrimSuffix(in, filepath.Ext(in))
	if base == "" || strings.HasSuffix(base, string(filepath.Separator)) {
		base = in
	}
	return base + ext
}

// writeOutput writes data to name ("-" is the app's standard output). A file is written
// to a temporary file in the same directory, synced, and then moved into place, so no
// partial output is ever visible under name. Without force an existing file is never
// replaced, not even one created while we were writing.
func writeOutput(c *cli.Context, name string, data []byte, force bool) error {
	if name == "-" {
		if f, ok := c.App.Writer.(*os.File); ok && isCharDevice(f) {
			return usagef("refusing to write binary data to a terminal; use -o FILE or redirect stdout")
		}
		_, err := io.Copy(c.App.Writer, bytes.NewReader(data))
		return err
	}
	if !force {
		if _, err := os.Lstat(name); err == nil {
			return fmt.Errorf("%s already exists (use -f to overwrite)", name)
		}
	}
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // a no-op once it has been renamed or linked
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if force {
		return os.Rename(tmpName, name)
	}
	// A hard link fails if name exists, which closes the race with a concurrent creator.
	if err := os.Link(tmpName, name); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists (use -f to overwrite)", name)
		}
		// The file system may not support hard links: fall back to rename.
		if _, serr := os.Lstat(name); serr == nil {
			return fmt.Errorf("%s already exists (use -f to overwrite)", name)
		}
		return os.Rename(tmpName, name)
	}
	return nil
}

func isCharDevice(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// oneArg returns the single positional argument of a command.
func oneArg(c *cli.Context, what string) (string, error) {
	switch c.NArg() {
	case 1:
		return c.Args().First(), nil
	case 0:
		return "", usagef("%s: missing %s (see --help)", c.Command.Name, what)
	}
	return "", usagef("%s: expected one %s, got %d arguments: %q", c.Command.Name, what, c.NArg(), c.Args().Slice())
}
