package main

import (
	"runtime"
	"runtime/debug"
)

// The supervisor's GOGC: generous during start-up, a burst of renders,
// spawns and rumors whose garbage dies young, where collecting often costs
// start-up time; low afterwards, when the heap is small and almost constant
// and little is allocated, so a collection is cheap and rare while Go's
// default of 100 would let the heap grow to twice what is live. See
// docs/BENCHMARKS.md (start-up, RSS).
const (
	startupGCPercent = 200
	steadyGCPercent  = 50
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
		// Give the heap the burst left behind back now, not over minutes,
		// and the start-up code's pages of the binary with it.
		debug.FreeOSMemory()
		pageOutExecutable()
	}
}
