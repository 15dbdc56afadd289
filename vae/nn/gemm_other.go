//go:build !amd64

package nn

// archKernels returns the assembly kernels: none outside amd64.
func archKernels() []*kernelSpec { return nil }
