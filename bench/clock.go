package bench

import (
	_ "unsafe" // for go:linkname
)

// nanotime is the runtime's CLOCK_MONOTONIC reading through the vDSO. The
// runtime keeps this linkname available on purpose (see runtime/time_nofake.go).
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// Now returns CLOCK_MONOTONIC in nanoseconds. The clock is shared by every
// process on the machine, so a stamp taken by one process can be compared with
// Now in another. Safe from any goroutine; it does not allocate or enter the
// kernel.
func Now() int64 { return nanotime() }
