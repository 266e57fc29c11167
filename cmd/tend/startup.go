package main

import (
	"runtime"
	"runtime/debug"
)

// startupPolicy is everything tend does differently while it starts its
// services, kept only where it pays on a host (docs/BENCHMARKS.md, issue
// 11, measured on a fresh root and on a restart over an existing one):
//
//   - GOGC: Go's default (100) during start-up, a burst of renders, spawns
//     and rumors; 25 once settled, when the heap is small and almost
//     constant and little is allocated, so a collection is cheap and rare
//     while the default would let the heap grow to twice what is live. A
//     GOGC in the environment wins.
//   - Once settled, the heap the burst left behind is handed back at once,
//     not over minutes.
//   - Writes a service does not need to start (hooks/, config/, data/,
//     var/ of a service whose run hook is exec'd directly and that has no
//     other hook or template, and its PID file) wait until start-up is
//     over: service.Deps.Settled, closed by the manager at the moment it
//     calls settled.
//
// The moment start-up is over is the manager's: every start-up service has
// tried to start (manager.Config.Settled).
type startupPolicy struct {
	ownGOGC bool // no GOGC in the environment: the phases are ours to set
}

const (
	startupGCPercent = 100
	steadyGCPercent  = 25
)

// newStartupPolicy enters the start-up phase.
func newStartupPolicy(getenv func(string) string) *startupPolicy {
	// Nothing serves heap profiles; sampling would keep a bucket table of
	// a megabyte or more for nobody.
	runtime.MemProfileRate = 0
	p := &startupPolicy{ownGOGC: getenv("GOGC") == ""}
	if p.ownGOGC {
		debug.SetGCPercent(startupGCPercent)
	}
	return p
}

// settled enters the steady phase; the manager calls it once.
func (p *startupPolicy) settled() {
	if p.ownGOGC {
		debug.SetGCPercent(steadyGCPercent)
	}
	debug.FreeOSMemory()
}
