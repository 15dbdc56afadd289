package bench

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoDynamicLoader checks the build graph of the command with and without the nodynamic
// tag (with `go list`): purego, the gen2brain libraries' way of loading a system
// libwebp/libjxl, is never linked; without the tag the gen2brain libraries are not linked at
// all, with it they are.
func TestNoDynamicLoader(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	for _, tags := range []string{"", "nodynamic"} {
		cmd := exec.Command(goTool, "list", "-deps", "-tags="+tags, "github.com/bitswap-codec/bitswap/cmd/bitswap")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -tags=%q: %v", tags, err)
		}
		deps := map[string]bool{}
		for _, p := range strings.Fields(string(out)) {
			deps[p] = true
		}
		if !deps["github.com/bitswap-codec/bitswap/bench"] {
			t.Fatalf("tags %q: the command does not link bench", tags)
		}
		for p := range deps {
			if strings.HasPrefix(p, "github.com/ebitengine/purego") {
				t.Errorf("tags %q: %s is linked: a system libwebp/libjxl could be loaded", tags, p)
			}
		}
		for _, p := range []string{"github.com/gen2brain/webp", "github.com/gen2brain/jpegxl"} {
			if deps[p] != (tags == "nodynamic") {
				t.Errorf("tags %q: %s linked = %v", tags, p, deps[p])
			}
		}
	}
}
