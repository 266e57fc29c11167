package main

import (
	"os"
	"runtime"
	"runtime/debug"
)

// startupPolicy is everything tend does differently while it starts its
// services, kept only where it pays on a host (docs/BENCHMARKS.md, issue
// 11, measured on a fresh root and on a restart over an existing one):
//
//   - Writes a service does not need to start (hooks/, config/, data/,
//     var/ of a service whose run hook is exec'd directly and that has no
//     other hook or template) wait until start-up is over: service.Deps.Settled, closed by the manager just before it
//     calls settled.
//   - The heap is collected less often (startupGCPercent) while the
//     services start: it grows from nothing to its steady size then, and
//     with Go's default every doubling from 4 MiB is a collection (9-10
//     before the last of 500 services starts), each stopping the world and
//     taking a core's quarter on a host that is busy execing the services.
//   - Once settled, the collector's target is put back and the heap the
//     burst of renders, spawns and rumors left behind is handed back at
//     once, not over minutes.
//
// The moment start-up is over is the manager's: every start-up service has
// tried to start (manager.Config.Settled). GOGC stays Go's default (or the
// environment's) once settled: 25 saved 0.85 MiB of RssAnon with 500
// services and cost 0.02 s of CPU per idle 30 s, over the budget.
type startupPolicy struct {
	gcPercent int // to put back once settled; -2: left as it was
}

// startupGCPercent is the collector's target during start-up: a
// collection once the heap has grown by four times what was live at the
// last one, not by as much again. The heap it lets grow is handed back at
// settled; a GOGC set in the environment is left alone.
const startupGCPercent = 400

// newStartupPolicy enters the start-up phase.
func newStartupPolicy() *startupPolicy {
	// Nothing serves heap profiles; sampling would keep a bucket table of
	// a megabyte or more for nobody.
	runtime.MemProfileRate = 0
	p := &startupPolicy{gcPercent: -2}
	if os.Getenv("GOGC") == "" {
		p.gcPercent = debug.SetGCPercent(startupGCPercent)
	}
	return p
}

// settled enters the steady phase; the manager calls it once.
func (p *startupPolicy) settled() {
	if p.gcPercent != -2 {
		debug.SetGCPercent(p.gcPercent)
	}
	debug.FreeOSMemory()
}
