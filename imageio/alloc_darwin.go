package imageio

import "golang.org/x/sys/unix"

// systemMemory returns the RAM of the machine (macOS: hw.memsize), 0 if unknown. Swap is
// not counted: macOS grows it on demand.
func systemMemory() uint64 {
	n, err := unix.SysctlUint64("hw.memsize")
	if err != nil {
		return 0
	}
	return n
}
