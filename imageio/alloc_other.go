//go:build !linux && !darwin

package imageio

// systemMemory is unknown on this system: only sizes beyond what a program can address are
// refused.
func systemMemory() uint64 { return 0 }
