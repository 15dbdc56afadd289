//go:build !amd64

package nn

// HasAVX2 is false off amd64: the portable kernel is used.
const HasAVX2 = false

// UseAssembly is a no-op off amd64.
func UseAssembly(on bool) bool { return false }
