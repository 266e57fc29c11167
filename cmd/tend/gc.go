package main

import (
	"runtime"
	"runtime/debug"
)

// The supervisor's GOGC: Go's default during start-up, a burst of renders,
// spawns and rumors; low afterwards, when the heap is small and almost
// constant and little is allocated, so a collection is cheap and rare
// while the default would let the heap grow to twice what is live. A
// higher start-up GOGC (200, 400) bought no measurable start-up time and
// left the heap fragmented: 2 MiB more resident afterwards. See
// docs/BENCHMARKS.md (start-up, RSS).
const (
	startupGCPercent = 100
	steadyGCPercent  = 25
)

// tuneRuntime sets the runtime for a long-lived supervisor and returns
// what to call once start-up is over. GOGC in the environment wins.
func tuneRuntime(getenv func(string) string) (settled func()) {
	// Nothing serves heap profiles; sampling would keep a bucket table
	// of a megabyte or more for nobody.
	runtime.MemProfileRate = 0
	gogc := getenv("GOGC") == ""
	if gogc {
		debug.SetGCPercent(startupGCPercent)
	}
	return func() {
		if gogc {
			debug.SetGCPercent(steadyGCPercent)
		}
		// Give the heap the burst left behind back now, not over minutes.
		debug.FreeOSMemory()
	}
}
