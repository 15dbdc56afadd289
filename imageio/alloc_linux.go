package imageio

import "golang.org/x/sys/unix"

// systemMemory returns the RAM plus swap of the machine (Linux: sysinfo(2)), 0 if unknown.
// A memory cgroup may allow less; that is not visible here.
func systemMemory() uint64 {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0
	}
	return (uint64(si.Totalram) + uint64(si.Totalswap)) * uint64(max(si.Unit, 1))
}
