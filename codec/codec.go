// Package codec ties the container format, the image representation and the coders
// together: a registry of coders, and Encode/Decode of complete .bsw files.
//
// The fallback coder is always registered. The VAE coders (bitswap, bbans) register
// themselves from their own packages with Register; a program that wants them imports
// those packages.
package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/bitswap-codec/bitswap/container"
	"github.com/bitswap-codec/bitswap/imageio"
)

// Options configure encoding and decoding. A nil *Options means the defaults.
type Options struct {
	// Progress, if set, is called from the coding goroutine with the units of work done so
	// far and their total (for the patch coders: patches).
	Progress func(done, total int)
	// MaxPixels bounds width*height of images read from a header (decoding) or accepted
	// for encoding: 0 means imageio.DefaultMaxPixels, negative no limit (sizes that could
	// never be allocated are still refused, see imageio.CheckAlloc).
	MaxPixels int64
	// Workers is the number of goroutines a coder may use; 0 means runtime.GOMAXPROCS.
	// Coders must produce the same bytes whatever the value.
	Workers int
	// Coders are used instead of the registered coders of the same name (encoding) or id
	// (decoding): a model coder with other weights, for instance. Nothing global changes.
	Coders []Coder
}

// lookup returns the coder of the given name: one of o.Coders, else a registered one.
func (o *Options) lookup(name string) (Coder, error) {
	if o != nil {
		for _, c := range o.Coders {
			if c.Name() == name {
				return c, nil
			}
		}
	}
	return Lookup(name)
}

// lookupID is lookup by coder id.
func (o *Options) lookupID(id container.CoderID) (Coder, error) {
	if o != nil {
		for _, c := range o.Coders {
			if c.ID() == id {
				return c, nil
			}
		}
	}
	return LookupID(id)
}

func (o *Options) limits() container.Limits {
	if o == nil {
		return container.Limits{}
	}
	return container.Limits{MaxPixels: o.MaxPixels}
}

// Coder turns images into payloads and back. Encode receives a valid image; Decode
// receives a header that has passed container validation (including the model id check)
// and must return an image of the header's shape, or an error (never a wrong-shaped image).
type Coder interface {
	ID() container.CoderID
	Name() string
	ModelID() [8]byte
	Encode(img *imageio.Image, opt *Options) ([]byte, error)
	Decode(h *container.Header, payload []byte, opt *Options) (*imageio.Image, error)
}

// MultiCore is implemented by coders that run on more than one goroutine: Cores returns the
// most goroutines their Encode and Decode keep running at once with the options opt. Other
// coders run on one.
type MultiCore interface {
	Cores(opt *Options) int
}

// Cores returns the most goroutines c keeps running at once with the options opt (see
// MultiCore).
func Cores(c Coder, opt *Options) int {
	if m, ok := c.(MultiCore); ok {
		return max(1, m.Cores(opt))
	}
	return 1
}

// ErrUnknownCoder is returned for a coder name or id that is not registered.
var ErrUnknownCoder = container.ErrUnknownCoder

var (
	mu       sync.RWMutex
	byName   = map[string]Coder{}
	byID     = map[container.CoderID]Coder{}
	reserved = map[string]container.CoderID{"fallback": container.Fallback, "bbans": container.BBANS, "bitswap": container.BitSwap}
)

// Register makes a coder available by name and id. It panics if the name or id is taken,
// if the id is not valid, or if a well-known name (fallback, bbans, bitswap) comes with
// another id than its own.
func Register(c Coder) {
	mu.Lock()
	defer mu.Unlock()
	name, id := c.Name(), c.ID()
	if !id.Valid() {
		panic(fmt.Sprintf("codec: coder %q has invalid id %d", name, id))
	}
	if want, ok := reserved[name]; ok && want != id {
		panic(fmt.Sprintf("codec: coder %q must have id %d, not %d", name, want, id))
	}
	if _, dup := byName[name]; dup {
		panic(fmt.Sprintf("codec: coder %q registered twice", name))
	}
	if _, dup := byID[id]; dup {
		panic(fmt.Sprintf("codec: coder id %d registered twice", id))
	}
	byName[name], byID[id] = c, c
}

// Lookup returns the registered coder with the given name.
func Lookup(name string) (Coder, error) {
	mu.RLock()
	defer mu.RUnlock()
	if c, ok := byName[name]; ok {
		return c, nil
	}
	if _, known := reserved[name]; known {
		return nil, fmt.Errorf("%w: %q is not available in this build (available: %v)", ErrUnknownCoder, name, namesLocked())
	}
	return nil, fmt.Errorf("%w: %q (available: %v)", ErrUnknownCoder, name, namesLocked())
}

// LookupID returns the registered coder with the given id.
func LookupID(id container.CoderID) (Coder, error) {
	mu.RLock()
	defer mu.RUnlock()
	if c, ok := byID[id]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("%w: the file needs the %v coder, which is not available in this build (available: %v)",
		ErrUnknownCoder, id, namesLocked())
}

// Names returns the names of the registered coders, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Encode encodes img with the named coder into a complete .bsw file.
func Encode(img *imageio.Image, coderName string, opt *Options) ([]byte, error) {
	var buf bytes.Buffer
	if err := EncodeTo(&buf, img, coderName, opt); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// EncodeTo is Encode writing to w.
func EncodeTo(w io.Writer, img *imageio.Image, coderName string, opt *Options) error {
	c, err := opt.lookup(coderName)
	if err != nil {
		return err
	}
	if err := img.Validate(); err != nil {
		return err
	}
	if err := imageio.CheckSize(int64(img.Width), int64(img.Height), opt.limits().MaxPixels); err != nil {
		return err
	}
	payload, err := c.Encode(img, opt)
	if err != nil {
		return fmt.Errorf("%s coder: %w", c.Name(), err)
	}
	h := container.Header{
		Version: container.Version, Coder: c.ID(), Color: img.Color, Depth: img.Depth,
		Width: img.Width, Height: img.Height, ModelID: c.ModelID(),
		PixelCRC: img.Checksum(), PayloadLen: uint64(len(payload)),
	}
	if h.PayloadLen > h.MaxPayloadLen() {
		// Never expected (see container.Header.MaxPayloadLen); decoders would refuse the file.
		return fmt.Errorf("%s coder: a %d-byte payload, more than the format allows for this image (at most %d)",
			c.Name(), h.PayloadLen, h.MaxPayloadLen())
	}
	hdr, err := h.Append(nil)
	if err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err = w.Write(payload)
	return err
}

// Decode decodes a complete .bsw file held in memory. It checks the header, the payload
// length, the coder and model id, and the pixel CRC: it returns the exact encoded image
// or an error.
func Decode(data []byte, opt *Options) (*imageio.Image, *container.Header, error) {
	h, payload, err := container.Split(data, opt.limits())
	if err != nil {
		return nil, nil, err
	}
	img, err := decodePayload(h, payload, opt)
	return img, h, err
}

// DecodeFrom reads a .bsw file from r, which must end with the file (see Decode). The
// header, the coder and the model id are checked before the payload is read, and the
// payload's buffer grows only as its bytes arrive (see container.ReadPayload): memory stays
// within a small multiple of the image's size, whatever the header claims.
func DecodeFrom(r io.Reader, opt *Options) (*imageio.Image, *container.Header, error) {
	h, err := container.Read(r, opt.limits())
	if err != nil {
		return nil, nil, err
	}
	if _, err := coderFor(h, opt); err != nil {
		return nil, h, err
	}
	payload, err := container.ReadPayload(r, h)
	if err != nil {
		return nil, h, err
	}
	img, err := decodePayload(h, payload, opt)
	return img, h, err
}

// coderFor returns the coder that decodes the file of header h: a coder (of opt.Coders, or
// registered) with the file's coder id and model id.
func coderFor(h *container.Header, opt *Options) (Coder, error) {
	c, err := opt.lookupID(h.Coder)
	if err != nil {
		return nil, err
	}
	if m := c.ModelID(); m != h.ModelID {
		return nil, fmt.Errorf("%w: the file was encoded with model %x, this program has model %x for the %s coder; "+
			"decode it with the weights it was made with", container.ErrModelMismatch, h.ModelID, m, c.Name())
	}
	return c, nil
}

func decodePayload(h *container.Header, payload []byte, opt *Options) (*imageio.Image, error) {
	c, err := coderFor(h, opt)
	if err != nil {
		return nil, err
	}
	img, err := c.Decode(h, payload, opt)
	if err != nil {
		if errors.Is(err, container.ErrCorrupt) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s payload: %v", container.ErrCorrupt, c.Name(), err)
	}
	if img.Width != h.Width || img.Height != h.Height || img.Color != h.Color || img.Depth != h.Depth {
		return nil, fmt.Errorf("%w: %s coder returned a %dx%d %v/%d image for a %dx%d %v/%d header", container.ErrCorrupt,
			c.Name(), img.Width, img.Height, img.Color, img.Depth, h.Width, h.Height, h.Color, h.Depth)
	}
	if err := img.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", container.ErrCorrupt, err)
	}
	if got := img.Checksum(); got != h.PixelCRC {
		return nil, fmt.Errorf("%w: pixel CRC-32C mismatch (decoded %08x, header says %08x)", container.ErrCorrupt, got, h.PixelCRC)
	}
	return img, nil
}
