package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bitswap-codec/bitswap/imageio"
)

// imageExts are the file name extensions picked up when a directory is given.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".webp": true, ".gif": true,
	".bmp": true, ".tif": true, ".tiff": true, ".ppm": true, ".pgm": true}

// isFile tells whether the directory entry e at path is a regular file or a symbolic link to
// one.
func isFile(path string, e os.DirEntry) bool {
	if e.Type()&os.ModeSymlink == 0 {
		return e.Type().IsRegular()
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// Inputs expands command-line arguments into inputs: a file stands for itself, a directory
// for the image files directly inside it (by extension, sorted by name, symbolic links to
// files included, as a shell's glob would list them; subdirectories are not searched). A
// missing path, or a directory without images, is an error.
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
			if imageExts[strings.ToLower(filepath.Ext(e.Name()))] && isFile(filepath.Join(a, e.Name()), e) {
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
	// Two files with the same base name (from different directories) are told apart by
	// their paths as given.
	seen := map[string]int{}
	for _, in := range out {
		seen[in.Name]++
	}
	for i := range out {
		if seen[out[i].Name] > 1 {
			out[i].Name = out[i].path
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
	return Input{Name: filepath.Base(path), Load: func() (*Image, error) { return LoadFile(path) }, path: path}
}

// LoadFile decodes an image file with imageio (PNG, JPEG, GIF, BMP, TIFF, WebP, PPM/PGM: the
// formats and conversions of imageio.Decode) and converts it to an interleaved Image. Only
// 8-bit images are supported: the baselines here are all 8-bit.
func LoadFile(path string) (*Image, error) {
	m, _, err := imageio.DecodeFile(path, nil)
	if err != nil {
		return nil, err
	}
	return FromImageio(m)
}
