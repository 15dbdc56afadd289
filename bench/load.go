package bench

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"strings"

	xwebp "golang.org/x/image/webp"
)

// imageExts are the file name extensions picked up when a directory is given.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".webp": true, ".gif": true}

// Inputs expands command-line arguments into inputs: a file stands for itself, a directory
// for the image files directly inside it (by extension, sorted by name; subdirectories are
// not searched). A missing path, or a directory without images, is an error.
func Inputs(args []string) ([]Input, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("bench: no images given")
	}
	var out []Input
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		if !st.IsDir() {
			out = append(out, FileInput(a))
			continue
		}
		ents, err := os.ReadDir(a)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		var names []string
		for _, e := range ents {
			if e.Type().IsRegular() && imageExts[strings.ToLower(filepath.Ext(e.Name()))] {
				names = append(names, e.Name())
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("bench: no image files (%s) in %s", strings.Join(sortedKeys(imageExts), " "), a)
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, FileInput(filepath.Join(a, n)))
		}
	}
	return out, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// FileInput is an input read from a file; its name is the file's base name.
func FileInput(path string) Input {
	return Input{Name: filepath.Base(path), Load: func() (*Image, error) { return LoadFile(path) }}
}

// LoadFile decodes a PNG, JPEG, WebP or GIF file (chosen by its signature, not its name) into
// an 8-bit Image. WebP is decoded with golang.org/x/image/webp explicitly, never through
// image.Decode, so that which WebP decoder runs does not depend on which packages are linked.
func LoadFile(path string) (*Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m image.Image
	r := bytes.NewReader(data)
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		m, err = png.Decode(r)
	case bytes.HasPrefix(data, []byte("\xff\xd8")):
		m, err = jpeg.Decode(r)
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		m, err = xwebp.Decode(r)
	case bytes.HasPrefix(data, []byte("GIF8")):
		m, err = gif.Decode(r)
	default:
		return nil, fmt.Errorf("%s: unknown image format", filepath.Base(path))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return FromStdImage(m)
}
