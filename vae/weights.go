package vae

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/bitswap-codec/bitswap/vae/nn"
	"hash/crc32"
	"io"
	"math"
)

// The weights file: what the coders need and nothing else. Little-endian:
//
//	"BSWM" | u8 version (3, 4 or 5) | u8 layers | u8 zc | u16 width | u8 in-kernel |
//	u8 pixel stages | u8 blocks per stage net | stage flags: u8 in version 3, u16 in
//	version 4 (1 skips, 2 hints, 4 edge hints, 8 position channels, 16 context, 32 pixel
//	mixture, 64 anchors, 128 patch statistics, 256 error maps, 512 context scales) | versions 4-5: u8 more
//	blocks of the finest stage nets | version 5: u8 how many finest stage nets have them
//	(not 0 or 4: version 4 means four) |
//	u8 blocks per inference net (layers) | u8 blocks per generative net (layers) |
//	float64 m0, s0 per latent channel (layers*zc pairs, layer-major): the bin references |
//	for every conv in Model.Convs() order: float32 effective weights [Cout][Cin][KH][KW],
//	float32 bias [Cout] |
//	u32 CRC-32 (IEEE) of everything before it.
//
// The model id written into .bsw files is the first 8 bytes of the SHA-256 of the file.
const (
	weightsMagic   = "BSWM"
	weightsVersion = 5
	// A model that an older version can describe (version 3: no flags above 255, no
	// FineBlocks; version 4: the FineBlocks in the four finest stages) is written as that
	// version, so that the same weights keep the same file, and model id.
	weightsVersion3 = 3
	weightsVersion4 = 4
)

// ErrBadWeights is returned for a weights file that cannot be read.
var ErrBadWeights = errors.New("vae: bad weights file")

// MarshalWeights encodes the model's effective weights and bins.
func (m *Model) MarshalWeights() []byte {
	var b bytes.Buffer
	c := m.Cfg
	flags := c.stageFlags()
	version := byte(weightsVersion3)
	if flags > 255 || c.FineBlocks > 0 {
		version = weightsVersion4
	}
	if c.FirstFineStage() != c.PixelStages-4 {
		version = weightsVersion
	}
	b.WriteString(weightsMagic)
	b.WriteByte(version)
	b.WriteByte(byte(c.Layers))
	b.WriteByte(byte(c.ZC))
	binary.Write(&b, binary.LittleEndian, uint16(c.Width))
	b.WriteByte(byte(c.InKernel))
	b.WriteByte(byte(c.PixelStages))
	b.WriteByte(byte(c.StageBlocks))
	b.WriteByte(byte(flags))
	if version >= weightsVersion4 {
		b.WriteByte(byte(flags >> 8))
		b.WriteByte(byte(c.FineBlocks))
	}
	if version >= 5 {
		b.WriteByte(byte(c.FineStages))
	}
	for _, v := range c.BlocksInf {
		b.WriteByte(byte(v))
	}
	for _, v := range c.BlocksGen {
		b.WriteByte(byte(v))
	}
	for _, r := range m.Bins {
		binary.Write(&b, binary.LittleEndian, r.M)
		binary.Write(&b, binary.LittleEndian, r.S)
	}
	for _, cv := range m.Convs() {
		binary.Write(&b, binary.LittleEndian, cv.W)
		binary.Write(&b, binary.LittleEndian, cv.Bias)
	}
	binary.Write(&b, binary.LittleEndian, crc32.ChecksumIEEE(b.Bytes()))
	return b.Bytes()
}

// ModelID is the id of a weights file: the first 8 bytes of its SHA-256.
func ModelID(weights []byte) [8]byte {
	h := sha256.Sum256(weights)
	var id [8]byte
	copy(id[:], h[:8])
	return id
}

// UnmarshalWeights decodes a weights file into an inference-ready model (effective weights
// only; it cannot be trained further).
func UnmarshalWeights(data []byte) (*Model, error) {
	cfg, rest, err := readHeader(data)
	if err != nil {
		return nil, err
	}
	return readBody(cfg, rest)
}

// CheckWeights tells whether data is a weights file with a valid checksum and header and
// of the size its header implies, without decoding the weights (a few milliseconds, where
// UnmarshalWeights takes tens): for refusing a bad file before it is needed.
func CheckWeights(data []byte) error {
	cfg, rest, err := readHeader(data)
	if err != nil {
		return err
	}
	m, err := newUnpacked(cfg, nil)
	if err != nil {
		return err
	}
	size := len(m.Bins) * 16
	for _, cv := range m.Convs() {
		size += 4 * (cv.Shape.WeightLen() + cv.Shape.Cout)
	}
	if len(rest) != size {
		return fmt.Errorf("%w: %d bytes of weights, the header implies %d", ErrBadWeights, len(rest), size)
	}
	return nil
}

// readHeader checks data's magic and checksum and reads its header: the model's Config and
// the bytes after the header (bin references, then weights).
func readHeader(data []byte) (Config, []byte, error) {
	if len(data) < 4+1+5+4 || string(data[:4]) != weightsMagic {
		return Config{}, nil, fmt.Errorf("%w: no magic", ErrBadWeights)
	}
	body := data[:len(data)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return Config{}, nil, fmt.Errorf("%w: checksum mismatch", ErrBadWeights)
	}
	r := bytes.NewReader(body[4:])
	var hdr struct {
		Version, Layers, ZC uint8
		Width               uint16
		InKernel            uint8
		Stages, StageBlocks uint8
	}
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil {
		return Config{}, nil, fmt.Errorf("%w: %v", ErrBadWeights, err)
	}
	if hdr.Version < 2 || hdr.Version > weightsVersion {
		return Config{}, nil, fmt.Errorf("%w: version %d", ErrBadWeights, hdr.Version)
	}
	var flags uint16
	if hdr.Version >= 3 {
		v, err := r.ReadByte()
		if err != nil {
			return Config{}, nil, fmt.Errorf("%w: bad stage flags", ErrBadWeights)
		}
		flags = uint16(v)
	}
	fine := byte(0)
	if hdr.Version >= 4 {
		v, err := r.ReadByte()
		if err != nil || v > 3 {
			return Config{}, nil, fmt.Errorf("%w: bad stage flags", ErrBadWeights)
		}
		flags |= uint16(v) << 8
		if fine, err = r.ReadByte(); err != nil {
			return Config{}, nil, fmt.Errorf("%w: %v", ErrBadWeights, err)
		}
	}
	fineStages := byte(0)
	if hdr.Version >= 5 {
		v, err := r.ReadByte()
		if err != nil || v == 0 || v == 4 {
			return Config{}, nil, fmt.Errorf("%w: bad fine stage count", ErrBadWeights)
		}
		fineStages = v
	}
	cfg := Config{Layers: int(hdr.Layers), ZC: int(hdr.ZC), Width: int(hdr.Width), InKernel: int(hdr.InKernel),
		PixelStages: int(hdr.Stages), StageBlocks: int(hdr.StageBlocks), FineBlocks: int(fine), FineStages: int(fineStages)}
	for _, f := range cfg.flagBits() {
		*f.on = flags&f.bit != 0
	}
	blocks := make([]byte, 2*cfg.Layers)
	if _, err := io.ReadFull(r, blocks); err != nil {
		return Config{}, nil, fmt.Errorf("%w: %v", ErrBadWeights, err)
	}
	for i := 0; i < cfg.Layers; i++ {
		cfg.BlocksInf = append(cfg.BlocksInf, int(blocks[i]))
		cfg.BlocksGen = append(cfg.BlocksGen, int(blocks[cfg.Layers+i]))
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, nil, fmt.Errorf("%w: %v", ErrBadWeights, err)
	}
	return cfg, body[len(body)-r.Len():], nil
}

// readBody reads the bin references and weights of a model of configuration cfg from b.
func readBody(cfg Config, b []byte) (*Model, error) {
	m, err := newUnpacked(cfg, nil)
	if err != nil {
		return nil, err
	}
	if len(b) < 16*len(m.Bins) {
		return nil, fmt.Errorf("%w: %v", ErrBadWeights, io.ErrUnexpectedEOF)
	}
	for i := range m.Bins {
		m.Bins[i].M = math.Float64frombits(binary.LittleEndian.Uint64(b[16*i:]))
		m.Bins[i].S = math.Float64frombits(binary.LittleEndian.Uint64(b[16*i+8:]))
		if !(m.Bins[i].S > 0) || math.IsInf(m.Bins[i].S, 0) || math.IsNaN(m.Bins[i].M) || math.IsInf(m.Bins[i].M, 0) {
			return nil, fmt.Errorf("%w: bad bin reference %v", ErrBadWeights, m.Bins[i])
		}
	}
	rest := b[16*len(m.Bins):] // the weights, read in place
	// The networks run on the integer path (quantized here, in parallel: it is most of a
	// load's time); the skips, whose outputs are the stage parameters themselves and need
	// more than 14-bit weights, stay float32.
	nets := make(map[*nn.Conv]bool)
	for _, cv := range m.NetConvs() {
		nets[cv] = true
	}
	convs := m.Convs()
	ws, bs := make([][]float32, len(convs)), make([][]float32, len(convs))
	for i, cv := range convs {
		if ws[i], rest, err = readFloats(rest, cv.Shape.WeightLen()); err != nil {
			return nil, err
		}
		if bs[i], rest, err = readFloats(rest, cv.Shape.Cout); err != nil {
			return nil, err
		}
	}
	nn.Parallel(len(convs), 1, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			if nets[convs[i]] {
				convs[i].SetQuantized(ws[i], bs[i])
			} else {
				convs[i].SetEffective(ws[i], bs[i])
			}
		}
	})
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBadWeights, len(rest))
	}
	return m, nil
}

// readFloats decodes n finite little-endian float32s from the front of b and returns the
// rest of b.
func readFloats(b []byte, n int) ([]float32, []byte, error) {
	if len(b) < 4*n {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadWeights, io.ErrUnexpectedEOF)
	}
	f := make([]float32, n)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		if math.IsNaN(float64(f[i])) || math.IsInf(float64(f[i]), 0) {
			return nil, nil, fmt.Errorf("%w: non-finite weight", ErrBadWeights)
		}
	}
	return f, b[4*n:], nil
}

// flagBit is a boolean option of a Config and its bit in the weights file's stage flags.
type flagBit struct {
	on  *bool
	bit uint16
}

// flagBits lists the boolean options of c with their bits.
func (c *Config) flagBits() []flagBit {
	return []flagBit{{&c.StageSkip, 1}, {&c.StageHints, 2}, {&c.EdgeHints, 4}, {&c.PosChannels, 8}, {&c.Context, 16},
		{&c.Mixture, 32}, {&c.Anchors, 64}, {&c.PatchStats, 128}, {&c.ErrorMaps, 256},
		{&c.CtxScales, 512}}
}

// stageFlags packs the boolean options of c as the weights file stores them.
func (c Config) stageFlags() uint16 {
	var flags uint16
	for _, f := range c.flagBits() {
		if *f.on {
			flags |= f.bit
		}
	}
	return flags
}
