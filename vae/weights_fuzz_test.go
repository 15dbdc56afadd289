package vae

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// FuzzWeights: a weights file (from `--model FILE`, possibly hostile) either loads into a
// model that writes the same bytes back (and that CheckWeights accepts), or is refused with
// an error; never a panic or an allocation beyond what the file's size implies. The fuzzer varies everything before the
// checksum, which it then fixes, so that it gets past the CRC.
func FuzzWeights(f *testing.F) {
	for _, cfg := range weightsSeedConfigs() {
		m, err := New(cfg, 1)
		if err != nil {
			f.Fatal(err)
		}
		w := m.MarshalWeights()
		f.Add(w[:len(w)-4])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		data := binary.LittleEndian.AppendUint32(append([]byte(nil), body...), crc32.ChecksumIEEE(body))
		check := CheckWeights(data) // the header and size only
		m, err := UnmarshalWeights(data)
		if err != nil {
			return
		}
		if check != nil {
			t.Fatalf("CheckWeights refused a file that loads: %v", check)
		}
		if again := m.MarshalWeights(); !bytes.Equal(again, data) {
			t.Fatalf("%d bytes in, %d written back", len(data), len(again))
		}
	})
}

// weightsSeedConfigs are small models written as weights versions 3, 4 and 5.
func weightsSeedConfigs() []Config {
	v3 := contextConfig()
	v3.StageBlocks = 0
	v4 := v3
	v4.Mixture, v4.Anchors, v4.PatchStats, v4.ErrorMaps, v4.FineBlocks = true, true, true, true, 1
	v5 := v4
	v5.CtxScales, v5.FineStages = true, 6
	return []Config{v3, v4, v5}
}

// TestWeightsSeedVersions: the fuzzer's seeds cover every weights version.
func TestWeightsSeedVersions(t *testing.T) {
	for i, cfg := range weightsSeedConfigs() {
		m, err := New(cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		if v := m.MarshalWeights()[4]; int(v) != 3+i {
			t.Fatalf("seed %d: version %d", i, v)
		}
	}
}
