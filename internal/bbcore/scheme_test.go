package bbcore_test

import (
	"testing"

	"github.com/bitswap-codec/bitswap/bbans"
	"github.com/bitswap-codec/bitswap/bitswap"
	"github.com/bitswap-codec/bitswap/internal/bbcore"
)

// TestSchemesWellFormed: the two coders' lists are bits-back schemes for any depth.
func TestSchemesWellFormed(t *testing.T) {
	for _, sc := range []bbcore.Scheme{bitswap.Scheme{}, bbans.Scheme{}} {
		for L := 1; L <= 5; L++ {
			if err := bbcore.CheckScheme(sc, L); err != nil {
				t.Errorf("%T, %d layers: %v", sc, L, err)
			}
		}
	}
}
