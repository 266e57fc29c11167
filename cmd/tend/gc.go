package main

import (
	"runtime"
	"runtime/debug"
)

// gcPercent is the supervisor's GOGC. Its heap is small and almost
// constant once its services run, and it allocates little while idle, so a
// collection costs little and rarely happens; Go's default of 100 would
// let the heap grow to twice what is live. See docs/BENCHMARKS.md (RSS).
const gcPercent = 50

// tuneRuntime sets the runtime for a long-lived supervisor. GOGC in the
// environment still wins.
func tuneRuntime(getenv func(string) string) {
	// Nothing serves heap profiles; sampling would keep a bucket table
	// of a megabyte or more for nobody.
	runtime.MemProfileRate = 0
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
