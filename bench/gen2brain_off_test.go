//go:build !nodynamic

package bench

import (
	"strings"
	"testing"
)

func TestGen2brainLeftOutWithoutTag(t *testing.T) {
	for _, c := range Baselines(Settings{}) {
		if c.Key() == "webp" || c.Key() == "jxl" {
			t.Errorf("%s built without the nodynamic tag", c.Key())
		}
	}
	if _, err := Select(Baselines(Settings{}), []string{"webp"}); err == nil || !strings.Contains(err.Error(), "nodynamic") {
		t.Errorf("selecting webp: %v", err)
	}
	if u := Unavailable(); u["webp"] == "" || u["jxl"] == "" {
		t.Errorf("unavailable %v", u)
	}
}
