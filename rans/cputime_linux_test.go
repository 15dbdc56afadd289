package rans

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time used by the calling OS thread (RUSAGE_THREAD), so that the
// benchmarks can report a rate per CPU-second that other processes on the machine hardly
// disturb.
func threadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
