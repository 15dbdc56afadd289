//go:build !linux

package rans

import "time"

func threadCPU() (time.Duration, bool) { return 0, false }
